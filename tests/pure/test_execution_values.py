"""How a captured value is stored and read back (galenic.execution.values, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.execution import values
from galenic.recipes.document.model import Parameter
from galenic.rules.limits import InvalidValue
from galenic.rules.units import Quantity

MASS = Parameter(key="mass", unit="mg")

decimals = st.decimals(
    min_value=Decimal("-1e6"), max_value=Decimal("1e6"), places=6, allow_nan=False
)


@given(decimals, st.sampled_from(["mg", "g", "kg", "µg"]))
def test_numbers_round_trip_exactly_in_the_parameter_unit(number, unit):
    captured = values.capture(MASS, str(number), unit)
    assert captured.stored.unit == "mg"
    back = values.decode(captured.stored.type, captured.stored.text, captured.stored.unit)
    assert back == Quantity(number, unit)  # exact: Decimal conversion, never a float


@given(
    st.one_of(
        st.booleans(),
        st.text(max_size=50),
        st.datetimes(timezones=st.just(UTC), min_value=datetime(2000, 1, 1)),  # noqa: DTZ001 - hypothesis wants naive bounds
        decimals.map(lambda d: Quantity(d, "kg")),
    )
)
def test_encode_decode_round_trip(value):
    stored = values.encode(value)
    assert values.decode(stored.type, stored.text, stored.unit) == value
    assert values.decode_map(values.encode_map({"k": value})) == {"k": value}


@pytest.mark.parametrize(
    ("raw", "unit"),
    [("500", ""), ("500", "mg"), ("0.5", "g"), ("0.5 g", ""), (500, ""), (0.5, "g")],
)
def test_500_mg_is_0_5_g(raw, unit):
    assert values.capture(MASS, raw, unit).stored.text == "500"


@pytest.mark.parametrize(
    ("raw", "unit", "words"),
    [
        ("0.5 g", "g", "not a number"),
        ("5", "mL", "incompatible"),
        ("5", "zork", "unknown unit"),
        (True, "", "yes/no"),
        ("", "", "required"),
        (None, "", "required"),
        ("1,5", "", "decimal separator"),
    ],
)
def test_bad_numbers(raw, unit, words):
    with pytest.raises(InvalidValue) as refused:
        values.capture(MASS, raw, unit)
    assert words in str(refused.value)


def test_a_value_too_large_for_the_parameter_unit_is_refused():
    with pytest.raises(InvalidValue) as refused:
        values.capture(MASS, "99999999999", "kg")
    assert "too large" in str(refused.value)


def test_other_types():
    clear = Parameter(key="clear", type="boolean", expected=True)
    assert values.capture(clear, "yes").stored.text == "true"
    with pytest.raises(InvalidValue):
        values.capture(clear, "yes", "mg")
    when = Parameter(key="when", type="datetime")
    moment = datetime.now(UTC) - timedelta(hours=1)
    assert values.capture(when, moment.isoformat()).value == moment
    choice = Parameter(key="c", type="choice", choices=["clean", "dirty"])
    assert values.capture(choice, "clean").stored.type == "choice"
    with pytest.raises(InvalidValue):
        values.capture(choice, "shiny")
