"""On PostgreSQL the audit append's cursor sends a transaction's BEGIN in the message of its
first statement (galenic.audit.db.postgresql.base.Cursor; also Django's cursor when prepared
statements are turned off): one round trip fewer per transaction, with nothing else changed for
the caller: results, row counts, errors and rollback are as before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from psycopg import pq

from galenic.audit import services as audit
from galenic.audit.db.postgresql.base import Cursor
from galenic.audit.models import AuditEvent
from galenic.audit.verify import verify_chain
from galenic.core.context import action_context

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]

TABLE = "test_begin_rides"


@pytest.fixture
def scratch() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE {TABLE} (id integer PRIMARY KEY, note text NOT NULL)")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE {TABLE}")


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every command psycopg sends on its own (BEGIN, COMMIT, ROLLBACK, ...)."""
    from psycopg import _connection_base

    commands: list[bytes] = []
    original = _connection_base.BaseConnection._exec_command

    def spy(self: Any, command: Any, *args: Any, **kwargs: Any) -> Any:
        commands.append(bytes(command) if isinstance(command, bytes | bytearray) else command)
        return original(self, command, *args, **kwargs)

    monkeypatch.setattr(_connection_base.BaseConnection, "_exec_command", spy)
    return commands


def _status() -> pq.TransactionStatus:
    return connection.connection.info.transaction_status


def _run(sql: str, params: Any = None) -> Cursor:
    connection.ensure_connection()
    cursor = Cursor(connection.connection)
    with connection.wrap_database_errors:
        cursor.execute(sql, params)
    return cursor


def _count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")
        return int(cursor.fetchone()[0])


def test_first_statement_carries_begin_and_returns_its_own_result(
    scratch: None, sent: list[bytes]
) -> None:
    with transaction.atomic():
        assert _run("SELECT %s::int + 1", [41]).fetchone() == (42,)
        assert _status() == pq.TransactionStatus.INTRANS
        assert _run(f"INSERT INTO {TABLE} VALUES (1, 'a'), (2, 'b')").rowcount == 2
    assert b"BEGIN" not in sent
    assert _count() == 2


def test_first_statement_row_count_is_its_own(scratch: None) -> None:
    _run(f"INSERT INTO {TABLE} VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    with transaction.atomic():
        assert _run(f"UPDATE {TABLE} SET note = 'x' WHERE id < %s", [3]).rowcount == 2


def test_error_in_first_statement_rolls_back_the_transaction(scratch: None) -> None:
    _run(f"INSERT INTO {TABLE} VALUES (1, 'a')")

    def insert_again() -> None:
        with transaction.atomic():
            _run(f"INSERT INTO {TABLE} VALUES (1, 'again')")

    with pytest.raises(IntegrityError):
        insert_again()
    assert _status() == pq.TransactionStatus.IDLE
    with transaction.atomic():
        _run(f"INSERT INTO {TABLE} VALUES (2, 'b')")
    assert _run(f"SELECT id, note FROM {TABLE} ORDER BY id").fetchall() == [(1, "a"), (2, "b")]


def test_rollback_undoes_the_first_statement(scratch: None) -> None:
    class Undo(Exception):
        pass

    def insert_then_fail() -> None:
        with transaction.atomic():
            _run(f"INSERT INTO {TABLE} VALUES (1, 'a')")
            raise Undo

    with pytest.raises(Undo):
        insert_then_fail()
    assert _count() == 0


def test_autocommit_statements_open_no_transaction(scratch: None, sent: list[bytes]) -> None:
    _run(f"INSERT INTO {TABLE} VALUES (1, 'a')")
    assert _status() == pq.TransactionStatus.IDLE
    assert sent == []


def test_audit_event_alone_in_its_transaction_needs_no_separate_begin(sent: list[bytes]) -> None:
    before = AuditEvent.objects.count()
    with action_context("test"), transaction.atomic():
        audit.record(actor=None, action="test.begin_rides", object_type="test", object_id="1")
    assert b"BEGIN" not in sent
    assert AuditEvent.objects.count() == before + 1
    assert verify_chain().ok
