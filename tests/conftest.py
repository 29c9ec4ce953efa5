"""Shared test set-up.

- The same suite runs on SQLite and, with GALENIC_DATABASE_URL=postgres://..., on PostgreSQL
  (`./run test` does both). Tests under tests/pure need no database and run once.
- GALENIC_REQUIRE=postgres,mqtt,browser (set by .ci/run) turns every skip into a failure.
- The test environment (cheap Argon2id, private data dir) is set by galenic.testing.env.
- Personas: one user per role, created through the audited service.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from galenic.testing.support import PASSWORD, REQUIRED, service_unavailable

__all__ = ["PASSWORD", "REQUIRED", "service_unavailable"]


@pytest.hookimpl(trylast=True)  # after pytest-django sorted by database use
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last. Playwright's sync API keeps its event loop marked as running in the
    main thread between calls for as long as the session's browser lives; no other test should
    run beside it (asyncio.run would refuse, Django would see an async context).

    postgres_only tests are deselected (not skipped: CI fails skips) on the SQLite run; the
    PostgreSQL run covers them."""
    url = os.environ.get("GALENIC_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        dropped = [item for item in items if item.get_closest_marker("postgres_only")]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if REQUIRED and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = (
            f"skipped under GALENIC_REQUIRE={','.join(sorted(REQUIRED))}: {report.longrepr}"
        )


class _CurrentStderr:
    """Whatever ``sys.stderr`` is at the moment of writing."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


@pytest.fixture(scope="session", autouse=True)
def _console_log_follows_stderr() -> None:
    """Django's console handler (settings.LOGGING) keeps the ``sys.stderr`` of the moment logging
    was configured: pytest's capture file, closed when the session ends. A thread that logs after
    that (a device or server thread winding down) then fails with "I/O operation on closed file".
    Write to the current ``sys.stderr`` instead: captured during tests, the terminal after."""
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler and handler.stream not in (
            sys.__stderr__,
            sys.__stdout__,
        ):
            handler.setStream(_CurrentStderr())  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings: Any) -> None:
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def db_vendor(db: Any) -> str:
    from django.db import connection

    return connection.vendor


@pytest.fixture
def make_user(db: Any) -> Callable[..., Any]:
    from galenic.accounts import services
    from galenic.core.context import action_context

    def _make(
        username: str, roles: list[str], full_name: str | None = None, password: str = PASSWORD
    ) -> Any:
        with action_context("test"):
            return services.create_user(
                actor=None,
                username=username,
                full_name=full_name or username.capitalize(),
                password=password,
                roles=roles,
            )

    return _make


PERSONAS = {
    "admin": ("ada", ["admin"]),
    "operator": ("olivia", ["operator"]),
    "verifier": ("victor", ["verifier", "operator"]),
    "supervisor": ("sam", ["supervisor"]),
    "engineer": ("petra", ["process_engineer"]),
    "reviewer": ("quinn", ["qa_reviewer"]),
    "approver": ("rita", ["qa_approver"]),
    "inspector": ("ian", ["inspector"]),
}


@pytest.fixture
def personas(make_user: Callable[..., Any]) -> dict[str, Any]:
    """{"operator": <User olivia>, "verifier": <User victor>, ...}; all with password PASSWORD."""
    return {role: make_user(username, roles) for role, (username, roles) in PERSONAS.items()}


@pytest.fixture
def csrf_client() -> Any:
    from django.test import Client

    return Client(enforce_csrf_checks=True)


@pytest.fixture
def logged_in(csrf_client: Any) -> Callable[[Any], Any]:
    def _login(user: Any) -> Any:
        csrf_client.force_login(user)
        return csrf_client

    return _login
