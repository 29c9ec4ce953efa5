"""Session cookies and CSRF (21 CFR 11.10(d), 11.300).

Inactivity timeout, a new session key at login (no fixation), logout ending the session server
side and a session ended by an admin are tested in tests/accounts/test_sessions.py; here: the
cookie flags, and that *every* form post and every session-authenticated API write needs the
CSRF token (routes taken from access_table, so new ones are covered too).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from access_table import API, PUBLIC, UI, fill
from security_helpers import PERSONAS, isolated

from galenic.audit.models import AuditEvent
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db


def _login(client):
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    answer = client.post(
        "/accounts/login/",
        {"username": "olivia", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert answer.status_code == 302, answer.content
    return answer


def test_session_cookie_is_httponly_samesite_and_ends_with_the_browser(world, db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    _login(client)
    session = client.cookies["sessionid"]
    assert session["httponly"]
    assert session["samesite"] == "Lax"
    assert not session["expires"] or session["max-age"]  # sliding, short-lived
    csrf = client.cookies["csrftoken"]
    assert csrf["samesite"] == "Lax"


def test_secure_cookies_behind_tls(world, db, settings):
    from django.test import Client

    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    client = Client(enforce_csrf_checks=True)
    _login(client)
    assert client.cookies["sessionid"]["secure"]
    assert client.cookies["csrftoken"]["secure"]


@pytest.mark.parametrize(("flag", "secure"), [("1", True), ("0", False)])
def test_galenic_secure_cookies_sets_both_cookie_flags(flag, secure, tmp_path):
    """GALENIC_SECURE_COOKIES (README) is the switch for a deployment behind TLS."""
    env = {**os.environ, "GALENIC_SECURE_COOKIES": flag, "GALENIC_DATA_DIR": str(tmp_path)}
    code = (
        "import json; from galenic import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert json.loads(out.stdout) == [secure, secure]


def _first_allowed(rule):
    return next((p for p in PERSONAS if rule.allowed(p)), None)


UI_POSTS = sorted(k for k in UI if k[0] == "POST" and UI[k].needs != PUBLIC)
API_WRITES = sorted(k for k in API if k[0] != "GET" and _first_allowed(API[k]))


@pytest.mark.parametrize("route", UI_POSTS, ids=lambda r: " ".join(x for x in r if x))
def test_every_form_post_needs_the_csrf_token(world, caller, route):
    rule = UI[route]
    principal = _first_allowed(rule)
    with isolated():
        who = caller(principal)
        who.headers.pop("X-CSRFToken")
        head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        answer = who.call(
            "POST",
            fill(rule.path, {**world.params, "me": who.username}),
            rule.body and fill(rule.body, {**world.params, "me": who.username}),
            rule.content_type,
        )
        assert answer.status_code == 403, (route, answer.status_code)
        changed = AuditEvent.objects.filter(seq__gt=head).exclude(category="security")
        assert not changed.exists()


@pytest.mark.parametrize("route", API_WRITES, ids=lambda r: f"{r[0]} {r[1]}")
def test_every_session_api_write_needs_the_csrf_token(world, caller, route):
    rule = API[route]
    principal = _first_allowed(rule)
    with isolated():
        who = caller(principal)
        who.headers.pop("X-CSRFToken")
        params = {**world.params, "me": who.username}
        head = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
        answer = who.call(
            route[0],
            fill(rule.path or route[1], params),
            fill(rule.body, params),
            rule.content_type,
        )
        assert answer.status_code == 403, (route, answer.status_code, answer.content[:200])
        changed = AuditEvent.objects.filter(seq__gt=head).exclude(category="security")
        assert not changed.exists()


def test_login_form_needs_the_csrf_token(world, db):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    answer = client.post("/accounts/login/", {"username": "olivia", "password": PASSWORD})
    assert answer.status_code == 403
    assert "sessionid" not in client.cookies


def test_logout_needs_a_post_with_the_token(world, caller):
    """A link or an image on another site cannot log a person out (or in)."""
    olivia = caller("operator")
    assert olivia.call("GET", "/accounts/logout/").status_code in (405, 302)
    assert olivia.call("GET", "/").status_code == 200  # still signed in
