"""An action-limit excursion is recorded (the truth is never refused), flagged at once, opens a
deviation linked to batch, step and value, and needs a comment before the step completes."""

from __future__ import annotations

import pytest

from galenic.core.context import action_context
from galenic.core.errors import ValidationFailed
from galenic.execution import services
from galenic.execution.models import BatchException, Entry, StepStatus
from galenic.quality.models import Deviation, DeviationStatus

pytestmark = pytest.mark.django_db


def test_action_excursion_opens_a_deviation_linked_to_the_value(floor):
    floor.start()
    entry = floor.record("clearance", "temperature", "26.4")
    assert Entry.objects.get(pk=entry.pk).value == "26.4"  # recorded all the same
    exception = BatchException.objects.get(entry=entry)
    assert (exception.kind, exception.severity) == ("limit_excursion_action", "action")
    deviation = Deviation.objects.get()
    assert deviation.batch.number == floor.number
    assert deviation.step.step_key == "clearance"
    assert deviation.entry == entry
    assert deviation.exception == exception
    assert deviation.status == DeviationStatus.OPEN
    assert deviation.classification == "major"  # until QA classifies it
    assert deviation.number.startswith("DEV-")
    assert "26.4" in deviation.description
    assert "action limit" in deviation.description


def test_the_step_cannot_complete_until_the_excursion_is_commented(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    entry = floor.record("clearance", "temperature", "26.4")
    with pytest.raises(ValidationFailed) as refused:
        floor.perform("clearance")
    assert refused.value.field == "entries.temperature.comment"
    assert floor.step("clearance").status == StepStatus.IN_PROGRESS
    with action_context("test"):
        services.add_comment(
            actor=floor.operator,
            number=floor.number,
            step_key="clearance",
            entry_id=entry.pk,
            text="HVAC failure, supervisor informed",
        )
    floor.perform("clearance")
    assert floor.step("clearance").status == StepStatus.COMPLETED
    assert BatchException.objects.filter(kind="comment").count() == 1


def test_a_comment_given_with_the_value_is_enough(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "17", comment="door left open, closed now")
    floor.perform("clearance")
    assert floor.step("clearance").status == StepStatus.COMPLETED
    assert "door left open" in Deviation.objects.get().description
