"""Server-side sessions: inactivity timeout, key cycled at login, ended at once
(21 CFR 11.10(d), 11.300(c))."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.utils import timezone

from galenic.accounts.models import UserSession


@pytest.fixture
def clock(monkeypatch):
    """Move Django's clock (which the session store uses) forward."""
    real_now = timezone.now
    offset = {"minutes": 0}

    def fake_now():
        return real_now() + timedelta(minutes=offset["minutes"])

    monkeypatch.setattr(timezone, "now", fake_now)

    def advance(minutes):
        offset["minutes"] += minutes

    return advance


def _login(client, password):
    response = client.post("/accounts/login/", {"username": "olivia", "password": password})
    assert response.status_code == 302


def test_session_inactivity_timeout(personas, password, client, settings, clock):
    assert settings.SESSION_COOKIE_AGE == settings.SESSION_TIMEOUT_MINUTES * 60
    # Sliding: use restarts the clock (at most once a minute, so never longer than the timeout).
    assert settings.SESSION_REFRESH_SECONDS < settings.SESSION_TIMEOUT_MINUTES * 60
    timeout = settings.SESSION_TIMEOUT_MINUTES
    _login(client, password)
    for _ in range(3):  # active use keeps the session alive well past one timeout
        clock(timeout - 1)
        assert client.get("/").status_code == 200
    clock(timeout + 1)  # then a pause longer than the timeout
    response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_sessions_are_server_side(personas, password, client):
    _login(client, password)
    key = client.cookies["sessionid"].value
    assert Session.objects.filter(session_key=key).exists()
    assert UserSession.objects.get(session_key=key).user == personas["operator"]


def test_session_key_cycled_at_login(personas, password, client):
    client.get("/accounts/login/")
    client.session.save()  # an attacker-planted anonymous session
    planted = client.session.session_key
    client.cookies["sessionid"] = planted
    _login(client, password)
    assert client.cookies["sessionid"].value != planted
    assert not Session.objects.filter(session_key=planted).exists()


def test_logout_ends_the_session_server_side(personas, password, client):
    _login(client, password)
    key = client.cookies["sessionid"].value
    client.post("/accounts/logout/")
    assert not Session.objects.filter(session_key=key).exists()
    client.cookies["sessionid"] = key  # replaying the old cookie gets nowhere
    assert client.get("/").status_code == 302


def test_a_session_not_in_the_registry_is_refused(personas, client):
    client.force_login(personas["operator"])
    assert client.get("/").status_code == 200
    UserSession.objects.filter(user=personas["operator"]).update(
        ended_at=timezone.now(), end_reason="admin"
    )
    assert client.get("/").status_code == 302


def test_locking_attempt_drops_its_own_session_cleanly(personas, api, lockout_3):
    """The request whose failed check locks the account ends its own session without a 500."""
    client = api(personas["operator"])
    for _ in range(2):
        response = client.post(
            "/api/v1/accounts/me/password", {"old_password": "bad", "new_password": "x" * 20}
        )
        assert response.status_code == 400
    response = client.post(
        "/api/v1/accounts/me/password", {"old_password": "bad", "new_password": "x" * 20}
    )
    assert response.status_code == 403
    assert "locked" in response.json()["message"]
    assert client.get("/api/v1/accounts/me").status_code == 401


def test_the_expiry_slides_without_a_write_on_every_request(personas, password, client, clock):
    """Requests within a minute do not rewrite the session; the first one after does."""
    _login(client, password)
    key = client.cookies["sessionid"].value
    first = Session.objects.get(session_key=key).expire_date
    assert client.get("/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date == first
    clock(2)
    assert client.get("/").status_code == 200
    assert Session.objects.get(session_key=key).expire_date > first
