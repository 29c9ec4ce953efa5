"""The signatures API: a record's signatures with manifestation and status; errors in the
standard shape."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("signable_users")


def test_list_signatures_of_a_record(signer, personas, sign_record, logged_in):
    record = personas["operator"]
    first = sign_record(signer, record, "reviewed")
    second = sign_record(signer, record, "approved", "all fine")
    client = logged_in(personas["inspector"])
    items = client.get(
        "/api/v1/signatures/", {"object_type": "accounts.user", "object_id": record.pk}
    ).json()
    assert [i["uid"] for i in items] == [str(first.uid), str(second.uid)]
    item = items[1]
    assert item["object_type"] == "accounts.user"
    assert item["object_id"] == str(record.pk)
    assert item["signer_user_id"] == signer.username
    assert item["printed_name"] == signer.full_name
    assert item["meaning"] == "approved"
    assert item["meaning_label"] == "Approved"
    assert item["reason"] == "all fine"
    assert item["signed_at"].endswith("Z")
    assert item["status"] == "valid"
    assert item["changed_fields"] == []
    assert item["content_sha256"] == second.content_sha256
    assert "all fine" in item["manifestation"]["text"]


def test_unknown_object_type_is_a_field_error(signer, logged_in):
    client = logged_in(signer)
    answer = client.get("/api/v1/signatures/", {"object_type": "nope.nothing", "object_id": "1"})
    assert answer.status_code == 400
    body = answer.json()
    assert body["code"] == "invalid"
    assert body["errors"][0]["field"] == "object_type"


def test_missing_query_parameters_are_field_errors(signer, logged_in):
    answer = logged_in(signer).get("/api/v1/signatures/")
    assert answer.status_code == 400
    assert {e["field"] for e in answer.json()["errors"]} == {"object_type", "object_id"}


def test_unauthenticated_is_401(client, db):
    answer = client.get("/api/v1/signatures/", {"object_type": "accounts.user", "object_id": "1"})
    assert answer.status_code == 401


def test_signature_in_schema_is_in_openapi(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    schema = spec["components"]["schemas"]["SignatureIn"]
    assert set(schema["properties"]) == {"user_id", "password", "reason", "content_sha256"}
    assert schema["required"] == ["password"]
    assert schema["properties"]["password"]["format"] == "password"


def test_ui_list_names_a_bad_object_type(signer, logged_in):
    page = logged_in(signer).get("/signatures/list/", {"object_type": "nope.x", "object_id": "1"})
    assert page.status_code == 400
    assert "is not a signable record type" in page.content.decode()


def test_api_authenticate_checks_a_required_reason_before_the_password(signer):
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    from galenic.accounts.models import User
    from galenic.core.errors import ValidationFailed
    from galenic.signatures.api import authenticate
    from galenic.signatures.schemas import SignatureIn

    request = RequestFactory().post("/")
    request.user = signer
    request.session = SessionStore()
    payload = SignatureIn(user_id=signer.username, password="wrong-but-unchecked")
    with pytest.raises(ValidationFailed) as refused:
        authenticate(request, payload, reason_required=True)
    assert refused.value.field == "reason"
    assert User.objects.get(pk=signer.pk).failed_attempts == 0
