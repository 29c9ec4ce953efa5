"""21 CFR 11.200(a), 11.300(d): a wrong password at signing counts toward lockout, and the count
is kept even though the signing itself is abandoned and its transaction never commits.

These tests commit for real (transactional database), so "kept" means committed."""

from __future__ import annotations

import pytest
from django.db import transaction

from galenic.accounts.models import User
from galenic.core.errors import PermissionDenied, ValidationFailed
from galenic.signatures import services
from galenic.signatures.models import Signature

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("sign_glue_urls"),
    pytest.mark.usefixtures("signable_users"),
]


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.LOCKOUT_THRESHOLD = 3


def test_11_200_wrong_password_counts_toward_lockout(signer, personas, logged_in, post, password):
    url = f"/test-sign/user/{personas['operator'].pk}/"
    client = logged_in(signer)

    for attempt in (1, 2):
        answer = post(client, url, {"user_id": signer.username, "password": "wrong-password-1"})
        assert answer.status_code == 200
        assert "password is not correct" in answer.content.decode()
        assert User.objects.get(pk=signer.pk).failed_attempts == attempt

    locking = post(client, url, {"user_id": signer.username, "password": "wrong-password-1"})
    assert "locked" in locking.content.decode()
    refreshed = User.objects.get(pk=signer.pk)
    assert refreshed.is_locked
    assert refreshed.failed_attempts == 3

    # Locked: even the right password no longer signs (and the session has ended).
    client.force_login(User.objects.get(pk=signer.pk))
    after = post(client, url, {"user_id": signer.username, "password": password})
    assert after.status_code != 201
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_11_200_failed_count_survives_the_rollback_of_the_signing_transaction(signer, personas):
    """The two steps: authentication outside the feature's transaction, signing inside it."""
    with pytest.raises(ValidationFailed) as wrong:
        services.authenticate_signer(
            session=None, actor=signer, user_id=signer.username, password="nope-nope-nope"
        )
    assert wrong.value.field == "password"
    assert User.objects.get(pk=signer.pk).failed_attempts == 1

    with pytest.raises(services.SigningError), transaction.atomic():
        # Checking credentials inside the feature's transaction would lose the count on
        # rollback, so the service refuses to.
        services.authenticate_signer(
            session=None, actor=signer, user_id=signer.username, password="nope-nope-nope"
        )
    assert User.objects.get(pk=signer.pk).failed_attempts == 1
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_11_200_locked_user_cannot_sign(signer, password):
    for _ in range(3):
        with pytest.raises((ValidationFailed, PermissionDenied)):
            services.authenticate_signer(
                session=None, actor=signer, user_id=signer.username, password="bad-bad-bad-bad"
            )
    fresh = User.objects.get(pk=signer.pk)
    assert fresh.is_locked
    with pytest.raises(PermissionDenied):
        services.authenticate_signer(
            session=None, actor=fresh, user_id=fresh.username, password=password
        )
