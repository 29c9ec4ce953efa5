"""accounts.services.verify_credentials: the check every e-signature goes through
(21 CFR 11.200(a), 11.300(d))."""

from __future__ import annotations

import pytest
from django.db import transaction

from galenic.accounts import services
from galenic.accounts.models import User
from galenic.core.errors import PermissionDenied, ValidationFailed


def test_11_200_right_id_and_password_pass_and_reset_the_counter(password, personas):
    user = personas["operator"]
    User.objects.filter(pk=user.pk).update(failed_attempts=2)
    services.verify_credentials(
        user_id="OLIVIA", password=password, expected_user=user, purpose="signature"
    )
    assert User.objects.get(pk=user.pk).failed_attempts == 0


def test_11_200_password_only_for_later_signings(password, personas):
    services.verify_credentials(
        user_id=None, password=password, expected_user=personas["operator"], purpose="signature"
    )


def test_11_300_d_wrong_password_counts_and_is_a_security_event(personas, events):
    user = personas["operator"]
    with pytest.raises(ValidationFailed) as err:
        services.verify_credentials(
            user_id="olivia", password="wrong", expected_user=user, purpose="signature"
        )
    assert err.value.field == "password"
    assert "not correct" in err.value.message
    assert User.objects.get(pk=user.pk).failed_attempts == 1
    (event,) = events("accounts.signature.failed")
    assert event["category"] == "security"
    assert event["new"]["cause"] == "wrong_password"
    assert event["new"]["failed_attempts"] == 1


def test_11_200_nobody_signs_as_someone_else(password, personas, events):
    operator = personas["operator"]
    with pytest.raises(PermissionDenied) as err:
        # victor's real password, typed into olivia's session
        services.verify_credentials(
            user_id="victor", password=password, expected_user=operator, purpose="signature"
        )
    assert err.value.field == "user_id"
    assert User.objects.get(pk=operator.pk).failed_attempts == 1
    assert User.objects.get(username="victor").failed_attempts == 0
    (event,) = events("accounts.signature.failed")
    assert event["category"] == "security"
    assert event["new"]["cause"] == "wrong_user_id"
    assert event["new"]["attempted_id"] == "victor"
    assert event["actor"] == "olivia"


def test_11_300_d_signing_failures_lock_the_account(password, personas, lockout_3, events, client):
    user = personas["operator"]
    client.force_login(user)
    assert client.get("/").status_code == 200
    for _ in range(2):
        with pytest.raises(ValidationFailed):
            services.verify_credentials(
                user_id=None, password="wrong", expected_user=user, purpose="signature"
            )
    with pytest.raises(PermissionDenied) as err:
        services.verify_credentials(
            user_id=None, password="wrong", expected_user=user, purpose="signature"
        )
    assert "locked" in err.value.message
    row = User.objects.get(pk=user.pk)
    assert row.is_locked
    assert row.failed_attempts == 3
    (lock,) = events("accounts.user.lock")
    assert lock["category"] == "security"
    assert lock["new"]["sessions_ended"] == 1
    # the session ended at once
    assert client.get("/").status_code == 302
    # even the right password is refused now, and that refusal is recorded too
    with pytest.raises(PermissionDenied):
        services.verify_credentials(
            user_id=None, password=password, expected_user=user, purpose="signature"
        )
    assert events("accounts.signature.refused")[0]["new"]["cause"] == "locked"


def test_11_10_d_deactivated_user_cannot_sign(password, personas, events):
    user = personas["operator"]
    services.deactivate_user(actor=personas["admin"], user=user, reason="left the company")
    with pytest.raises(PermissionDenied) as err:
        services.verify_credentials(
            user_id=None, password=password, expected_user=user, purpose="signature"
        )
    assert "deactivated" in err.value.message
    (event,) = events("accounts.signature.refused")
    assert event["category"] == "security"
    assert event["new"]["cause"] == "deactivated"


def test_verify_credentials_refuses_to_run_inside_the_callers_transaction(personas):
    with pytest.raises(RuntimeError, match="outside"), transaction.atomic():
        services.verify_credentials(
            user_id=None, password="wrong", expected_user=personas["operator"], purpose="signature"
        )


@pytest.mark.django_db(transaction=True)
def test_11_300_d_failed_attempt_is_committed_although_the_caller_aborts(make_user, events):
    """The signing caller aborts after the failure; the counted attempt is already committed."""
    user = make_user("olivia", ["operator"])

    def sign_something() -> None:
        services.verify_credentials(
            user_id=None, password="wrong", expected_user=user, purpose="signature"
        )
        with transaction.atomic():  # the caller's own transaction: never reached
            raise AssertionError("unreachable")

    with pytest.raises(ValidationFailed):
        sign_something()
    assert User.objects.get(pk=user.pk).failed_attempts == 1
    assert len(events("accounts.signature.failed")) == 1
