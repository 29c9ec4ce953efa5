"""The chain-head lock is held only at commit: a transaction's events are collected, then
appended together, in order, under one lock; events of a rolled-back savepoint are dropped."""

from __future__ import annotations

import pytest
from django.db import connection, transaction

from galenic.audit import services as audit
from galenic.audit.models import AuditEvent


def _record(action: str, **kwargs):
    return audit.record(actor=None, action=action, **kwargs)


def test_events_are_appended_at_commit_in_order_with_consecutive_seqs(db):
    with transaction.atomic():
        a = _record("test.a")
        b = _record("test.b")
        assert a.seq is None  # collected, not yet appended: the lock is not taken yet
        assert [e.action for e in audit.pending_events(connection)] == ["test.a", "test.b"]
        assert AuditEvent.objects.count() == 0
    assert (a.seq, b.seq) == (1, 2)
    assert b.prev_hash == a.hash
    assert list(AuditEvent.objects.values_list("action", flat=True)) == ["test.a", "test.b"]


def test_savepoint_rollback_drops_its_events_and_seqs_stay_gap_free(db, verify):
    def failing_step() -> None:
        with transaction.atomic():
            _record("test.dropped")
            raise ValueError

    with transaction.atomic():
        _record("test.kept.1")
        with pytest.raises(ValueError):
            failing_step()
        _record("test.kept.2")
    assert list(AuditEvent.objects.values_list("seq", "action")) == [
        (1, "test.kept.1"),
        (2, "test.kept.2"),
    ]
    assert verify().ok


def test_nested_service_transactions_append_once_at_the_outer_commit(db):
    with transaction.atomic():
        with transaction.atomic():
            _record("test.inner")
        assert AuditEvent.objects.count() == 0  # inner block released, outer still open
        _record("test.outer")
    assert list(AuditEvent.objects.values_list("seq", "action")) == [
        (1, "test.inner"),
        (2, "test.outer"),
    ]


def test_immediate_record_is_appended_at_once(db):
    with transaction.atomic():
        event = _record("test.now", immediate=True)
        assert event.seq == 1
        assert AuditEvent.objects.filter(seq=1, action="test.now").exists()


def test_separator_in_text_is_refused(db):
    from galenic.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught, transaction.atomic():
        _record("test.sep", reason="bad\x1ftext")
    assert caught.value.field == "reason"
