"""Yield and scaling in Decimal (211.186(b)(7), 211.188(b)(7))."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.rules.units import IncompatibleUnits, Quantity
from galenic.rules.yields import YieldError, evaluate_yield, percent_of, scale

Q = Quantity.parse
D = Decimal


def test_percent_is_exact_decimal() -> None:
    assert percent_of(Q("291000 tablet"), Q("300000 tablet")) == D(97)
    assert percent_of(Q("178.2 kg"), Q("180000 g")) == D("99")


def test_limits_are_inclusive_after_rounding() -> None:
    at_low = evaluate_yield(
        Q("291000 tablet"), Q("300000 tablet"), low_percent=D("97.0"), high_percent=D("101.0")
    )
    assert at_low.within_limits
    below = evaluate_yield(
        Q("290849 tablet"), Q("300000 tablet"), low_percent=D("97.0"), high_percent=D("101.0")
    )
    assert below.percent_rounded == D("96.9")
    assert below.needs_investigation
    assert "investigate" in below.message
    rounds_in = evaluate_yield(
        Q("290850 tablet"), Q("300000 tablet"), low_percent=D("97.0"), high_percent=D("101.0")
    )
    assert rounds_in.percent == D("96.95")
    assert rounds_in.within_limits  # 96.95 rounds half away from zero to 97.0


def test_count_and_mass_bridged_by_unit_weight() -> None:
    result = evaluate_yield(
        Q("174.6 kg"),
        Q("300000 tablet"),
        low_percent=D("97.0"),
        high_percent=D("101.0"),
        unit_weight=Q("600 mg"),
    )
    assert result.percent == D(97)
    with pytest.raises(IncompatibleUnits):
        percent_of(Q("174.6 kg"), Q("300000 tablet"))


def test_scaling_follows_the_batch_size() -> None:
    assert scale(Q("150 kg"), Q("300000 tablet"), Q("150000 tablet")) == Q("75 kg")
    assert scale(Q("150 kg"), Q("300000 tablet"), Q("300 ktab")) == Q("150 kg")
    with pytest.raises(IncompatibleUnits):
        scale(Q("150 kg"), Q("300000 tablet"), Q("150 kg"))
    with pytest.raises(YieldError):
        scale(Q("150 kg"), Q("300000 tablet"), Q("0 tablet"))


def test_zero_theoretical_is_refused() -> None:
    with pytest.raises(YieldError):
        percent_of(Q("1 kg"), Q("0 kg"))


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_scaling_is_linear_and_exact(nominal: int, actual: int) -> None:
    scaled = scale(
        Quantity(D(nominal), "kg"), Quantity(D(nominal), "item"), Quantity(D(actual), "item")
    )
    assert scaled == Quantity(D(actual), "kg")
