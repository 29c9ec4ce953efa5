"""The hot-path reads and writes written with SQL once (core.rows, execution.selectors) give and
store exactly what the ORM would: every field, converted the same way, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from django.db.backends.utils import CursorWrapper
from django.db.models.signals import post_save

from galenic.core import rows
from galenic.core.errors import NotFound
from galenic.core.timefmt import utcnow
from galenic.execution import selectors
from galenic.execution.models import Batch, Entry, StepExecution

pytestmark = pytest.mark.django_db


def _fields(obj: Any) -> dict[str, Any]:
    deferred = obj.get_deferred_fields()
    return {
        f.attname: getattr(obj, f.attname)
        for f in obj._meta.concrete_fields
        if f.attname not in deferred
    }


def test_open_step_and_locks_read_what_the_orm_reads(floor: Any) -> None:
    floor.start()
    floor.record("clearance", "temperature", "21.0")
    orm_step = StepExecution.objects.get(batch__number="B001", step_key="clearance")
    orm_batch = Batch.objects.get(number="B001")

    peek = selectors.open_step("B001", "clearance")
    assert peek is not None
    assert _fields(peek) == _fields(orm_step)
    # The batch comes with it, without its frozen document (loaded on access, as .defer does).
    assert peek.batch.get_deferred_fields() == {"document_json"}
    without_document = {k: v for k, v in _fields(orm_batch).items() if k != "document_json"}
    assert _fields(peek.batch) == without_document
    assert peek.batch.document_json == orm_batch.document_json
    assert selectors.open_step("B001", "clearance", iteration=2) is None
    assert selectors.open_step("B001", "press") is None
    assert selectors.open_step("NOPE", "clearance") is None

    read = selectors.get_batch("B001")
    assert read.get_deferred_fields() == {"document_json"}
    assert _fields(read) == without_document
    with pytest.raises(NotFound):
        selectors.get_batch("NOPE")

    with transaction.atomic():
        locked = selectors.lock_batch("B001")
        assert locked is not None
        assert _fields(locked) == without_document
        step = selectors.lock_open_step(locked, "clearance")
        assert step is not None
        assert _fields(step) == _fields(orm_step)
        assert step.batch is locked
    assert rows.get(StepExecution, orm_step.pk) is not None
    assert _fields(rows.get(StepExecution, orm_step.pk)) == _fields(orm_step)
    assert rows.get(StepExecution, 10**9) is None


def test_step_entries_match_the_orm(floor: Any) -> None:
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21.0")
    step = StepExecution.objects.get(batch__number="B001", step_key="clearance")
    orm = list(Entry.objects.filter(step=step).select_related("recorded_by").order_by("id"))
    fast = selectors.step_entries(step, recorders=True)
    assert [_fields(e) for e in fast] == [_fields(e) for e in orm]
    assert [e.recorded_by.username for e in fast] == [e.recorded_by.username for e in orm]
    assert all(e.step is step for e in fast)
    assert [_fields(e) for e in selectors.step_entries(step)] == [_fields(e) for e in orm]


def test_insert_and_update_store_what_save_stores(floor: Any) -> None:
    floor.start()
    entry = floor.record("clearance", "temperature", "21.0")
    step = StepExecution.objects.get(pk=entry.step_id)

    def copy(supersedes: Entry) -> Entry:
        clone = Entry.objects.get(pk=entry.pk)
        clone.pk = None
        clone._state.adding = True
        clone.supersedes = supersedes  # a correction: the first entry of a key is unique
        return clone

    with transaction.atomic():
        by_orm = copy(entry)
        by_orm.save(force_insert=True)
        by_rows = copy(by_orm)
        rows.insert(by_rows)
        assert by_rows.pk is not None
        assert not by_rows._state.adding
        stored = {e.pk: _fields(e) for e in Entry.objects.filter(pk__in=[by_orm.pk, by_rows.pk])}
        assert stored[by_rows.pk] == _fields(by_rows)
        ignore = {"id", "supersedes_id"}
        assert {k: v for k, v in stored[by_rows.pk].items() if k not in ignore} == {
            k: v for k, v in stored[by_orm.pk].items() if k not in ignore
        }
        transaction.set_rollback(True)

    step.row_version += 1
    step.reason = "why not"
    step.started_at = utcnow()
    rows.update(step, ["row_version", "reason", "started_at"])
    assert _fields(StepExecution.objects.get(pk=step.pk)) == _fields(step)


def test_updates_send_the_signals_save_sends(floor: Any) -> None:
    floor.start()
    batch = Batch.objects.get(number="B001")
    seen: list[Any] = []

    def receiver(sender: Any, instance: Any, update_fields: Any = None, **kw: Any) -> None:
        seen.append(sorted(update_fields or []))

    post_save.connect(receiver, sender=StepExecution, dispatch_uid="test_fast_rows")
    try:
        step = StepExecution.objects.get(batch=batch, step_key="clearance")
        step.row_version += 1
        rows.update(step, ["row_version"])
    finally:
        post_save.disconnect(dispatch_uid="test_fast_rows", sender=StepExecution)
    assert seen == [["row_version"]]
    # Batch has a receiver of its own (review): it sees the update as it would see save().
    batch.row_version += 1
    rows.update(batch, ["row_version"])
    assert Batch.objects.get(pk=batch.pk).row_version == batch.row_version


def test_rows_built_without_init_are_the_instances_from_db_makes(floor: Any) -> None:
    """RowShape.build skips Model.__init__ for plain models; with an init signal listened to it
    takes Django's own path. Both give the same instance state."""
    from django.db.models.signals import post_init

    floor.start()
    fast = selectors.open_step("B001", "clearance")
    assert fast is not None
    assert (fast._state.adding, fast._state.db) == (False, "default")
    assert fast.batch._state.adding is False

    inits: list[Any] = []

    def listener(sender: Any, instance: Any, **kw: Any) -> None:
        inits.append(instance)

    post_init.connect(listener, sender=StepExecution, dispatch_uid="test_fast_rows_init")
    try:
        slow = selectors.open_step("B001", "clearance")
    finally:
        post_init.disconnect(dispatch_uid="test_fast_rows_init", sender=StepExecution)
    assert slow is not None
    assert inits == [slow]
    assert _fields(fast) == _fields(slow)
    assert (slow._state.adding, slow._state.db) == (fast._state.adding, fast._state.db)
    # A deferred field is loaded on access, as on an instance the ORM made.
    assert fast.batch.document_json == Batch.objects.get(number="B001").document_json


