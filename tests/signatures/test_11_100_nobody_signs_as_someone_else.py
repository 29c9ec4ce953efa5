"""21 CFR 11.100(a), 11.200(a)(2): a signature is unique to one person; nobody signs as someone
else, whatever credentials they hold."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction

from galenic.accounts.models import User
from galenic.core.errors import PermissionDenied
from galenic.core.timefmt import utcnow
from galenic.signatures import services
from galenic.signatures.models import Signature

pytestmark = pytest.mark.usefixtures("signable_users")


def test_11_100_nobody_signs_as_someone_else(signer, personas, acknowledge, password):
    victim = personas["approver"]
    acknowledge(victim)

    # Logged in as the signer, typing someone else's user ID (even with their right password).
    with pytest.raises(PermissionDenied) as refused:
        services.authenticate_signer(
            session=None, actor=signer, user_id=victim.username, password=password
        )
    assert refused.value.field == "user_id"
    # It counts as a failed attempt of the person at the keyboard.
    assert User.objects.get(pk=signer.pk).failed_attempts == 1
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_11_100_a_hand_made_authority_is_refused(signer, personas):
    forged = services.SignerAuthority(
        user=signer, credentials="user_id+password", authenticated_at=utcnow(), request_id="x"
    )
    with pytest.raises(services.SigningError), transaction.atomic():
        services.sign(authority=forged, obj=personas["operator"], meaning="reviewed")
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_11_100_an_authority_signs_once(signer, personas, authenticate):
    authority = authenticate(signer)
    with transaction.atomic():
        services.sign(authority=authority, obj=personas["operator"], meaning="reviewed")
    with pytest.raises(services.SigningError), transaction.atomic():
        services.sign(authority=authority, obj=personas["verifier"], meaning="reviewed")
    assert Signature.objects.filter(object_type="accounts.user").count() == 1


def test_11_100_an_authority_cannot_be_used_by_another_actor(signer, personas, authenticate):
    authority = authenticate(signer)
    with pytest.raises(PermissionDenied), transaction.atomic():
        services.sign(
            authority=authority,
            obj=personas["operator"],
            meaning="reviewed",
            actor=personas["approver"],
        )
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_11_100_session_marker_is_personal(signer, personas, acknowledge, authenticate):
    session = SessionStore()
    authenticate(signer, session=session)
    assert services.needs_user_id(session, actor=signer) is False
    assert services.needs_user_id(session, actor=personas["approver"]) is True


def test_11_100_signature_names_the_authenticated_person(signer, personas, sign_record):
    signature = sign_record(signer, personas["operator"])
    assert (signature.signer_id, signature.signer_user_id, signature.signer_name) == (
        signer.pk,
        signer.username,
        signer.full_name,
    )
