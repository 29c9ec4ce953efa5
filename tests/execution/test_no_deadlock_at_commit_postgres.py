"""A value recorded while someone holds its batch locked cannot deadlock the audit chain
(found by the two-server load test: "deadlock detected" between a recording and a signing).

Foreign keys are checked at COMMIT (deferred), each check taking a key-share lock on the row it
refers to. Two guarantees, each shown here with threads on separate connections:

- the batch lock every service takes (``FOR NO KEY UPDATE``) does not block those checks: a
  value is recorded and committed while another transaction holds its batch;
- a check that must wait (a row locked ``FOR UPDATE`` by someone) waits *before* the chain-head
  lock is taken: meanwhile everyone else still appends to the audit trail.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections, transaction

from galenic.audit import services as audit
from galenic.core.context import action_context
from galenic.execution import selectors, services
from galenic.execution.models import Entry

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _in_thread(fn: Any) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = fn()
        except BaseException as exc:  # reported by the test
            result["error"] = exc
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


def _hold(sql: str, number: str, held: threading.Event, release: threading.Event) -> Any:
    def hold() -> None:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [number])
            held.set()
            release.wait(30)

    return hold


def _record(floor: Any, key: str, value: str) -> Any:
    def record() -> Any:
        with action_context("test"):
            return services.record_value(
                actor=floor.operator,
                number=floor.number,
                step_key="clearance",
                key=key,
                value=value,
            )

    return record


def test_recording_commits_while_a_service_holds_the_batch(floor: Any) -> None:
    assert connection.vendor == "postgresql"
    floor.start()
    held, release = threading.Event(), threading.Event()

    def lock_batch() -> None:
        with transaction.atomic():
            assert selectors.lock_batch(floor.number) is not None
            held.set()
            release.wait(30)

    holder, _ = _in_thread(lock_batch)
    assert held.wait(10)
    recorder, got = _in_thread(_record(floor, "temperature", "21.0"))
    recorder.join(10)
    finished = not recorder.is_alive()
    release.set()
    holder.join(10)
    recorder.join(10)
    assert finished, "recording waited for the batch lock"
    assert "error" not in got, got.get("error")
    assert Entry.objects.filter(key="temperature").count() == 1


def test_a_waiting_foreign_key_check_does_not_hold_the_chain(floor: Any) -> None:
    floor.start()
    held, release = threading.Event(), threading.Event()
    holder, _ = _in_thread(
        _hold(
            "SELECT id FROM execution_batch WHERE number = %s FOR UPDATE",
            floor.number,
            held,
            release,
        )
    )
    assert held.wait(10)
    # Its commit must wait for the batch row (its entry refers to it) ...
    recorder, got = _in_thread(_record(floor, "temperature", "21.0"))
    recorder.join(2)
    blocked = recorder.is_alive()

    # ... but not while holding the chain head: another transaction appends meanwhile.
    def append() -> Any:
        with action_context("test"):
            return audit.record_standalone(
                actor=None, action="test.elsewhere", object_type="test", object_id="1"
            )

    appender, appended = _in_thread(append)
    appender.join(10)
    appended_meanwhile = not appender.is_alive()
    release.set()
    holder.join(10)
    recorder.join(20)
    appender.join(10)
    assert blocked, "the FOR UPDATE holder did not block the recording's foreign-key check"
    assert appended_meanwhile, "the waiting recording held the audit chain lock"
    assert "error" not in appended, appended.get("error")
    assert "error" not in got, got.get("error")
    assert Entry.objects.filter(key="temperature").count() == 1
