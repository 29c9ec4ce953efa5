from __future__ import annotations

import json
from typing import Any

import pytest


@pytest.fixture
def events():
    """Audit events as (action, category, object_id, old, new, reason) rows, optionally filtered."""
    from galenic.audit.models import AuditEvent

    def _events(prefix: str = "", **filters: Any) -> list[dict[str, Any]]:
        rows = AuditEvent.objects.filter(action__startswith=prefix, **filters).order_by("seq")
        return [
            {
                "action": e.action,
                "category": e.category,
                "actor": e.actor_username,
                "object_id": e.object_id,
                "old": json.loads(e.old_values) if e.old_values else None,
                "new": json.loads(e.new_values) if e.new_values else None,
                "reason": e.reason,
                "source": e.source,
            }
            for e in rows
        ]

    return _events


@pytest.fixture
def lockout_3(settings):
    settings.LOCKOUT_THRESHOLD = 3
    return 3


# The personas' password (tests/conftest.py PASSWORD; that module is not importable by name).
PERSONA_PASSWORD = "Correct-horse-42"


@pytest.fixture
def password() -> str:
    return PERSONA_PASSWORD


CSRF = "k" * 32  # any well-formed token; cookie and header must match


@pytest.fixture
def api():
    """A CSRF-enforcing client for JSON calls: api(user).post(path, data) etc."""
    from django.test import Client

    def _client(user=None):
        c = Client(enforce_csrf_checks=True)
        c.cookies["csrftoken"] = CSRF
        if user is not None:
            c.force_login(user)

        class Api:
            client = c

            def get(self, path, **kw):
                return c.get(path, **kw)

            def post(self, path, data=None):
                return c.post(
                    path,
                    json.dumps(data or {}),
                    content_type="application/json",
                    headers={"X-CSRFToken": CSRF},
                )

            def patch(self, path, data=None):
                return c.patch(
                    path,
                    json.dumps(data or {}),
                    content_type="application/json",
                    headers={"X-CSRFToken": CSRF},
                )

        return Api()

    return _client


@pytest.fixture
def ui():
    """A CSRF-enforcing client for form posts: ui(user).post(path, {...})."""
    from django.test import Client

    def _client(user=None, **headers):
        c = Client(enforce_csrf_checks=True)
        c.cookies["csrftoken"] = CSRF
        if user is not None:
            c.force_login(user)
        original_post = c.post

        def post(path, data=None, **kw):
            return original_post(path, data or {}, headers={"X-CSRFToken": CSRF, **headers}, **kw)

        c.post = post  # type: ignore[method-assign]
        return c

    return _client
