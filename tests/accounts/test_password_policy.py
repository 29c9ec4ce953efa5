"""Password policy (21 CFR 11.300(b)): length, no reuse of the last N, ageing with a forced
change, one-time passwords after an admin reset; all from settings."""

from __future__ import annotations

from datetime import timedelta

import pytest

from galenic.accounts import services
from galenic.accounts.models import PasswordHistory, User
from galenic.core.errors import PermissionDenied, ValidationFailed
from galenic.core.timefmt import utcnow

NEW = ["Brisk-lantern-731", "Quiet-harbour-852", "Amber-meadow-964", "Silver-thistle-175"]


def _change(user, old, new):
    return services.change_password(actor=user, old_password=old, new_password=new)


def test_11_300_b_minimum_length_from_settings(personas, password, settings):
    settings.PASSWORD_MIN_LENGTH = 20
    with pytest.raises(ValidationFailed) as err:
        _change(personas["operator"], password, "Brisk-lantern-731")  # 17 characters
    assert err.value.field == "new_password"
    assert "at least 20 characters" in err.value.message
    settings.PASSWORD_MIN_LENGTH = 12
    _change(personas["operator"], password, "Brisk-lantern-731")


def test_11_300_b_last_n_passwords_not_reused(personas, password, settings):
    settings.PASSWORD_HISTORY = 3
    user = personas["operator"]
    _change(user, password, NEW[0])
    _change(user, NEW[0], NEW[1])
    for reused in (NEW[1], NEW[0], password):  # current and the two before: the last 3
        with pytest.raises(ValidationFailed, match="last 3"):
            _change(user, NEW[1], reused)
    _change(user, NEW[1], NEW[2])
    _change(user, NEW[2], password)  # four changes ago: allowed again


def test_history_is_kept_on_every_change(personas, password):
    user = personas["operator"]
    _change(user, password, NEW[0])
    _change(user, NEW[0], NEW[1])
    services.reset_password(actor=personas["admin"], user=user, reason="forgotten")
    assert PasswordHistory.objects.filter(user=user).count() == 3


def test_wrong_old_password_counts_toward_lockout(personas, lockout_3, events):
    user = personas["operator"]
    for _ in range(2):
        with pytest.raises(ValidationFailed) as err:
            _change(user, "not-my-password", NEW[0])
        assert err.value.field == "old_password"
    with pytest.raises(PermissionDenied):
        _change(user, "not-my-password", NEW[0])
    assert User.objects.get(pk=user.pk).is_locked
    assert len(events("accounts.password_change.failed")) == 3


def test_change_is_audited_without_the_password(personas, password, events):
    _change(personas["operator"], password, NEW[0])
    (event,) = events("accounts.password.change")
    assert event["category"] == "security"
    assert NEW[0] not in str(event)


def test_11_300_b_expired_password_forces_a_change(personas, password, settings, ui, api):
    settings.PASSWORD_MAX_AGE_DAYS = 30
    user = personas["operator"]
    User.objects.filter(pk=user.pk).update(password_changed_at=utcnow() - timedelta(days=31))
    client = ui(user)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/password/?next=")
    page = client.get("/accounts/password/")
    assert "Your password has expired" in page.content.decode()
    response = api(user).get("/api/v1/accounts/roles")
    assert response.status_code == 403
    assert response.json()["code"] == "password_change_required"
    # the change itself lifts the block, and the session stays usable
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password": NEW[0], "new_password_again": NEW[0]},
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_ageing_off_when_max_age_is_zero(personas, settings, ui):
    settings.PASSWORD_MAX_AGE_DAYS = 0
    user = personas["operator"]
    User.objects.filter(pk=user.pk).update(password_changed_at=utcnow() - timedelta(days=3650))
    assert ui(user).get("/").status_code == 200


def test_11_200_a_2_admin_reset_gives_a_one_time_password(personas, password, client, events):
    admin, operator = personas["admin"], personas["operator"]
    one_time = services.reset_password(actor=admin, user=operator, reason="forgotten, ticket 42")
    (event,) = events("accounts.password.reset")
    assert event["reason"] == "forgotten, ticket 42"
    assert one_time not in str(event)
    # the old password is gone; the one-time password logs in but only to change it
    assert (
        "not correct"
        in client.post(
            "/accounts/login/", {"username": "olivia", "password": password}
        ).content.decode()
    )
    assert (
        client.post("/accounts/login/", {"username": "olivia", "password": one_time}).status_code
        == 302
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/password/")
    assert client.get("/api/v1/accounts/me").json()["must_change_password"] is True
    # it cannot be kept as the new password
    with pytest.raises(ValidationFailed):
        _change(operator, one_time, one_time)
    _change(operator, one_time, NEW[0])
    assert not User.objects.get(pk=operator.pk).must_change_password


def test_reset_ends_the_users_sessions(personas, ui):
    client = ui(personas["operator"])
    assert client.get("/").status_code == 200
    services.reset_password(actor=personas["admin"], user=personas["operator"], reason="x")
    assert client.get("/").status_code == 302
    assert client.get("/").url.startswith("/accounts/login/")


def test_admin_cannot_reset_own_password(personas):
    with pytest.raises(PermissionDenied):
        services.reset_password(actor=personas["admin"], user=personas["admin"], reason="x")


def test_change_ends_other_sessions_but_keeps_this_one(personas, password, ui):
    user = personas["operator"]
    here, elsewhere = ui(user), ui(user)
    response = here.post(
        "/accounts/password/",
        {"old_password": password, "new_password": NEW[0], "new_password_again": NEW[0]},
    )
    assert response.status_code == 302
    assert here.get("/").status_code == 200
    assert elsewhere.get("/").status_code == 302


def test_change_password_page_shows_field_errors(personas, password, ui):
    client = ui(personas["operator"])
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password": "short", "new_password_again": "short"},
    )
    assert response.status_code == 400
    assert "too short" in response.content.decode()
    response = client.post(
        "/accounts/password/",
        {"old_password": password, "new_password": NEW[0], "new_password_again": NEW[1]},
    )
    assert "The two new passwords differ." in response.content.decode()


def test_change_own_password_via_api(personas, password, api):
    client = api(personas["operator"])
    response = client.post(
        "/api/v1/accounts/me/password", {"old_password": "wrong", "new_password": NEW[0]}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "old_password"
    response = client.post(
        "/api/v1/accounts/me/password", {"old_password": password, "new_password": NEW[0]}
    )
    assert response.status_code == 200
    assert client.get("/api/v1/accounts/me").status_code == 200
