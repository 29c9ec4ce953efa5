"""In-process helpers of the reliability suite (pytest-django's database, Django's test client):
a running batch of MBR-REL and clients logged in as the personas of tests/conftest.py."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.test import Client

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.execution import services
from galenic.recipes.document import io
from galenic.recipes.models import MasterRecord, MasterRecordVersion, VersionStatus
from galenic.signatures import services as signing
from galenic.signatures.selectors import has_acknowledged_policy
from galenic.testing.support import PASSWORD

DATA = Path(__file__).with_name("data")


def authority(user: Any) -> Any:
    return signing.authenticate_signer(
        session=None, actor=user, user_id=user.username, password=PASSWORD
    )


def running_batch(personas: dict[str, Any], number: str = "REL-T1", text: str = "") -> str:
    """MBR-REL (or the document ``text``) effective (stored directly: the lifecycle is not under
    test here) and one batch of it released and started; the operator, verifier and supervisor
    have signed the policy."""
    doc = io.load_yaml(text or (DATA / "reliability.yaml").read_text())
    now = utcnow()
    author = personas["engineer"]
    master, _ = MasterRecord.objects.get_or_create(
        code=doc.code, defaults={"name": doc.title, "created_at": now, "created_by": author}
    )
    if not master.versions.filter(status=VersionStatus.EFFECTIVE).exists():
        MasterRecordVersion.objects.create(
            master=master,
            version=1,
            status=VersionStatus.EFFECTIVE,
            document_json=io.dump_json(doc),
            content_hash=io.content_hash(doc),
            created_at=now,
            created_by=author,
            updated_at=now,
            effective_at=now,
        )
    with action_context("test"):
        for role in ("operator", "verifier", "supervisor"):
            if not has_acknowledged_policy(personas[role]):
                signing.acknowledge_policy(
                    actor=personas[role], authority=authority(personas[role])
                )
        supervisor = personas["supervisor"]
        services.create_batch(actor=supervisor, mbr=doc.code, number=number)
        services.release_to_floor(actor=supervisor, number=number, authority=authority(supervisor))
        services.start_batch(actor=personas["operator"], number=number)
    return number


class ApiClient:
    """JSON calls as one logged-in person, optionally with an Idempotency-Key."""

    def __init__(self, user: Any) -> None:
        self.client = Client()
        self.client.force_login(user)

    def post(self, path: str, data: Any, key: str | None = None) -> Any:
        headers = {"Idempotency-Key": key} if key else {}
        return self.client.post(
            path, json.dumps(data), content_type="application/json", headers=headers
        )


class Clock:
    """The server's clock, set by the test (``core.timefmt.utcnow`` everywhere it was imported)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def install(self, monkeypatch: Any) -> Clock:
        import sys

        from galenic.core import timefmt

        real = timefmt.utcnow
        for name, module in list(sys.modules.items()):
            if name.startswith("galenic") and getattr(module, "utcnow", None) is real:
                monkeypatch.setattr(module, "utcnow", self)
        return self
