"""21 CFR 11.10(d)(g): every API operation, against every role and an anonymous caller (and the
gateway token): the principals access_table.py allows succeed, everyone else gets 401/403 with
nothing changed and the refusal in the audit trail; nobody ever gets a 5xx.

Routes come from the OpenAPI document, so a new route fails test_every_api_route_is_decided
until someone adds it to the table.
"""

from __future__ import annotations

from typing import Any

import pytest
from access_table import API, PRINCIPALS, PUBLIC, UI, fill
from security_helpers import PERSONAS, isolated, make_user

pytestmark = pytest.mark.django_db
DENIED = "security.access_denied"


def _openapi_operations() -> set[tuple[str, str]]:
    from galenic.api import api

    schema = api.get_openapi_schema()
    return {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}


def test_every_api_route_is_decided():
    routes = _openapi_operations()
    missing = sorted(routes - set(API))
    stale = sorted(set(API) - routes)
    assert not missing, f"routes nobody decided on (add them to access_table.API): {missing}"
    assert not stale, f"access_table.API names routes that no longer exist: {stale}"


def _events_since(seq: int) -> list[Any]:
    from galenic.audit.models import AuditEvent

    return list(AuditEvent.objects.filter(seq__gt=seq).order_by("seq"))


def _head() -> int:
    from galenic.audit.models import AuditEvent

    last = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first()
    return last or 0


def judge(
    principal: str, allowed: bool, ok: int, response: Any, events: list[Any], who: str
) -> str:
    """'' when the answer is the intended one, else why not."""
    status = response.status_code
    body = "" if response.streaming else response.content[:300].decode("utf-8", "replace")
    if status >= 500:
        return f"{principal}: {status} (server error) {body}"
    if allowed:
        if status != ok:
            return f"{principal}: expected {ok}, got {status} {body}"
        return ""
    if principal == "anonymous" and status != 401:
        return f"anonymous: expected 401, got {status} {body}"
    if status not in (401, 403):
        return f"{principal}: expected 401/403, got {status} {body}"
    changed = [e.action for e in events if e.category != "security"]
    if changed:
        return f"{principal}: refused ({status}) but the trail shows changes: {changed}"
    if (
        status == 403
        and who
        and not any(e.action == DENIED and e.actor_username == who for e in events)
    ):
        return f"{principal}: refused without a security event in the audit trail"
    return ""


@pytest.mark.parametrize("route", sorted(API), ids=lambda r: f"{r[0]} {r[1]}")
def test_api_route_answers_only_the_intended_principals(world, caller, route):
    from galenic.accounts.models import User

    method, template = route
    rule = API[route]
    failures = []
    for principal in PRINCIPALS:
        allowed = rule.allowed(principal)
        with isolated():
            user = None
            if rule.fresh_person and principal in PERSONAS:
                user = make_user(f"new{principal}", PERSONAS[principal][1])
            who = caller(principal, user)
            params = {**world.params, "me": who.username}
            path = fill(rule.path or template, params)
            head = _head()
            file = rule.extra.get("file", ("note.txt", b"hello", "text/plain"))
            response = who.call(method, path, fill(rule.body, params), rule.content_type, file)
            why = judge(principal, allowed, rule.ok, response, _events_since(head), who.username)
            if user is None and who.username:
                assert User.objects.filter(username=who.username).exists()
        if why:
            failures.append(why)
    assert not failures, f"{method} {template}:\n  " + "\n  ".join(failures)


# --- the UI -----------------------------------------------------------------------------------


def _ui_url_names() -> set[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    names: set[str] = set()

    def walk(resolver: Any, namespace: str) -> None:
        for p in resolver.url_patterns:
            if isinstance(p, URLResolver):
                if str(p.pattern).startswith("api/"):
                    continue
                walk(p, namespace + (f"{p.namespace}:" if p.namespace else ""))
            elif isinstance(p, URLPattern):
                names.add(namespace + (p.name or f"<unnamed {p.pattern}>"))

    walk(get_resolver(), "")
    return names


def test_every_ui_route_is_decided():
    decided = {name for _, name, _ in UI}
    names = _ui_url_names()
    assert not sorted(names - decided), f"UI routes nobody decided on: {sorted(names - decided)}"
    assert not sorted(decided - names), (
        f"access_table.UI names unknown routes: {sorted(decided - names)}"
    )


def judge_ui(principal, allowed, rule, method, response, events, who) -> str:
    status = response.status_code
    location = response.get("Location", "")
    if status >= 500:
        return f"{principal}: {status} (server error)"
    if allowed:
        if status not in (rule.ok if isinstance(rule.ok, tuple) else (rule.ok,)):
            body = b"" if response.streaming else response.content[:200]
            return f"{principal}: expected {rule.ok}, got {status} {location} {body!r}"
        if location.startswith("/accounts/login/") and rule.needs != PUBLIC:
            return f"{principal}: sent to the login page"
        done = [e for e in events if e.actor_username == who and e.action != DENIED]
        if method == "POST" and rule.extra.get("writes", True) and not done:
            return f"{principal}: answered {status} but nothing was recorded"
        return ""
    if principal in ("anonymous", "device"):
        if status == 302 and location.startswith("/accounts/login/"):
            return ""
        return f"{principal}: expected the login page, got {status} {location}"
    if status != 403:
        return f"{principal}: expected 403, got {status} {location}"
    changed = [e.action for e in events if e.category != "security"]
    if changed:
        return f"{principal}: refused but the trail shows changes: {changed}"
    if not any(e.action == DENIED and e.actor_username == who for e in events):
        return f"{principal}: refused without a security event in the audit trail"
    return ""


@pytest.mark.parametrize("route", sorted(UI), ids=lambda r: " ".join(x for x in r if x))
def test_ui_route_answers_only_the_intended_principals(world, caller, route):
    method, _name, _variant = route
    rule = UI[route]
    failures = []
    for principal in PRINCIPALS:
        allowed = (rule.allowed(principal) and principal != "device") or rule.needs == PUBLIC
        with isolated():
            user = None
            if rule.fresh_person and principal in PERSONAS:
                user = make_user(f"new{principal}", PERSONAS[principal][1])
            who = caller(principal, user)
            params = {**world.params, "me": who.username}
            head = _head()
            file = rule.extra.get("file", ("note.txt", b"hello", "text/plain"))
            response = who.call(
                method, fill(rule.path, params), fill(rule.body, params), rule.content_type, file
            )
            why = judge_ui(
                principal, allowed, rule, method, response, _events_since(head), who.username
            )
        if why:
            failures.append(why)
    assert not failures, f"{method} {rule.path}:\n  " + "\n  ".join(failures)
