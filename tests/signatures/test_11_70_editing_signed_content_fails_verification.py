"""21 CFR 11.70 (and PIC/S PI 041: a later edit invalidates the signature): a signature is bound
to the hash of the canonical content signed; when the record changes after signing, verification
fails and every screen shows "changed after signing"."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from galenic.accounts.models import User
from galenic.cli import app
from galenic.signatures import selectors
from galenic.signatures.models import PolicyAcknowledgement
from galenic.signatures.verify import SignatureStatus, verify

pytestmark = pytest.mark.usefixtures("signable_users")


def _edit(record: User, **values: str) -> None:
    fresh = User.objects.get(pk=record.pk)
    for name, value in values.items():
        setattr(fresh, name, value)
    fresh.save(update_fields=list(values))


def test_11_70_editing_signed_content_fails_verification(signer, personas, sign_record):
    record = personas["operator"]
    signature = sign_record(signer, record, "reviewed")
    assert verify(signature) is SignatureStatus.VALID

    # The record is changed through the ORM after signing (no raw SQL needed).
    _edit(record, full_name="Olivia Someone-Else")
    assert verify(signature) is SignatureStatus.CHANGED
    [entry] = selectors.signatures_for_object(record)
    assert entry.status is SignatureStatus.CHANGED
    assert entry.changed_fields == ("printed_name",)
    assert entry.status.label.startswith("Changed after signing")

    # Put back exactly what was signed: the content hash matches again.
    _edit(record, full_name=record.full_name)
    assert verify(signature) is SignatureStatus.VALID


def test_11_70_editing_the_signed_acknowledgement_with_sql_fails(signer, raw_sql):
    ack = PolicyAcknowledgement.objects.get(user=signer)
    [entry] = selectors.signatures_for_object(ack)
    assert entry.ok
    raw_sql(
        "UPDATE signatures_policyacknowledgement SET policy_text = %s WHERE id = %s",
        ["I agree to nothing.", ack.pk],
    )
    [entry] = selectors.signatures_for_object(ack)
    assert entry.status is SignatureStatus.CHANGED
    assert entry.changed_fields == ("policy_text",)


def test_11_70_ui_api_and_cli_show_changed_after_signing(signer, personas, sign_record, logged_in):
    record = personas["operator"]
    signature = sign_record(signer, record, "reviewed")
    _edit(record, email="changed@example.org")
    client = logged_in(personas["inspector"])

    page = client.get(
        "/signatures/list/",
        {"object_type": "accounts.user", "object_id": record.pk},
        headers={"HX-Request": "true"},
    ).content.decode()
    assert "Changed after signing" in page
    assert "email" in page

    [item] = client.get(
        "/api/v1/signatures/", {"object_type": "accounts.user", "object_id": record.pk}
    ).json()
    assert item["status"] == "changed_after_signing"
    assert item["status_label"].startswith("Changed after signing")
    assert item["changed_fields"] == ["email"]

    result = CliRunner().invoke(app, ["signatures", "verify"])
    assert result.exit_code == 2
    assert f"signature #{signature.pk}" in result.output
    assert f"accounts.user:{record.pk}" in result.output
    assert "Changed after signing" in result.output
