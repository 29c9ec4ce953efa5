"""Numeric limit evaluation: boundaries (a value exactly at a limit meets it), precision rounding
before comparison, action over alert, unit conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.rules.limits import (
    InvalidValue,
    NumericLimits,
    Outcome,
    Severity,
    evaluate_number,
    tolerance_limits,
)
from galenic.rules.units import Quantity

D = Decimal
INLET = NumericLimits(
    unit="°C",
    target=D(60),
    alert_low=D(57),
    alert_high=D(63),
    action_low=D(55),
    action_high=D(65),
    precision=1,
)


@pytest.mark.parametrize(
    ("value", "outcome"),
    [
        ("60", Outcome.IN_RANGE),
        ("57", Outcome.IN_RANGE),  # exactly at the alert limit: meets it
        ("63", Outcome.IN_RANGE),
        ("63.04", Outcome.IN_RANGE),  # rounds to 63.0
        ("63.05", Outcome.ALERT_HIGH),  # rounds to 63.1
        ("56.9", Outcome.ALERT_LOW),
        ("55", Outcome.ALERT_LOW),  # exactly at the action limit: not an action excursion
        ("65", Outcome.ALERT_HIGH),
        ("65.1", Outcome.ACTION_HIGH),
        ("54.95", Outcome.ACTION_LOW),  # rounds half away from zero to 55.0? no: 55.0 -> alert
        ("54.94", Outcome.ACTION_LOW),
        ("100", Outcome.ACTION_HIGH),
    ],
)
def test_boundaries(value: str, outcome: Outcome) -> None:
    expected = outcome
    if value == "54.95":
        expected = Outcome.ALERT_LOW  # 54.95 rounds to 55.0, which meets the action limit
    assert evaluate_number(f"{value} °C", INLET).outcome is expected


def test_severity_groups_outcomes() -> None:
    assert evaluate_number("60 °C", INLET).severity is Severity.NONE
    assert evaluate_number("64 °C", INLET).severity is Severity.ALERT
    assert evaluate_number("66 °C", INLET).severity is Severity.ACTION


def test_message_names_the_limit_and_value() -> None:
    result = evaluate_number("66 °C", INLET)
    assert result.limit == "action_high"
    assert result.message == "66.0 °C is above the action limit 65 °C"
    assert result.excursion


def test_values_in_other_units_are_converted_before_comparing() -> None:
    weight = NumericLimits(unit="mg", target=D(600), action_low=D(570), action_high=D(630))
    assert evaluate_number(Quantity.parse("0.600 g"), weight).outcome is Outcome.IN_RANGE
    assert evaluate_number("0.57 g", weight).outcome is Outcome.IN_RANGE
    assert evaluate_number("0.5699 g", weight).outcome is Outcome.ACTION_LOW
    assert evaluate_number(D("631"), weight).outcome is Outcome.ACTION_HIGH  # bare number = mg
    temp = NumericLimits(unit="°C", action_high=D(65))
    assert evaluate_number("338.15 K", temp).outcome is Outcome.IN_RANGE
    assert evaluate_number("338.16 K", temp).outcome is Outcome.ACTION_HIGH


@pytest.mark.parametrize("bad", ["5 mL", "abc", "NaN", "1e308", "0,6 g"])
def test_wrong_units_and_nonsense_are_invalid_not_excursions(bad: str) -> None:
    weight = NumericLimits(unit="mg", action_low=D(570), action_high=D(630))
    with pytest.raises(InvalidValue):
        evaluate_number(bad, weight)


def test_limits_order_problems_name_the_field() -> None:
    broken = NumericLimits(unit="mg", target=D(600), action_low=D(610), action_high=D(590))
    fields = {f for f, _ in broken.problems()}
    assert {"target", "action_high"} <= fields
    assert NumericLimits(unit="mg", alert_low=D(5), action_low=D(5)).problems() == []


def test_tolerance_limits_in_percent_and_absolute() -> None:
    pct = tolerance_limits(Quantity.parse("150 kg"), Quantity.parse("0.5 %"))
    assert (pct.action_low, pct.action_high) == (D("149.25"), D("150.75"))
    absolute = tolerance_limits(Quantity.parse("150 kg"), Quantity.parse("500 g"))
    assert (absolute.action_low, absolute.action_high) == (D("149.5"), D("150.5"))


@given(st.decimals(min_value=-1000, max_value=1000, places=2))
def test_outcome_is_consistent_with_limits(value: Decimal) -> None:
    outcome = evaluate_number(Quantity(value, "°C"), INLET).outcome
    if D(55) <= value <= D(65):
        assert outcome.severity is not Severity.ACTION
    else:
        assert outcome in (Outcome.ACTION_LOW, Outcome.ACTION_HIGH)
    if D(57) <= value <= D(63):
        assert outcome is Outcome.IN_RANGE
