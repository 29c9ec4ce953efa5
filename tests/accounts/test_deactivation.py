"""Deactivation instead of deletion; sessions end at once (21 CFR 11.10(d), 11.300(c))."""

from __future__ import annotations

import pytest
from django.test import Client

from galenic.accounts import services
from galenic.accounts.models import User, UserSession
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed


def test_11_10_d_deactivated_user_refused_and_security_event(personas, password, client, events):
    services.deactivate_user(actor=personas["admin"], user=personas["operator"], reason="left")
    response = client.post("/accounts/login/", {"username": "olivia", "password": password})
    assert response.status_code == 200
    assert "This account is deactivated." in response.content.decode()
    assert client.get("/").status_code == 302
    (event,) = events("accounts.login.refused")
    assert event["category"] == "security"
    assert event["new"]["cause"] == "deactivated"


def test_11_300_c_deactivation_ends_all_sessions_at_once(personas):
    tablet, desktop = Client(), Client()
    tablet.force_login(personas["operator"])
    desktop.force_login(personas["operator"])
    assert tablet.get("/").status_code == 200
    assert desktop.get("/api/v1/accounts/me").status_code == 200
    services.deactivate_user(actor=personas["admin"], user=personas["operator"], reason="left")
    assert tablet.get("/").status_code == 302
    assert desktop.get("/api/v1/accounts/me").status_code == 401
    ended = UserSession.objects.filter(user=personas["operator"])
    assert {s.end_reason for s in ended} == {"deactivated"}


def test_deactivation_is_audited_with_reason(personas, events):
    services.deactivate_user(actor=personas["admin"], user=personas["operator"], reason="left")
    (event,) = events("accounts.user.deactivate")
    assert event["old"]["is_active"] is True
    assert event["new"]["is_active"] is False
    assert event["reason"] == "left"
    row = User.objects.get(username="olivia")
    assert row.deactivated_at is not None


def test_deactivation_needs_a_reason(personas):
    with pytest.raises(ValidationFailed) as err:
        services.deactivate_user(actor=personas["admin"], user=personas["operator"], reason="")
    assert err.value.field == "reason"
    assert User.objects.get(username="olivia").is_active


def test_admin_cannot_deactivate_themselves(personas):
    with pytest.raises(PermissionDenied):
        services.deactivate_user(actor=personas["admin"], user=personas["admin"], reason="bye")


def test_reactivation_with_reason(personas, password, client, events):
    admin, operator = personas["admin"], personas["operator"]
    services.deactivate_user(actor=admin, user=operator, reason="long leave")
    with pytest.raises(Conflict):
        services.deactivate_user(actor=admin, user=operator, reason="again")
    services.reactivate_user(actor=admin, user=operator, reason="back from leave")
    (event,) = events("accounts.user.reactivate")
    assert event["reason"] == "back from leave"
    assert event["old"]["is_active"] is False
    response = client.post("/accounts/login/", {"username": "olivia", "password": password})
    assert response.status_code == 302
