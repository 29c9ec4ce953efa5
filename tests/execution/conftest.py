"""Fixtures for the execution tests: ``floor`` drives a batch through the services with the
personas (operator olivia, verifier victor, supervisor sam), who have signed the policy."""

from __future__ import annotations

from typing import Any

import pytest
from execution_helpers import CSRF, Floor, acknowledge


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    for role in ("operator", "verifier", "supervisor", "approver", "reviewer"):
        acknowledge(personas[role])
    return Floor(personas)


class Api:
    """A CSRF-enforcing client speaking JSON, logged in as one person."""

    def __init__(self, user: Any = None) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True)
        self.client.cookies["csrftoken"] = CSRF
        if user is not None:
            self.client.force_login(user)

    def get(self, path: str, data: Any = None) -> Any:
        return self.client.get(path, data)

    def post(self, path: str, data: Any = None) -> Any:
        import json

        return self.client.post(
            path,
            json.dumps(data if data is not None else {}),
            content_type="application/json",
            headers={"X-CSRFToken": CSRF},
        )

    def upload(self, path: str, data: dict[str, Any]) -> Any:
        return self.client.post(path, data, headers={"X-CSRFToken": CSRF})


@pytest.fixture
def api() -> Any:
    """api(user) → Api logged in as user."""
    return Api


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """postgres_only tests here (several OS processes on one database) are deselected, not
    skipped, on the SQLite run, whose test database lives in memory: the PostgreSQL run covers
    them, and CI turns every skip into a failure."""
    import os
    from pathlib import Path

    url = os.environ.get("GALENIC_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return
    here = str(Path(__file__).parent)
    keep, drop = [], []
    for item in items:
        mine = str(item.path).startswith(here)
        (drop if mine and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
