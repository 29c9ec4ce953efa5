"""Security headers on every page, no inline script anywhere, and passwords and tokens never in
logs, audit rows or error pages.

Pages come from access_table.UI (every GET route, so new pages are crawled too), each fetched by
a person allowed to see it and by an administrator (who is refused many: refusals need the
headers as much).
"""

from __future__ import annotations

import logging
import re

import pytest
from access_table import PERSONA_ROLES, PUBLIC, UI, fill
from security_helpers import isolated

from galenic.audit.models import AuditEvent
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

PAGES = sorted(k for k in UI if k[0] == "GET")
INLINE_HANDLER = re.compile(r"<[^>]+\s(on[a-z]+)\s*=", re.IGNORECASE)


def _check_headers(response) -> list[str]:
    problems = []
    csp = response.get("Content-Security-Policy", "")
    directives = {d.strip().split(" ")[0]: d.strip() for d in csp.split(";") if d.strip()}
    script = directives.get("script-src", directives.get("default-src", ""))
    if not script or "'unsafe-inline'" in script or "'unsafe-eval'" in script:
        problems.append(f"script-src allows inline or eval, or is missing: {csp!r}")
    if "frame-ancestors 'none'" not in csp:
        problems.append("no frame-ancestors 'none'")
    if response.get("X-Frame-Options") != "DENY":
        problems.append(f"X-Frame-Options {response.get('X-Frame-Options')!r}")
    if response.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if response.get("Referrer-Policy") not in ("same-origin", "no-referrer", "strict-origin"):
        problems.append(f"Referrer-Policy {response.get('Referrer-Policy')!r}")
    return problems


def _check_markup(response) -> list[str]:
    if response.streaming or not response.get("Content-Type", "").startswith("text/html"):
        return []
    body = response.content.decode("utf-8", "replace")
    problems = []
    for chunk in body.split("<script")[1:]:
        head = chunk.split(">", 1)[0]
        if "src=" not in head:
            problems.append("inline <script> (blocked by the CSP, so broken)")
    handler = INLINE_HANDLER.search(body)
    if handler:
        problems.append(f"inline event handler {handler.group(1)}=")
    if "hx-on" in body:
        problems.append("hx-on attribute")
    if "javascript:" in body.lower():
        problems.append("javascript: URL")
    return problems


@pytest.mark.parametrize("route", PAGES, ids=lambda r: r[1])
def test_every_page_carries_the_security_headers_and_no_inline_script(world, caller, route):
    rule = UI[route]
    viewers = ["admin"]
    allowed = next((p for p in PERSONA_ROLES if rule.allowed(p)), None)
    if allowed and allowed != "admin":
        viewers.append(allowed)
    if rule.needs == PUBLIC:
        viewers.append("anonymous")
    failures = []
    for principal in viewers:
        with isolated():
            who = caller(principal)
            response = who.call("GET", fill(rule.path, {**world.params, "me": who.username}))
            for problem in _check_headers(response) + _check_markup(response):
                failures.append(f"{principal} ({response.status_code}): {problem}")
    assert not failures, f"{rule.path}:\n  " + "\n  ".join(failures)


@pytest.mark.parametrize(
    "path", ["/api/v1/batches/", "/api/v1/openapi.json", "/api/v1/batches/NOPE", "/nowhere/"]
)
def test_api_answers_and_error_pages_carry_the_headers(world, caller, path):
    response = caller("operator").call("GET", path)
    assert _check_headers(response) == []


# --- secrets ----------------------------------------------------------------------------------

NEW_PASSWORD = "Brand-new-secret-2026!"
WRONG_PASSWORD = "Wrong-secret-guess-77"


@pytest.fixture
def captured(caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("", "django", "django.request", "galenic", "galenic.security"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    return caplog


def _everywhere_but(secrets: list[str], caplog, pages: list[str]) -> list[str]:
    found = []
    texts = [r.getMessage() for r in caplog.records] + [str(r.args) for r in caplog.records]
    for e in AuditEvent.objects.all():
        texts.append(" ".join([e.old_values or "", e.new_values or "", e.reason, e.object_repr]))
    texts += pages
    for secret in secrets:
        for text in texts:
            if secret in text:
                found.append(f"{secret!r} in {text[:200]!r}")
    return found


def test_passwords_never_reach_logs_audit_rows_or_pages(world, caller, captured):
    pages = []
    anonymous = caller("anonymous")
    # a failed and a good login (UI), with the password in the form
    for password in (WRONG_PASSWORD, PASSWORD):
        r = anonymous.call(
            "POST",
            "/accounts/login/",
            {"username": "olivia", "password": password},
            content_type="form",
        )
        pages.append(r.content.decode())
    olivia = caller("operator")
    # a failed and a good signature (API), and a signature by form (UI)
    for password in (WRONG_PASSWORD, PASSWORD):
        r = olivia.call(
            "POST",
            "/api/v1/batches/SEC-PERF/steps/weigh/perform",
            {"user_id": "olivia", "password": password},
        )
        pages.append(r.content.decode())
    r = caller("verifier").call(
        "POST",
        "/batches/SEC-VER/steps/weigh/verify/",
        {"user_id": "victor", "password": WRONG_PASSWORD},
        content_type="form",
    )
    pages.append(r.content.decode())
    # password changes: refused (wrong old one), then done; by API and by form
    sam = caller("supervisor")
    for old in (WRONG_PASSWORD, PASSWORD):
        r = sam.call(
            "POST",
            "/api/v1/accounts/me/password",
            {"old_password": old, "new_password": NEW_PASSWORD},
        )
        pages.append(r.content.decode())
    r = caller("engineer").call(
        "POST",
        "/accounts/password/",
        {"old_password": PASSWORD, "new_password": NEW_PASSWORD, "new_password_again": "typo"},
        content_type="form",
    )
    pages.append(r.content.decode())
    # an administrator's reset: the one-time password is shown once, to the admin, never logged
    reset = caller("admin").call(
        "POST", "/api/v1/accounts/users/uma/reset-password", {"reason": "forgot"}
    )
    one_time = reset.json()["one_time_password"]
    leaks = _everywhere_but([PASSWORD, WRONG_PASSWORD, NEW_PASSWORD], captured, pages)
    leaks += _everywhere_but([one_time], captured, [])
    assert not leaks, "\n".join(leaks)


def test_gateway_tokens_never_reach_logs_or_audit_rows(world, caller, captured):
    device = caller("device")
    assert (
        device.call("POST", "/api/v1/equipment/gateway/status", {"connections": []}).status_code
        == 200
    )
    forged = "gw_" + "A" * 40
    answer = caller("anonymous").call("POST", "/api/v1/equipment/ingest", {"items": []})
    assert answer.status_code == 401
    bad = caller("anonymous")
    bad.headers["Authorization"] = f"Bearer {forged}"
    assert bad.call("POST", "/api/v1/equipment/ingest", {"items": []}).status_code == 401
    leaks = _everywhere_but([world.gateway_token, forged], captured, [])
    assert not leaks, "\n".join(leaks)
