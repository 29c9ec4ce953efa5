"""Hold and resume: supervisors only, always with a reason; a batch on hold takes no entries."""

from __future__ import annotations

import pytest

from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.execution import services
from galenic.execution.models import BatchStatus, Entry

pytestmark = pytest.mark.django_db


def _hold(floor, user, reason="line stopped: tablet press jam"):
    with action_context("test"):
        return services.hold_batch(actor=user, number=floor.number, reason=reason)


def _resume(floor, user, reason="press repaired and cleared"):
    with action_context("test"):
        return services.resume_batch(actor=user, number=floor.number, reason=reason)


@pytest.mark.parametrize(
    "role", ["operator", "verifier", "reviewer", "approver", "inspector", "admin"]
)
def test_only_supervisors_hold(floor, role):
    floor.start()
    with pytest.raises(PermissionDenied):
        _hold(floor, floor.personas[role])
    assert floor.batch().status == BatchStatus.IN_PROGRESS


def test_hold_needs_a_reason(floor):
    floor.start()
    with pytest.raises(ValidationFailed) as refused:
        _hold(floor, floor.supervisor, reason="")
    assert refused.value.field == "reason"


def test_on_hold_nothing_is_recorded_until_resumed(floor):
    floor.start()
    batch = _hold(floor, floor.supervisor)
    assert batch.status == BatchStatus.ON_HOLD
    with pytest.raises(Conflict) as refused:
        floor.record("clearance", "temperature", "21")
    assert "on hold" in refused.value.message
    assert "jam" in refused.value.message
    assert not Entry.objects.exists()
    with pytest.raises(PermissionDenied):
        _resume(floor, floor.operator)
    with pytest.raises(ValidationFailed):
        _resume(floor, floor.supervisor, reason=" ")
    assert _resume(floor, floor.supervisor).status == BatchStatus.IN_PROGRESS
    floor.record("clearance", "temperature", "21")
    actions = list(
        AuditEvent.objects.filter(action__startswith="execution.batch.").values_list(
            "action", "reason"
        )
    )
    assert ("execution.batch.hold", "line stopped: tablet press jam") in actions
    assert ("execution.batch.resume", "press repaired and cleared") in actions


def test_hold_twice_and_resume_when_running_are_conflicts(floor):
    floor.start()
    _hold(floor, floor.supervisor)
    with pytest.raises(Conflict):
        _hold(floor, floor.supervisor)
    _resume(floor, floor.supervisor)
    with pytest.raises(Conflict):
        _resume(floor, floor.supervisor)
