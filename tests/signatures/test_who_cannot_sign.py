"""21 CFR 11.10(d)(g), 11.300 and Data Integrity Q4: only active, unlocked people whose role
includes signing can sign; inspectors (read-only) and pure administrators cannot."""

from __future__ import annotations

import pytest

from galenic.accounts import services as accounts
from galenic.accounts.models import User
from galenic.core.errors import NotAuthenticated, PermissionDenied
from galenic.signatures import selectors, services


def _deactivate(user):
    # Directly, standing in for the accounts service: only the signing side is under test.
    fresh = User.objects.get(pk=user.pk)
    fresh.is_active = False
    fresh.save(update_fields=["is_active"])


def _sign_own_acknowledgement(user, authority):
    from django.db import transaction

    from galenic.signatures.models import PolicyAcknowledgement

    with transaction.atomic():
        return services.sign(
            authority=authority,
            obj=PolicyAcknowledgement.objects.get(user=user),
            meaning="reviewed",
        )


def _attempt(user, password):
    return services.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=password
    )


@pytest.mark.parametrize("role", ["inspector", "admin"])
def test_read_only_and_admin_roles_cannot_sign(role, personas, password):
    with pytest.raises(PermissionDenied):
        _attempt(personas[role], password)


@pytest.mark.parametrize(
    "role", ["operator", "verifier", "supervisor", "engineer", "reviewer", "approver"]
)
def test_signing_roles_can_authenticate(role, personas, password):
    assert _attempt(personas[role], password).user == personas[role]


def test_deactivated_user_cannot_sign(personas, password):
    user = personas["operator"]
    _deactivate(user)
    with pytest.raises(PermissionDenied):
        _attempt(User.objects.get(pk=user.pk), password)


def test_user_deactivated_between_password_and_signing_cannot_sign(personas, password, acknowledge):
    user = personas["operator"]
    acknowledge(user)
    authority = _attempt(user, password)
    _deactivate(user)
    with pytest.raises(PermissionDenied):
        _sign_own_acknowledgement(user, authority)


def test_anonymous_cannot_sign(db, password):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(NotAuthenticated):
        services.authenticate_signer(
            session=None, actor=AnonymousUser(), user_id="x", password=password
        )


def test_role_revoked_between_password_and_signing_cannot_sign(personas, password, acknowledge):
    """The signer's roles are read again at the signing, in its transaction, not taken from the
    account object the password was checked against."""
    from galenic.core.context import action_context

    user = personas["operator"]
    acknowledge(user)
    authority = _attempt(user, password)
    with action_context("test"):
        accounts.revoke_role(
            actor=personas["admin"], user=user, role="operator", reason="moved to the warehouse"
        )
    assert "operator" in user.role_codes()  # the stale object still says so
    with pytest.raises(PermissionDenied):
        _sign_own_acknowledgement(user, authority)


def test_signer_state_is_one_read_of_account_roles_and_policy(
    personas, acknowledge, django_assert_num_queries
):
    user = personas["supervisor"]
    with django_assert_num_queries(1):
        signer, acknowledged = selectors.signer_now(user.pk)
        roles = signer.role_codes() if signer is not None else None  # from the same read
    assert signer is not None
    assert signer.username == user.username
    assert roles == User.objects.get(pk=user.pk).role_codes()
    assert acknowledged is False
    acknowledge(user)
    assert selectors.signer_now(user.pk)[1] is True
    assert selectors.signer_now(10**9) == (None, False)
