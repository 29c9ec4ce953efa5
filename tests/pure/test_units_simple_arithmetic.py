"""Quantity arithmetic takes a short path for same-unit sums and differences and for scaling
by a plain number; it must give exactly what pint gives (magnitude, unit text, errors)."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.rules import units
from galenic.rules.numbers import CONTEXT
from galenic.rules.units import Quantity, UnitError

UNITS = [
    "",
    "mg",
    "g",
    "kg",
    "mL",
    "L",
    "tablet",
    "%",
    "ppm",
    "degC",
    "degF",
    "kg/m^3",
    "mg/mL",
    "rpm",
    "bar",
    "min",
    "s",
    "pH",
    "µg",
    "N",
]
OPS = ["+", "-", "*", "/"]

magnitudes = st.decimals(
    min_value=Decimal("-1e9"),
    max_value=Decimal("1e9"),
    allow_nan=False,
    allow_infinity=False,
    places=4,
)


def _by_pint(a: Quantity, b: Quantity, op: str) -> Quantity | type[Exception]:
    """The long path: the same method with the short path switched off."""
    original = units._simple_binary
    units._simple_binary = lambda *_: None  # type: ignore[assignment]
    try:
        return _apply(a, b, op)
    finally:
        units._simple_binary = original


def _apply(a: Quantity, b: Quantity, op: str) -> Quantity | type[Exception]:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b
    except UnitError as exc:
        return type(exc)


@given(
    a=magnitudes,
    b=magnitudes,
    unit_a=st.sampled_from(UNITS),
    unit_b=st.sampled_from(UNITS),
    op=st.sampled_from(OPS),
)
def test_short_path_gives_what_pint_gives(
    a: Decimal, b: Decimal, unit_a: str, unit_b: str, op: str
) -> None:
    left, right = Quantity(a, unit_a), Quantity(b, unit_b)
    fast, slow = _apply(left, right, op), _by_pint(left, right, op)
    if isinstance(slow, Quantity):
        assert isinstance(fast, Quantity)
        assert (fast.magnitude, fast.unit) == (slow.magnitude, slow.unit)
        assert str(fast.magnitude) == str(slow.magnitude)
    else:
        assert fast is slow


@pytest.mark.parametrize(
    ("a", "b", "op", "expected"),
    [
        (Quantity(Decimal("600.1"), "mg"), Quantity(Decimal("599.9"), "mg"), "+", "1200.0 mg"),
        (Quantity(Decimal("6001"), "mg"), Quantity(Decimal("10"), ""), "/", "600.1 mg"),
        (Quantity(Decimal("2"), ""), Quantity(Decimal("0.25"), "L"), "*", "0.50 L"),
        (Quantity(Decimal("20"), "degC"), Quantity(Decimal("5"), "degC"), "-", None),
        (Quantity(Decimal("50"), "%"), Quantity(Decimal("2"), ""), "*", None),
    ],
)
def test_everyday_cases(a: Quantity, b: Quantity, op: str, expected: str | None) -> None:
    with decimal.localcontext(CONTEXT):
        simple = units._simple_binary(a, b, op)
    if expected is None:
        assert simple is None  # left to pint: offset temperatures, ratios
    else:
        assert simple is not None
        assert f"{simple.magnitude} {simple.unit}" == expected