def test_statements_run_through_django_cursors_when_wrapped(floor: Any) -> None:
    """With an execute wrapper (or query logging) the statements take Django's cursor, which is
    closed once read, and the results are the same."""
    from django.db import connection

    floor.start()
    expected = selectors.open_step("B001", "clearance")
    seen: list[str] = []
    closed: list[Any] = []
    real_release = rows.release

    def watch(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        seen.append(sql)
        return execute(sql, params, many, context)

    def release(cursor: Any) -> None:
        real_release(cursor)
        closed.append(cursor)

    rows.release = release  # type: ignore[assignment]
    try:
        with connection.execute_wrapper(watch):
            step = selectors.open_step("B001", "clearance")
            assert step is not None
            assert expected is not None
            assert _fields(step) == _fields(expected)
            assert selectors.step_states(step.batch)[("clearance", 1)] == step.status
            step.row_version += 1
            rows.update(step, ["row_version"])
    finally:
        rows.release = real_release  # type: ignore[assignment]
    assert len(seen) == 3
    assert len(closed) == 3
    for cursor in closed:  # Django's cursors, closed: the driver refuses to use them again
        assert isinstance(cursor, CursorWrapper)
        with pytest.raises(Exception, match=r"(?i)closed"):
            cursor.cursor.execute("SELECT 1")
    assert StepExecution.objects.get(pk=step.pk).row_version == step.row_version
