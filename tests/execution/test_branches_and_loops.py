"""Parallel branches run side by side; conditional steps and repeat loops follow the MBR
(tiny.yaml: water and labels in parallel after set-up; pH adjustment only when the pH is out of
range, repeated until in range, at most 3 times)."""

from __future__ import annotations

import pytest

from galenic.core.errors import Conflict
from galenic.execution.models import BatchException, StepExecution, StepStatus

pytestmark = pytest.mark.django_db


def _to_mixing(floor):
    floor.start("tiny.yaml", "T001")
    floor.record("line_clearance", "room_clear", True)
    floor.perform("line_clearance")
    floor.weigh("weigh_api", "API-T", "1.000", "kg")
    floor.record("weigh_api", "api_mass", "1.001", reason="balance BAL-9 offline, read by eye")
    floor.perform("weigh_api")
    floor.verify("weigh_api")


def test_parallel_branches_are_available_together_and_join(floor):
    _to_mixing(floor)
    assert sorted(floor.available()) == ["charge_water", "issue_labels"]
    floor.record("issue_labels", "labels_issued", "1000")
    floor.perform("issue_labels")
    # The join waits for the other branch.
    assert floor.available() == ["charge_water"]
    with pytest.raises(Conflict) as refused:
        floor.record("dissolve", "ph", "5.0")
    assert "charge_water" in refused.value.message
    floor.record("charge_water", "water_temp", "25")
    floor.perform("charge_water")
    assert floor.available() == ["dissolve"]


def _dissolve(floor, ph):
    floor.record("issue_labels", "labels_issued", "1000")
    floor.perform("issue_labels")
    floor.record("charge_water", "water_temp", "25")
    floor.perform("charge_water")
    floor.record("dissolve", "ph", ph, comment="pH out of range before adjustment")
    floor.record("dissolve", "appearance", "clear")
    floor.perform("dissolve")


def test_conditional_step_is_skipped_with_its_reason_when_the_condition_is_false(floor):
    _to_mixing(floor)
    _dissolve(floor, "5.0")
    skipped = StepExecution.objects.get(step_key="adjust_ph")
    assert skipped.status == StepStatus.SKIPPED
    assert "is false" in skipped.reason
    assert "5.0" in skipped.reason
    assert floor.available() == ["fill"]
    with pytest.raises(Conflict) as refused:
        floor.record("adjust_ph", "ph_adjusted", "5.0")
    assert "skipped" in refused.value.message


def test_repeat_loop_runs_until_its_goal_holds(floor):
    _to_mixing(floor)
    _dissolve(floor, "6.0")
    assert floor.available() == ["adjust_ph"]
    floor.record("adjust_ph", "ph_adjusted", "5.8", comment="still high, adding acid")
    floor.perform("adjust_ph")
    # Run 2 is offered as a new execution of the same step.
    assert floor.available() == ["adjust_ph"]
    assert floor.step("adjust_ph").iteration == 2
    floor.record("adjust_ph", "ph_adjusted", "5.2")
    floor.perform("adjust_ph")
    assert floor.available() == ["fill"]
    runs = StepExecution.objects.filter(step_key="adjust_ph").order_by("iteration")
    assert [r.status for r in runs] == [StepStatus.COMPLETED, StepStatus.COMPLETED]
    repeat = BatchException.objects.get(kind="repeated_attempt")
    assert repeat.context_dict()["iteration"] == 2


def test_a_loop_past_its_maximum_is_an_exception_and_the_flow_moves_on(floor):
    _to_mixing(floor)
    _dissolve(floor, "6.2")
    for value in ("6.0", "5.9", "5.7"):
        floor.record("adjust_ph", "ph_adjusted", value, comment="acid added, still high")
        floor.perform("adjust_ph")
    assert floor.available() == ["fill"]
    exhausted = BatchException.objects.get(kind="loop_exhausted")
    assert exhausted.severity == "action"
    assert "3 of at most 3" in exhausted.message
    with pytest.raises(Conflict) as refused:
        floor.record("adjust_ph", "ph_adjusted", "5.0")
    assert "has ended" in refused.value.message
