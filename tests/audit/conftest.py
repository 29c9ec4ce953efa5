"""Fixtures for the audit trail tests.

Every test gets its own key file and checkpoint directory. ``tamper`` edits the audit table with
raw SQL the way someone with database access would: it must first get past the append-only
triggers (dropped on SQLite; ``session_replication_role=replica`` or DISABLE TRIGGER on
PostgreSQL, as the table owner or a superuser can).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

TABLE = "audit_auditevent"
ALL_COLUMNS = (
    "seq, occurred_at, actor_id, actor_username, actor_name, category, action, object_type, "
    "object_id, object_repr, old_values, new_values, reason, request_id, source, prev_hash, "
    "hash, seal"
)


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    """postgres_only tests under tests/audit are deselected (not skipped) on the SQLite run:
    the PostgreSQL run covers them, and CI turns every skip into a failure."""
    url = os.environ.get("GALENIC_DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://", "pgsql://")):
        return
    here = str(Path(__file__).parent)
    keep, drop = [], []
    for item in items:
        in_audit = str(item.path).startswith(here)
        (drop if in_audit and item.get_closest_marker("postgres_only") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(autouse=True)
def audit_files(settings: Any, tmp_path: Path) -> dict[str, Path]:
    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"
    settings.AUDIT_SIGNING_KEY_FILE = tmp_path / "keys" / "audit-ed25519.pem"
    return {
        "checkpoints": settings.AUDIT_CHECKPOINT_DIR,
        "key": settings.AUDIT_SIGNING_KEY_FILE,
    }


@pytest.fixture
def append(db: Any) -> Callable[..., list[Any]]:
    """append(n, per_transaction=1): n events through the real service, committed in turn."""
    from django.db import transaction

    from galenic.audit import services as audit

    def _append(n: int, *, per_transaction: int = 1, action: str = "test.append") -> list[Any]:
        events = []
        i = 0
        while i < n:
            with transaction.atomic():
                for _ in range(min(per_transaction, n - i)):
                    i += 1
                    events.append(
                        audit.record(
                            actor=None,
                            action=action,
                            object_type="test.thing",
                            object_id=str(i),
                            object_repr=f"Thing {i}",
                            old={"n": i - 1},
                            new={"n": i, "note": "ünïcode ✓"},
                            reason=f"reason {i}",
                        )
                    )
        return events

    return _append


@pytest.fixture
def verify(db: Any) -> Callable[..., Any]:
    from galenic.audit.verify import verify_chain

    def _verify(**kwargs: Any) -> Any:
        return verify_chain(**kwargs)

    return _verify


class Tamper:
    """Raw-SQL access to the audit table, as an attacker with database rights would have."""

    def __init__(self) -> None:
        from django.db import connection

        self.connection = connection
        self.vendor = connection.vendor

    def sql(self, statement: str, params: Any = None) -> list[Any]:
        with self.connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall() if cursor.description else []

    @contextmanager
    def guard_lifted(self, how: str = "bypass") -> Iterator[None]:
        """Get past the append-only triggers.

        how="bypass": PostgreSQL session_replication_role=replica (a superuser's way around
        triggers without touching them); how="disable": ALTER TABLE ... DISABLE TRIGGER and
        ENABLE again afterwards. SQLite has neither: its triggers are dropped and re-created.
        """
        from galenic.audit.db.triggers import SQLITE_TRIGGERS

        if self.vendor == "sqlite":
            for name in SQLITE_TRIGGERS:
                self.sql(f"DROP TRIGGER {name}")
            try:
                yield
            finally:
                for statement in SQLITE_TRIGGERS.values():
                    self.sql(statement)
        elif how == "disable":
            self.sql(f"ALTER TABLE {TABLE} DISABLE TRIGGER USER")
            try:
                yield
            finally:
                self.sql(f"ALTER TABLE {TABLE} ENABLE TRIGGER USER")
        else:
            self.sql("SET LOCAL session_replication_role = replica")
            try:
                yield
            finally:
                self.sql("SET LOCAL session_replication_role = origin")

    def rows(self) -> list[tuple[Any, ...]]:
        return self.sql(f"SELECT {ALL_COLUMNS} FROM {TABLE} ORDER BY seq")

    def payloads(self, from_seq: int) -> list[tuple[int, str]]:
        """(seq, hashed text) as verify sees it, for recomputing hashes like an attacker would."""
        from galenic.audit.verify import payload_sql

        return [
            (seq, text) for seq, text, *_ in self.sql(payload_sql(self.vendor)) if seq >= from_seq
        ]

    def rechain_from(self, seq: int) -> None:
        """Recompute prev_hash/hash of every event from ``seq`` on (the public algorithm)."""
        from galenic.audit.chain import GENESIS, hash_payload

        rows = self.sql(f"SELECT hash FROM {TABLE} WHERE seq = %s", [seq - 1])
        prev = rows[0][0] if rows else GENESIS
        for row_seq, text in self.payloads(seq):
            new_hash = hash_payload(prev, text)
            self.sql(
                f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE seq = %s",
                [prev, new_hash, row_seq],
            )
            prev = new_hash


@pytest.fixture
def tamper(db: Any) -> Tamper:
    return Tamper()
