"""Real units with exact Decimal conversion."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.rules.units import (
    IncompatibleUnits,
    Quantity,
    UnitError,
    UnknownUnit,
    check_unit,
    compatible,
    convert,
    unit_system,
)

Q = Quantity.parse


def test_500_mg_equals_0_5_g_and_hashes_alike() -> None:
    assert Q("500 mg") == Q("0.5 g")
    assert hash(Q("500 mg")) == hash(Q("0.5 g"))
    assert Q("500 mg") != Q("0.6 g")


def test_conversion_is_exact_decimal() -> None:
    assert convert(Decimal("500"), "mg", "g") == Decimal("0.5")
    assert Q("1.25 g/mL").to("kg/L").magnitude == Decimal("1.25")
    assert Q("0.1 kg").to("g").magnitude == Decimal("100")
    assert isinstance(Q("3 h").to("min").magnitude, Decimal)


def test_ordering_converts_units() -> None:
    assert Q("0.598 g") < Q("600 mg")
    assert Q("60 °C") > Q("330 K")
    assert Q("2.5 %") < Q("0.03")


def test_arithmetic_keeps_decimals() -> None:
    assert Q("600 mg") + Q("0.5 g") == Q("1100 mg")
    assert str(Q("3 h") + Q("30 min")) == "3.5 h"
    assert (Q("10 mL") * Q("1.25 g/mL")).to("g") == Q("12.5 g")
    assert (Q("1 kg") / Q("250 g")) == Q("4")


def test_temperature_differences_but_no_sums() -> None:
    assert (Q("60 °C") - Q("55 °C")).to("K") == Q("5 K")
    with pytest.raises(UnitError, match="temperatures"):
        Q("60 °C") + Q("5 °C")


def test_shop_floor_count_units() -> None:
    assert Q("300000 tablets") == Q("300 ktab")
    assert compatible("bottle", "item")
    assert not compatible("tablet", "mg")


def test_ph_is_its_own_dimension() -> None:
    assert not compatible("pH", "")
    assert not compatible("pH", "%")


@pytest.mark.parametrize("bad", ["mgg", "kg**1000", "__class__", "os.system", "kg^9", "1/min", ""])
def test_unknown_units_are_refused(bad: str) -> None:
    if bad == "":
        assert check_unit(bad) == ""  # no unit is a valid (dimensionless) unit
        return
    with pytest.raises(UnknownUnit):
        check_unit(bad)


def test_incompatible_units_are_refused_with_both_named() -> None:
    with pytest.raises(IncompatibleUnits, match="mg"):
        Q("5 mL").to("mg")
    with pytest.raises(IncompatibleUnits):
        Q("5 mL") < Q("5 mg")  # noqa: B015


@pytest.mark.parametrize("bad", ["NaN mg", "inf g", "1e308 kg", "0,5 g", "five g", "12"])
def test_quantity_text_refuses_nonsense(bad: str) -> None:
    if bad == "12":
        assert Q(bad) == Quantity(Decimal(12), "")
        return
    with pytest.raises(UnitError):
        Q(bad)


def test_quantity_text_with_explicit_decimal_comma() -> None:
    assert Quantity.parse("0,5 g", allow_decimal_comma=True) == Q("500 mg")


def test_unit_systems() -> None:
    assert unit_system("kg") == "metric"
    assert unit_system("mg/tablet") == "metric"
    assert unit_system("lb") == "imperial"
    assert unit_system("oz") == "imperial"


@given(
    # 100 t in µg is 1e14: the largest that stays within the 15 integer digits a figure may have.
    st.decimals(min_value=Decimal("0.001"), max_value=Decimal(10**5), places=3),
    st.sampled_from(["mg", "g", "kg", "µg"]),
    st.sampled_from(["mg", "g", "kg", "µg"]),
)
def test_mass_conversion_round_trips_exactly(value: Decimal, a: str, b: str) -> None:
    q = Quantity(value, a)
    assert q.to(b).to(a) == q
    assert q.to(b) == q
