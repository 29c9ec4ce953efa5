"""How features must use the signing service: registered content, the authority's lifetime, and
signing exactly what the signer saw."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction

from galenic.accounts.models import RoleGrant
from galenic.core.errors import Conflict, ValidationFailed
from galenic.signatures import registry, services
from galenic.signatures.models import Signature

pytestmark = pytest.mark.usefixtures("signable_users")


def test_unregistered_records_cannot_be_signed(signer, personas, authenticate):
    grant = RoleGrant.objects.get(user=personas["operator"])
    authority = authenticate(signer)
    with pytest.raises(registry.NotSignable), transaction.atomic():
        services.sign(authority=authority, obj=grant, meaning="approved")


def test_content_shown_must_be_the_content_signed(signer, personas, authenticate):
    record = personas["operator"]
    authority = authenticate(signer)
    with pytest.raises(Conflict), transaction.atomic():
        services.sign(
            authority=authority,
            obj=record,
            meaning="approved",
            content={"user_id": record.username, "printed_name": "Someone Else", "email": ""},
        )
    authority = authenticate(signer)
    with transaction.atomic():
        signature = services.sign(
            authority=authority,
            obj=record,
            meaning="approved",
            content={"email": "", "printed_name": record.full_name, "user_id": record.username},
        )
    assert signature.content_json == (
        f'{{"email":"","printed_name":"{record.full_name}","user_id":"{record.username}"}}'
    )


def test_authority_expires(signer, personas, authenticate, monkeypatch):
    authority = authenticate(signer)
    authority.authenticated_at -= services.AUTHORITY_TTL + timedelta(seconds=1)
    with pytest.raises(ValidationFailed) as refused, transaction.atomic():
        services.sign(authority=authority, obj=personas["operator"], meaning="approved")
    assert refused.value.field == "password"
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_registering_twice_with_another_function_is_refused():
    with pytest.raises(ValueError, match="already registered"):
        registry.register("accounts.user", lambda u: {})


def test_load_tolerates_ids_of_the_wrong_shape(db):
    assert registry.load("accounts.user", "not-a-number") is None


def test_verify_inside_the_signing_transaction(signer, personas, authenticate):
    """A feature may show the new signature before its transaction commits."""
    from galenic.signatures.verify import SignatureStatus, verify

    authority = authenticate(signer)
    with transaction.atomic():
        signature = services.sign(authority=authority, obj=personas["operator"], meaning="approved")
        assert verify(signature) is SignatureStatus.VALID
    assert verify(signature) is SignatureStatus.VALID
