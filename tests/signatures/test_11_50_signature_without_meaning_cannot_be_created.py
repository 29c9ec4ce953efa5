"""21 CFR 11.50(a)(3): a signature without a meaning cannot be created, by the service or in the
database."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.signatures import services
from galenic.signatures.models import Signature

pytestmark = pytest.mark.usefixtures("signable_users")


@pytest.mark.parametrize("meaning", ["", None, "liked"])
def test_11_50_signature_without_meaning_cannot_be_created(meaning, signer, personas, authenticate):
    authority = authenticate(signer)
    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        services.sign(authority=authority, obj=personas["operator"], meaning=meaning)
    assert refused.value.field == "meaning"
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_11_50_database_refuses_a_signature_without_meaning(signer):
    row = Signature(
        signer=signer,
        signer_user_id=signer.username,
        signer_name=signer.full_name,
        meaning="",
        signed_at=utcnow(),
        time_zone="UTC",
        object_type="accounts.user",
        object_id="1",
        content_json="{}",
        content_sha256="0" * 64,
        credentials="password",
        binding_sha256="0" * 64,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        row.save(force_insert=True)


def test_rejection_needs_a_reason(signer, personas, authenticate):
    authority = authenticate(signer)
    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        services.sign(authority=authority, obj=personas["operator"], meaning="rejected")
    assert refused.value.field == "reason"
    # Refused before the authority was used: it still signs, with a reason.
    with transaction.atomic():
        signature = services.sign(
            authority=authority,
            obj=personas["operator"],
            meaning="rejected",
            reason="wrong lot",
        )
    assert signature.reason == "wrong lot"
