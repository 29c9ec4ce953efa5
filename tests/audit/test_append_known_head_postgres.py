"""A connection that is the only one appending sends its events in one message: chained after
the head it committed last, with the chain-head lock, a check that this is still the head, the
INSERT and the COMMIT together. When someone else appended meanwhile the check refuses, the
transaction rolls back to a savepoint and appends the usual way. The chain is the same."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from galenic.audit import services as audit
from galenic.audit.db.postgresql import base as pg_base
from galenic.audit.models import AuditEvent
from galenic.core.context import action_context

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # This connection's knowledge of the head from earlier tests would be refused (the table was
    # emptied); start without it so the counts below are exact.
    connection._galenic_audit_head = None  # type: ignore[attr-defined]
    seen: list[str] = []
    original = pg_base.Cursor.execute

    def spy(self: Any, query: Any, params: Any = None, **kwargs: Any) -> Any:
        seen.append(str(query))
        return original(self, query, params, **kwargs)

    monkeypatch.setattr(pg_base.Cursor, "execute", spy)
    return seen


def _append(name: str, n: int, events: int = 1) -> None:
    with action_context("test"), transaction.atomic():
        for k in range(events):
            audit.record(
                actor=None, action="test.append", object_type="test", object_id=f"{name}-{n}-{k}"
            )


def _in_other_connection(name: str) -> None:
    def run() -> None:
        try:
            _append(name, 0)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(30)


def _one_message(statements: list[str]) -> int:
    return sum("audit_lock_chain_head_at(" in s for s in statements)


def _usual(statements: list[str]) -> int:
    return sum("audit_lock_chain_head(" in s for s in statements)


def test_lone_writer_appends_in_one_message(statements: list[str], verify: Any) -> None:
    for n in range(6):
        _append("a", n, events=1 + n % 3)
    # The first append learns the head, the second finds nobody else appended: then one message.
    assert _usual(statements) == 2
    assert _one_message(statements) == 4
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, 13))
    result = verify()
    assert result.ok, result.problems


def test_someone_else_appending_meanwhile_is_noticed_under_the_lock(
    statements: list[str], verify: Any
) -> None:
    for n in range(3):
        _append("a", n)
    assert _one_message(statements) == 1
    _in_other_connection("b")
    statements.clear()
    _append("a", 3)
    # Tried in one message, refused (the head moved), appended the usual way after the savepoint.
    assert _one_message(statements) == 1
    assert any("ROLLBACK TO SAVEPOINT" in s for s in statements)
    assert _usual(statements) == 1
    ids = list(AuditEvent.objects.order_by("seq").values_list("object_id", flat=True))
    assert ids == ["a-0-0", "a-1-0", "a-2-0", "b-0-0", "a-3-0"]
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == [1, 2, 3, 4, 5]
    result = verify()
    assert result.ok, result.problems


def test_changes_before_a_refused_attempt_still_commit_once(
    statements: list[str], verify: Any
) -> None:
    """The savepoint keeps the business change: it commits exactly once, with its event."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_known_head (id integer PRIMARY KEY)")
    try:
        for n in range(3):
            _append("a", n)
        _in_other_connection("b")
        with action_context("test"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("INSERT INTO test_known_head VALUES (1)")
            audit.record(actor=None, action="test.append", object_type="test", object_id="a-3")
        assert any("ROLLBACK TO SAVEPOINT" in s for s in statements)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM test_known_head")
            assert cursor.fetchone() == (1,)
        assert AuditEvent.objects.filter(object_id="a-3").count() == 1
        result = verify()
        assert result.ok, result.problems
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE test_known_head")
