"""21 CFR 11.70: a signature cannot be excised, copied or transferred to another record. Moving
the row, copying it, or forging one with every hash recomputed is caught."""

from __future__ import annotations

import uuid

import pytest

from galenic.signatures import selectors
from galenic.signatures.binding import binding_sha256
from galenic.signatures.models import PolicyAcknowledgement, Signature
from galenic.signatures.verify import SignatureStatus, verify

pytestmark = pytest.mark.usefixtures("signable_users")


def test_11_70_moving_signature_to_other_record_fails(signer, personas, sign_record, raw_sql):
    approved, other = personas["operator"], personas["verifier"]
    signature = sign_record(signer, approved, "approved")
    raw_sql(
        "UPDATE signatures_signature SET object_id = %s WHERE id = %s",
        [str(other.pk), signature.pk],
    )
    moved = Signature.objects.get(pk=signature.pk)
    assert verify(moved) is SignatureStatus.BINDING_BROKEN
    [entry] = selectors.signatures_for_object(other)
    assert not entry.ok
    assert entry.status.label.startswith("Changed after signing")
    assert selectors.signatures_for_object(approved) == []


def test_11_70_moving_with_recomputed_hashes_is_caught_by_the_audit_trail(
    signer, personas, acknowledge, raw_sql
):
    """A tamperer who knows the algorithm moves a signature and recomputes every hash of the
    row: the binding recorded in the hash-chained audit trail no longer matches."""
    other = personas["approver"]
    acknowledge(other)
    mine = PolicyAcknowledgement.objects.get(user=signer)
    theirs = PolicyAcknowledgement.objects.get(user=other)
    signature = Signature.objects.get(
        object_type="signatures.policyacknowledgement", object_id=str(mine.pk)
    )
    their_signature = Signature.objects.get(
        object_type="signatures.policyacknowledgement", object_id=str(theirs.pk)
    )

    # Move my acknowledgement signature onto their acknowledgement, copying their content hash
    # so the content check passes, and recompute the binding.
    signature.object_id = str(theirs.pk)
    signature.content_json = their_signature.content_json
    signature.content_sha256 = their_signature.content_sha256
    forged = binding_sha256(signature.binding_fields())
    raw_sql(
        "UPDATE signatures_signature SET object_id = %s, content_json = %s, content_sha256 = %s, "
        "binding_sha256 = %s WHERE id = %s",
        [
            signature.object_id,
            signature.content_json,
            signature.content_sha256,
            forged,
            signature.pk,
        ],
    )
    moved = Signature.objects.get(pk=signature.pk)
    assert verify(moved) is SignatureStatus.BINDING_BROKEN
    statuses = {e.signature.pk: e.status for e in selectors.signatures_for_object(theirs)}
    assert statuses == {
        their_signature.pk: SignatureStatus.VALID,
        signature.pk: SignatureStatus.BINDING_BROKEN,
    }


def test_11_70_copying_a_signature_to_another_record_is_caught(
    signer, personas, sign_record, raw_sql
):
    """A copy with a fresh uid and every hash recomputed has no signing event in the audit trail."""
    approved, other = personas["operator"], personas["verifier"]
    original = sign_record(signer, approved, "approved")
    sign_record(signer, other, "reviewed")  # gives `other` a real content hash to copy from
    other_content = Signature.objects.get(object_id=str(other.pk)).content_json

    copy = Signature.objects.get(pk=original.pk)
    copy.pk = None
    copy.uid = uuid.uuid4()
    copy.object_id = str(other.pk)
    copy.content_json = other_content
    copy.content_sha256 = Signature.objects.get(object_id=str(other.pk)).content_sha256
    copy.binding_sha256 = binding_sha256(copy.binding_fields())
    raw_sql(
        "INSERT INTO signatures_signature (uid, signer_id, signer_user_id, signer_name, meaning, "
        "signed_at, time_zone, object_type, object_id, content_json, content_sha256, reason, "
        "request_id, credentials, binding_sha256) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        [
            copy.uid.hex if _sqlite() else str(copy.uid),
            copy.signer_id,
            copy.signer_user_id,
            copy.signer_name,
            copy.meaning,
            copy.signed_at,
            copy.time_zone,
            copy.object_type,
            copy.object_id,
            copy.content_json,
            copy.content_sha256,
            copy.reason,
            copy.request_id,
            copy.credentials,
            copy.binding_sha256,
        ],
    )
    statuses = sorted(e.status.value for e in selectors.signatures_for_object(other))
    assert statuses == ["binding_broken", "valid"]


def _sqlite() -> bool:
    from django.db import connection

    return connection.vendor == "sqlite"
