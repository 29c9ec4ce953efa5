"""Append-only in code: the ORM refuses to change or remove audit events."""

from __future__ import annotations

import pytest

from galenic.audit.models import AppendOnlyViolation, AuditEvent


def test_append_only_queryset_refuses_bulk_update_and_delete(append):
    append(2)
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.filter(seq=1).update(reason="x")
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyViolation):
        AuditEvent.objects.bulk_update(list(AuditEvent.objects.all()), ["reason"])
    assert AuditEvent.objects.count() == 2


def test_append_only_instance_refuses_save_and_delete(append):
    append(1)
    event = AuditEvent.objects.get(seq=1)
    event.reason = "rewritten"
    with pytest.raises(AppendOnlyViolation):
        event.save()
    with pytest.raises(AppendOnlyViolation):
        event.delete()
    assert AuditEvent.objects.get(seq=1).reason == "reason 1"
