"""21 CFR 11.10(f): steps cannot be skipped, reordered or completed out of turn. A refused
attempt answers 409 (Conflict), is in the audit trail and becomes an exception."""

from __future__ import annotations

import pytest

from galenic.audit.models import AuditEvent
from galenic.core.errors import Conflict
from galenic.execution.models import BatchException, Entry, StepExecution

pytestmark = pytest.mark.django_db


def test_only_the_first_step_is_available_at_start(floor):
    floor.start()
    assert floor.available() == ["clearance"]
    assert list(StepExecution.objects.values_list("step_key", flat=True)) == ["clearance"]


def test_recording_a_later_step_is_refused_with_the_reason_and_audited(floor):
    floor.start()
    with pytest.raises(Conflict) as refused:
        floor.record("press", "force", "12")
    assert refused.value.field == "step"
    assert "finish 'clearance' first" in refused.value.message
    assert not Entry.objects.exists()
    event = AuditEvent.objects.filter(action="execution.entry.record.refused").get()
    assert event.object_id == floor.number
    assert "clearance" in event.reason
    exception = BatchException.objects.get(kind="refused_out_of_turn")
    assert exception.context_dict()["step"] == "press"


def test_completing_step_3_before_step_2_is_refused(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    assert floor.available() == ["weigh"]
    with pytest.raises(Conflict) as refused:
        floor.perform("press")
    assert "finish 'weigh' first" in refused.value.message
    assert AuditEvent.objects.filter(action="execution.step.perform.refused").count() == 1
    assert BatchException.objects.filter(kind="refused_out_of_turn").count() == 1


def test_a_completed_step_cannot_be_recorded_again(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    with pytest.raises(Conflict) as refused:
        floor.record("clearance", "temperature", "22")
    assert "already complete" in refused.value.message
    with pytest.raises(Conflict):
        floor.perform("clearance")


def test_a_step_waits_for_its_verification_before_the_next_opens(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    floor.weigh("weigh", "API-L", "500", "g")
    floor.record("weigh", "check_weight", "500")
    floor.perform("weigh")
    assert floor.available() == []
    with pytest.raises(Conflict) as refused:
        floor.record("press", "force", "12")
    assert "weigh" in refused.value.message
    floor.verify("weigh")
    assert floor.available() == ["press"]


def test_unknown_step_is_not_found(floor):
    from galenic.core.errors import NotFound

    floor.start()
    with pytest.raises(NotFound) as missing:
        floor.record("nonsense", "x", "1")
    assert missing.value.field == "step"
