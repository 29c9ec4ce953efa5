"""21 CFR 11.200(a)(1)(i): in one continuous session the first signing uses all components
(user ID and password), later signings at least one (the password)."""

from __future__ import annotations

import pytest

from galenic.signatures.models import Signature

pytestmark = [pytest.mark.urls("sign_glue_urls"), pytest.mark.usefixtures("signable_users")]


def test_11_200_first_signing_needs_id_and_password_then_password_only(
    signer, personas, logged_in, post, password
):
    record = personas["operator"]
    url = f"/test-sign/user/{record.pk}/"
    client = logged_in(signer)

    form = client.get(url).content.decode()
    assert 'name="user_id"' in form
    assert 'name="password"' in form

    # Password only at the first signing of the session: refused, nothing recorded.
    refused = post(client, url, {"password": password})
    assert refused.status_code == 200
    assert "Enter your user ID" in refused.content.decode()
    assert 'name="user_id"' in refused.content.decode()
    assert not Signature.objects.filter(object_type="accounts.user").exists()

    first = post(client, url, {"user_id": signer.username, "password": password})
    assert first.status_code == 201, first.content.decode()

    # Same session: the form no longer asks for the user ID, and the password alone signs.
    assert 'name="user_id"' not in client.get(url).content.decode()
    second = post(client, url, {"password": password})
    assert second.status_code == 201, second.content.decode()

    signatures = list(Signature.objects.filter(object_type="accounts.user").order_by("id"))
    assert [s.credentials for s in signatures] == ["user_id+password", "password"]
    assert {s.signer_id for s in signatures} == {signer.pk}


def test_11_200_api_tells_whether_the_user_id_is_needed(
    signer, personas, logged_in, post, password
):
    client = logged_in(signer)
    assert client.get("/api/v1/signatures/credentials").json()["needs_user_id"] is True
    url = f"/test-sign/user/{personas['operator'].pk}/"
    assert post(client, url, {"user_id": signer.username, "password": password}).status_code == 201
    answer = client.get("/api/v1/signatures/credentials").json()
    assert answer == {
        "mode": "session",
        "needs_user_id": False,
        "policy_acknowledged": True,
        "policy_version": answer["policy_version"],
    }


def test_11_200_password_only_still_checks_a_given_user_id(
    signer, personas, logged_in, post, password
):
    """After the first signing a user ID is optional, but if sent it must be the signer's own."""
    client = logged_in(signer)
    url = f"/test-sign/user/{personas['operator'].pk}/"
    assert post(client, url, {"user_id": signer.username, "password": password}).status_code == 201
    other = personas["approver"]
    refused = post(client, url, {"user_id": other.username, "password": password})
    assert "not yours" in refused.content.decode()
    assert Signature.objects.filter(object_type="accounts.user").count() == 1
