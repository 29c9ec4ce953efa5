"""A batch completes only when every required step is done and signed; its yield is computed in
Decimal (actual vs theoretical, %) and a yield outside the MBR's limits opens a deviation."""

from __future__ import annotations

from decimal import Decimal

import pytest

from galenic.core.context import action_context
from galenic.core.errors import Conflict, PermissionDenied
from galenic.execution import services
from galenic.execution.models import BatchException, BatchStatus
from galenic.quality.models import Deviation

pytestmark = pytest.mark.django_db


def _complete(floor, user=None):
    with action_context("test"):
        return services.complete_batch(actor=user or floor.supervisor, number=floor.number)


def _count(floor, good, rejected="0", size=None):
    floor.start(size=size)
    floor.run_line_to_count()
    floor.record("count", "good_tablets", good)
    floor.record("count", "rejected", rejected)
    floor.perform("count")


def test_completion_with_steps_to_do_is_refused_naming_them(floor):
    floor.start()
    floor.run_line_to_count()
    with pytest.raises(Conflict) as refused:
        _complete(floor)
    assert refused.value.field == "steps"
    assert "count" in refused.value.message
    assert floor.batch().status == BatchStatus.IN_PROGRESS


def test_completion_waits_for_the_supervisor_approval(floor):
    _count(floor, "990")
    with pytest.raises(Conflict) as refused:
        _complete(floor)
    assert "count" in refused.value.message
    floor.approve("count")
    assert _complete(floor).status == BatchStatus.COMPLETED


def test_only_a_supervisor_completes(floor):
    _count(floor, "990")
    floor.approve("count")
    with pytest.raises(PermissionDenied):
        _complete(floor, floor.operator)


@pytest.mark.parametrize(
    ("good", "size", "percent", "within"),
    [
        ("990", None, Decimal("99.0"), True),
        ("950", None, Decimal("95.0"), True),  # exactly at the low limit
        ("949", None, Decimal("94.9"), False),
        ("1010", None, Decimal("101.0"), True),
        ("1011", None, Decimal("101.1"), False),
        ("1900", "2000 tablet", Decimal("95.0"), True),  # theoretical yield scales with size
        ("1899", "2000 tablet", Decimal("95.0"), True),  # 94.95 % rounds half up to 95.0
        ("1898", "2000 tablet", Decimal("94.9"), False),
    ],
)
def test_yield_maths_and_limits(floor, good, size, percent, within):
    _count(floor, good, size=size)
    floor.approve("count")
    batch = _complete(floor)
    assert batch.yield_percent == percent
    assert batch.yield_within_limits is within
    assert batch.actual_yield == f"{good} tablet"
    assert batch.theoretical_yield == (size or "1000 tablet")
    assert BatchException.objects.filter(kind="yield_out_of_limits").exists() is not within
    assert Deviation.objects.filter(source="yield").exists() is not within


def test_yield_deviation_carries_the_figures(floor):
    _count(floor, "900")
    floor.approve("count")
    _complete(floor)
    deviation = Deviation.objects.get(source="yield")
    assert "90.0 %" in deviation.description
    assert "211.192" in deviation.description
    assert deviation.batch.number == floor.number


def test_a_completed_batch_takes_no_more_entries(floor):
    _count(floor, "990")
    floor.approve("count")
    _complete(floor)
    with pytest.raises(Conflict):
        floor.record("count", "rejected", "1")
    with pytest.raises(Conflict):
        _complete(floor)
