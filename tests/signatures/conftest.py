"""Helpers for the signature tests.

- ``signable_users`` registers ``accounts.user`` as a signable record for the test, standing in
  for any feature's record (an MBR version, a batch step): it shows the registry works for
  models the signatures app knows nothing about, and user records are easy to edit.
- ``sign_glue_urls`` mounts a feature-like view built only from the public glue
  (``sign_form`` + ``handle_sign_post`` + ``services.sign``), the way later features embed it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from galenic.testing.support import PASSWORD


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """postgres_only tests here are deselected (not skipped) on the SQLite run: the PostgreSQL
    run covers them, and CI turns every skip into a failure."""
    if os.environ.get("GALENIC_DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    here = str(Path(__file__).parent)
    keep, drop = [], []
    for item in items:
        mine = str(item.path).startswith(here)
        (drop if mine and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def password() -> str:
    return PASSWORD


def user_record_content(user: Any) -> dict[str, Any]:
    return {"user_id": user.username, "printed_name": user.full_name, "email": user.email}


@pytest.fixture
def signable_users() -> Iterator[None]:
    from galenic.signatures import registry

    registry.register("accounts.user", user_record_content)
    yield
    registry.unregister("accounts.user")


@pytest.fixture
def authenticate(password: str) -> Callable[..., Any]:
    """authenticate(user, session=None, user_id=<own>, password=<right>) → SignerAuthority."""
    from galenic.signatures import services

    _own = object()

    def _auth(user: Any, *, session: Any = None, user_id: Any = _own, pw: str = password) -> Any:
        return services.authenticate_signer(
            session=session,
            actor=user,
            user_id=user.username if user_id is _own else user_id,
            password=pw,
        )

    return _auth


@pytest.fixture
def acknowledge(authenticate: Callable[..., Any]) -> Callable[[Any], Any]:
    """Make ``user`` sign the accountability policy (outside any browser session)."""
    from galenic.core.context import action_context
    from galenic.signatures import services

    def _ack(user: Any) -> Any:
        with action_context("test"):
            return services.acknowledge_policy(actor=user, authority=authenticate(user))

    return _ack


@pytest.fixture
def sign_record(authenticate: Callable[..., Any]) -> Callable[..., Any]:
    """sign_record(signer, record, meaning="reviewed", reason="") → Signature (own transaction)."""
    from django.db import transaction

    from galenic.core.context import action_context
    from galenic.signatures import services

    def _sign(signer: Any, record: Any, meaning: str = "reviewed", reason: str = "") -> Any:
        authority = authenticate(signer)
        with action_context("test"), transaction.atomic():
            return services.sign(authority=authority, obj=record, meaning=meaning, reason=reason)

    return _sign


@pytest.fixture
def signer(personas: dict[str, Any], acknowledge: Callable[[Any], Any]) -> Any:
    """A QA reviewer who has acknowledged the policy."""
    user = personas["reviewer"]
    acknowledge(user)
    return user


@pytest.fixture
def raw_sql() -> Callable[..., None]:
    """Run SQL behind the application's back, as a tamperer with owner access to the database
    would: the append-only triggers on the signature tables are lifted for the statement."""
    from django.db import connection

    from galenic.signatures.triggers import SQLITE_TRIGGERS, TABLES

    def _run(sql: str, params: list[Any] | None = None) -> None:
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                for name in SQLITE_TRIGGERS:
                    cur.execute(f"DROP TRIGGER IF EXISTS {name}")
            else:
                # Deferred foreign-key checks of rows made in this test block ALTER TABLE.
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
                for table in TABLES:
                    cur.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            try:
                cur.execute(sql, params or [])
            finally:
                if connection.vendor == "sqlite":
                    for statement in SQLITE_TRIGGERS.values():
                        cur.execute(statement)
                else:
                    for table in TABLES:
                        cur.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
                    cur.execute("SET CONSTRAINTS ALL DEFERRED")

    return _run


@pytest.fixture
def csrf_token() -> Callable[[Any], str]:
    def _token(client: Any) -> str:
        if "csrftoken" not in client.cookies:
            client.get("/signatures/policy/")
        return str(client.cookies["csrftoken"].value)

    return _token


@pytest.fixture
def post(csrf_token: Callable[[Any], str]) -> Callable[..., Any]:
    """post(client, url, data, htmx=True): a form post with the CSRF token, as the browser sends."""

    def _post(client: Any, url: str, data: dict[str, str], htmx: bool = True) -> Any:
        headers = {"X-CSRFToken": csrf_token(client)}
        if htmx:
            headers["HX-Request"] = "true"
        return client.post(url, data, headers=headers)

    return _post
