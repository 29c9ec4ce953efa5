"""Helpers of the security suite (importable by name, unlike conftest)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from galenic.testing.support import PASSWORD

CSRF = "s" * 32  # any well-formed token; cookie and header must match

# Same people as tests/conftest.py PERSONAS (a module-scoped copy: that fixture is per test).
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


def make_user(username: str, roles: list[str]) -> Any:
    from galenic.accounts import services
    from galenic.core.context import action_context

    with action_context("test"):
        return services.create_user(
            actor=None,
            username=username,
            full_name=username.capitalize(),
            password=PASSWORD,
            roles=roles,
        )


@contextmanager
def isolated() -> Iterator[None]:
    """A savepoint that is always rolled back (and counts as the test case's own block)."""
    from django.db import transaction

    block = transaction.atomic()
    block._from_testcase = True  # type: ignore[attr-defined]
    block.__enter__()
    try:
        yield
    finally:
        transaction.set_rollback(True)
        block.__exit__(None, None, None)


class Caller:
    """One principal's client: a persona's session, a gateway token, or nobody."""

    def __init__(self, world: Any, principal: str, user: Any = None) -> None:
        from django.test import Client

        self.principal = principal
        self.client = Client(enforce_csrf_checks=True)
        self.client.cookies["csrftoken"] = CSRF
        self.headers: dict[str, str] = {"X-CSRFToken": CSRF}
        self.username = ""
        if user is not None:
            self.client.force_login(user)
            self.username = user.username
        elif principal == "device":
            self.headers["Authorization"] = f"Bearer {world.gateway_token}"
        elif principal != "anonymous":
            self.client.cookies["sessionid"] = world.sessions[principal]
            self.username = PERSONAS[principal][0]

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        file: tuple[str, bytes, str] = ("note.txt", b"hello", "text/plain"),
    ) -> Any:
        method = method.lower()
        fn = getattr(self.client, method)
        if method == "get":
            return fn(path, headers=self.headers)
        if content_type == "multipart":
            from django.core.files.uploadedfile import SimpleUploadedFile

            data = {**(body or {}), "file": SimpleUploadedFile(*file)}
            return fn(path, data, headers=self.headers)
        if content_type == "form":
            return fn(path, body or {}, headers=self.headers)
        payload = body if isinstance(body, str) else json.dumps(body if body is not None else {})
        return fn(path, payload, content_type=content_type, headers=self.headers)
