"""Fixtures for the security suite.

``world`` (module scope) seeds the plant of security_world.py once per test module inside a
transaction that is rolled back when the module ends; each test runs in a savepoint of it (the
``db`` fixture), and ``isolated()`` gives every single request its own savepoint, so one
principal's successful change never decides what the next one finds. Audit events are appended
as in production (the blocks count as the test case's own, see galenic.audit.db).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from security_helpers import PERSONAS, Caller, isolated, make_user


@pytest.fixture(scope="module")
def world(django_db_setup: Any, django_db_blocker: Any) -> Iterator[Any]:
    from django.test import Client
    from security_world import build

    with django_db_blocker.unblock(), isolated():
        personas = {role: make_user(name, roles) for role, (name, roles) in PERSONAS.items()}
        w = build(personas, make_user)
        w.sessions = {}  # type: ignore[attr-defined]
        for role, user in personas.items():
            c = Client()
            c.force_login(user)
            w.sessions[role] = c.cookies["sessionid"].value  # type: ignore[attr-defined]
        from security_world import document

        w.params["new_mbr_yaml"] = document("MBR-NEW")
        w.params["draft_yaml"] = document("MBR-DRAFT").replace(
            "title: Security test record", "title: Rewritten record"
        )
        yield w


@pytest.fixture
def caller(world: Any, db: Any) -> Any:
    """caller("operator") -> Caller; caller("anonymous"), caller("device") too."""

    def _caller(principal: str, user: Any = None) -> Caller:
        return Caller(world, principal, user)

    return _caller
