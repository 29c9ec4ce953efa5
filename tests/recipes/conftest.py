"""Helpers for the MBR tests.

- ``tiny_text``: a small, complete and valid master record (YAML, canonical form).
- ``signers``: the personas who sign (engineer petra, reviewer quinn, approver rita), each having
  acknowledged the signature policy.
- ``mbr``: drives a version through the real services: ``mbr.create()``, ``mbr.submit(v)``,
  ``mbr.check(v)``, ``mbr.approve(v)``, ``mbr.effective(v)``, ``mbr.to_effective()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mbr_helpers import authority_for

DATA = Path(__file__).resolve().parent.parent / "pure" / "data"


@pytest.fixture
def tiny_text() -> str:
    from galenic.recipes.document import dump_yaml, load_yaml

    # Canonical form, so an import followed by an export gives back the same bytes.
    return dump_yaml(load_yaml((DATA / "tiny.yaml").read_text(encoding="utf-8")))


@pytest.fixture
def tiny_doc(tiny_text: str) -> Any:
    from galenic.recipes.document import load_yaml

    return load_yaml(tiny_text)


@pytest.fixture
def signers(personas: dict[str, Any]) -> dict[str, Any]:
    from galenic.core.context import action_context
    from galenic.signatures import services

    for role in ("engineer", "reviewer", "approver", "verifier", "supervisor"):
        user = personas[role]
        with action_context("test"):
            services.acknowledge_policy(actor=user, authority=authority_for(user))
    return personas


class MbrDriver:
    def __init__(self, personas: dict[str, Any], tiny_doc: Any) -> None:
        self.p = personas
        self.doc = tiny_doc

    def create(self, doc: Any = None, *, by: Any = None) -> Any:
        from galenic.core.context import action_context
        from galenic.recipes import services

        with action_context("test"):
            return services.create_master_record(
                actor=by or self.p["engineer"], document=doc or self.doc, reason="new product"
            )

    def submit(self, version: Any, *, by: Any = None) -> Any:
        from galenic.core.context import action_context
        from galenic.recipes import services

        user = by or self.p["engineer"]
        authority = authority_for(user)
        with action_context("test"):
            return services.submit_for_review(actor=user, version=version, authority=authority)

    def check(self, version: Any, *, by: Any = None) -> Any:
        from galenic.core.context import action_context
        from galenic.recipes import services

        user = by or self.p["reviewer"]
        authority = authority_for(user)
        with action_context("test"):
            return services.check_version(actor=user, version=version, authority=authority)

    def approve(self, version: Any, *, by: Any = None) -> Any:
        from galenic.core.context import action_context
        from galenic.recipes import services

        user = by or self.p["approver"]
        authority = authority_for(user)
        with action_context("test"):
            return services.approve(actor=user, version=version, authority=authority)

    def effective(self, version: Any, *, by: Any = None) -> Any:
        from galenic.core.context import action_context
        from galenic.recipes import services

        with action_context("test"):
            return services.make_effective(
                actor=by or self.p["approver"], version=version, reason="training done"
            )

    def to_effective(self, version: Any = None) -> Any:
        version = version or self.create()
        version = self.submit(version)
        version = self.check(version)
        version = self.approve(version)
        return self.effective(version)


@pytest.fixture
def mbr(signers: dict[str, Any], tiny_doc: Any) -> MbrDriver:
    return MbrDriver(signers, tiny_doc)


@pytest.fixture
def events():
    """Audit events of MBRs as dicts, oldest first."""
    from galenic.audit.models import AuditEvent

    def _events(prefix: str = "recipes.", **filters: Any) -> list[dict[str, Any]]:
        rows = AuditEvent.objects.filter(action__startswith=prefix, **filters).order_by("seq")
        return [
            {
                "action": e.action,
                "actor": e.actor_username,
                "object_id": e.object_id,
                "old": json.loads(e.old_values) if e.old_values else None,
                "new": json.loads(e.new_values) if e.new_values else None,
                "reason": e.reason,
            }
            for e in rows
        ]

    return _events


CSRF = "k" * 32  # any well-formed token; cookie and header must match


@pytest.fixture
def api():
    """api(user) → a CSRF-enforcing client: .get, .post(path, json), .send(method, path, text, ct)."""
    from django.test import Client

    def _client(user: Any = None) -> Any:
        c = Client(enforce_csrf_checks=True)
        c.cookies["csrftoken"] = CSRF
        if user is not None:
            c.force_login(user)

        class Api:
            client = c

            def get(self, path: str, data: Any = None) -> Any:
                return c.get(path, data)

            def send(self, method: str, path: str, body: str, content_type: str) -> Any:
                return getattr(c, method)(
                    path, body, content_type=content_type, headers={"X-CSRFToken": CSRF}
                )

            def post(self, path: str, data: Any = None) -> Any:
                return self.send("post", path, json.dumps(data or {}), "application/json")

            def patch(self, path: str, data: Any = None) -> Any:
                return self.send("patch", path, json.dumps(data or {}), "application/json")

        return Api()

    return _client


@pytest.fixture
def ui():
    """ui(user, **headers) → a CSRF-enforcing client whose form posts carry the token."""
    from django.test import Client

    def _client(user: Any = None, **headers: str) -> Any:
        c = Client(enforce_csrf_checks=True)
        c.cookies["csrftoken"] = CSRF
        if user is not None:
            c.force_login(user)
        original_post = c.post

        def post(path: str, data: Any = None, **kw: Any) -> Any:
            return original_post(path, data or {}, headers={"X-CSRFToken": CSRF, **headers}, **kw)

        c.post = post  # type: ignore[method-assign]
        return c

    return _client
