"""Login through the page: counting, lockout, audit, session registration (11.10(d), 11.300(d))."""

from __future__ import annotations

from galenic.accounts.models import User, UserSession


def _login(client, user_id, password):
    return client.post("/accounts/login/", {"username": user_id, "password": password})


def test_login_is_audited_and_registers_the_session(personas, password, client, events):
    response = _login(client, "Olivia", password)
    assert response.status_code == 302
    assert client.get("/").status_code == 200
    (event,) = events("accounts.login", actor_username="olivia")
    assert event["category"] == "security"
    assert UserSession.objects.filter(user=personas["operator"], ended_at__isnull=True).count() == 1


def test_11_300_d_lockout_after_n_failures(personas, password, client, lockout_3, events):
    for _ in range(2):
        response = _login(client, "olivia", "not-it")
        assert response.status_code == 200
        assert "User ID or password is not correct." in response.content.decode()
    response = _login(client, "olivia", "not-it")
    assert "locked" in response.content.decode()
    user = User.objects.get(username="olivia")
    assert user.is_locked
    assert [e["new"]["failed_attempts"] for e in events("accounts.login.failed")] == [1, 2, 3]
    (lock,) = events("accounts.user.lock")
    assert lock["category"] == "security"
    # the right password no longer opens the account
    response = _login(client, "olivia", password)
    assert response.status_code == 200
    assert "locked" in response.content.decode()
    assert events("accounts.login.refused")[-1]["new"]["cause"] == "locked"


def test_success_resets_the_failure_counter(personas, password, client):
    _login(client, "olivia", "not-it")
    assert User.objects.get(username="olivia").failed_attempts == 1
    _login(client, "olivia", password)
    assert User.objects.get(username="olivia").failed_attempts == 0


def test_unknown_user_id_is_a_security_event(db, client, events):
    response = _login(client, "nobody", "whatever-password")
    assert "User ID or password is not correct." in response.content.decode()
    (event,) = events("accounts.login.refused")
    assert event["category"] == "security"
    assert event["new"]["cause"] == "unknown_user_id"
    assert event["new"]["attempted_id"] == "nobody"


def test_logout_ends_the_session_and_is_audited(personas, password, client, events):
    _login(client, "olivia", password)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert events("accounts.logout")[0]["actor"] == "olivia"
    assert UserSession.objects.get(user=personas["operator"]).end_reason == "logout"
