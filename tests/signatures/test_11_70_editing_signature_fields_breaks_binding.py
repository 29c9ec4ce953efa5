"""21 CFR 11.70: the binding hash covers every field of the signature, so editing any of them
(name, ID, meaning, time, zone, reason, record, content hash, ...) is detected."""

from __future__ import annotations

from datetime import timedelta

import pytest

from galenic.signatures.models import Signature
from galenic.signatures.verify import SignatureStatus, verify

pytestmark = pytest.mark.usefixtures("signable_users")

EDITS = {
    "signer_name": "Somebody Else",
    "signer_user_id": "somebody",
    "meaning": "approved",
    "time_zone": "America/New_York",
    "reason": "added later",
    "object_type": "signatures.policyacknowledgement",
    "content_sha256": "0" * 64,
    "content_json": '{"user_id":"x"}',
    "credentials": "password",
    "request_id": "0" * 32,
}


@pytest.mark.parametrize("column", sorted(EDITS))
def test_11_70_editing_any_signature_field_breaks_binding(
    column, signer, personas, sign_record, raw_sql
):
    signature = sign_record(signer, personas["operator"], "reviewed")
    raw_sql(
        f"UPDATE signatures_signature SET {column} = %s WHERE id = %s",
        [EDITS[column], signature.pk],
    )
    assert verify(Signature.objects.get(pk=signature.pk)) is SignatureStatus.BINDING_BROKEN


def test_11_70_backdating_a_signature_breaks_binding(signer, personas, sign_record, raw_sql):
    signature = sign_record(signer, personas["operator"], "reviewed")
    raw_sql(
        "UPDATE signatures_signature SET signed_at = %s WHERE id = %s",
        [signature.signed_at - timedelta(days=1), signature.pk],
    )
    assert verify(Signature.objects.get(pk=signature.pk)) is SignatureStatus.BINDING_BROKEN


def test_11_70_reassigning_the_signer_breaks_binding(signer, personas, sign_record, raw_sql):
    signature = sign_record(signer, personas["operator"], "reviewed")
    raw_sql(
        "UPDATE signatures_signature SET signer_id = %s WHERE id = %s",
        [personas["approver"].pk, signature.pk],
    )
    assert verify(Signature.objects.get(pk=signature.pk)) is SignatureStatus.BINDING_BROKEN
