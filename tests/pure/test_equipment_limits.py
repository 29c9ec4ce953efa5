"""Tag limits and the excursion state machine (pure, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from galenic.equipment.limits import Level, Limits, advance, evaluate

D = Decimal
LIMITS = Limits(alert_low=D("20"), alert_high=D("28"), action_low=D("15"), action_high=D("32"))
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_levels_and_limits_crossed():
    assert evaluate(D("24"), LIMITS).level is Level.OK
    assert evaluate(D("28"), LIMITS).level is Level.OK  # on the limit is inside
    high = evaluate(D("28.1"), LIMITS)
    assert (high.level, high.direction, high.limit) == (Level.ALERT, "high", D("28"))
    assert evaluate(D("32.5"), LIMITS).level is Level.ACTION
    assert evaluate(D("14"), LIMITS).direction == "low"


def test_inconsistent_limits_are_named():
    assert Limits(alert_high=D("30"), action_high=D("25")).problems()[0][0] == "action_high"
    assert Limits(alert_low=D("5"), alert_high=D("5")).problems()[0][0] == "alert_high"
    assert LIMITS.problems() == []
    assert Limits(action_low=D("1"), action_high=D("2")).problems() == []


@given(st.lists(st.decimals(min_value=0, max_value=50, places=1), min_size=1, max_size=60))
def test_excursions_partition_the_out_of_band_values(values):
    """Every value outside the alert band belongs to exactly one excursion, in order, and each
    excursion's peak and level are the most extreme of its own values."""
    state = None
    closed = []
    for n, value in enumerate(values):
        step = advance(state, value, T0 + timedelta(seconds=n), LIMITS)
        if step.closed is not None:
            closed.append(step.closed)
        state = step.state
    if state is not None:
        closed.append(state)
    outside = [v for v in values if evaluate(v, LIMITS).level is not Level.OK]
    assert sum(e.count for e in closed) == len(outside)
    for e in closed:
        assert evaluate(e.peak_value, LIMITS).direction == e.direction
        assert e.level is evaluate(e.peak_value, LIMITS).level


def test_escalation_and_direction_change():
    s1 = advance(None, D("29"), T0, LIMITS)
    assert s1.opened
    assert s1.state is not None
    assert s1.state.level is Level.ALERT
    s2 = advance(s1.state, D("33"), T0 + timedelta(seconds=1), LIMITS)
    assert s2.escalated
    assert s2.state is not None
    assert s2.state.level is Level.ACTION
    s3 = advance(s2.state, D("10"), T0 + timedelta(seconds=2), LIMITS)
    assert s3.opened
    assert s3.closed is not None
    assert s3.closed.peak_value == D("33")
    s4 = advance(s3.state, D("24"), T0 + timedelta(seconds=3), LIMITS)
    assert s4.state is None
    assert s4.closed is not None
    assert s4.closed.direction == "low"
