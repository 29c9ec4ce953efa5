"""Evaluation of the expression language: units, Decimal, functions, logic."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.rules.expressions import Expression, ExpressionError, MissingValue, evaluate
from galenic.rules.units import Quantity

Q = Quantity.parse

VALUES = {
    "a": Q("600 mg"),
    "b": Q("0.5 g"),
    "lod": Q("2.1 %"),
    "granulation.dry_mass": Q("178.5 kg"),
    "t1": datetime(2026, 1, 1, 8, 0, tzinfo=UTC),
    "t2": datetime(2026, 1, 1, 8, 25, tzinfo=UTC),
    "appearance": "clear",
    "ok": True,
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a + b", Q("1100 mg")),
        ("a - b", Q("100 mg")),
        ("a / b", Q("1.2")),
        ("2 * a", Q("1200 mg")),
        ("-2^2", Q("-4")),
        ("2^-1", Q("0.5")),
        ("2^3^2", Q("512")),
        ("(2 + 3) * 4", Q("20")),
        ("1 / 4 * 4", Q("1")),
        ("min(a, b)", Q("0.5 g")),
        ("max(a, b, 0.7 g)", Q("0.7 g")),
        ("abs(b - a)", Q("100 mg")),
        ("round(a / 7, 2)", Q("85.71 mg")),
        ("round(2.5)", Q("3")),
        ("sum(a, b)", Q("1100 mg")),
        ("mean(a, b, 1 g)", Q("700 mg")),
        ("if(a > b, a, b)", Q("600 mg")),
        (
            "granulation.dry_mass / 180 kg",
            Quantity(Decimal("0.9916666666666666666666666666666667")),
        ),
        ("1.25 [g/mL] * 10 mL", Q("12.5 g")),
        ("5 min + 1 h", Q("65 min")),
        ("t2 - t1", Q("1500 s")),
        ("a * 100 %", Q("600 mg")),
    ],
)
def test_numeric_results(source: str, expected: Quantity) -> None:
    assert evaluate(source, VALUES) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("a > b", True),
        ("a == 600 mg", True),
        ("a == 0.6 g", True),
        ("a != 0.6 g", False),
        ("lod <= 2.5 %", True),
        ("60 °C > 330 K", True),
        ('appearance == "clear" and ok', True),
        ("not ok or a >= 1 g", False),
        ("t2 - t1 <= 30 min", True),
        ("t2 > t1", True),
        ("true == ok", True),
        ("not (a > b) == false", True),
    ],
)
def test_boolean_results(source: str, expected: bool) -> None:
    assert evaluate(source, VALUES) is expected


def test_and_or_short_circuit_and_if_evaluates_one_branch() -> None:
    # 'missing' would raise if evaluated
    assert evaluate("ok or missing > 1", VALUES) is True
    assert evaluate("if(ok, a, missing)", VALUES) == Q("600 mg")


def test_missing_values_are_reported_by_name() -> None:
    with pytest.raises(MissingValue, match="'missing'"):
        evaluate("missing + 1", VALUES)


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("a / (b - 0.5 g)", "division by zero"),
        ("a + lod", "incompatible|cannot"),
        ("a > lod", "incompatible"),
        ("appearance + 1", "numbers"),
        ('appearance < "x"', "== or !="),
        ("min(a, lod)", "incompatible"),
        ("round(a, 99)", "0 to 15"),
        ("(-8)^0.5", "fractional"),
        ("a^0.5", "whole power"),
        ("not a", "true/false"),
        ("99999999999999 kg * 99999999999999", "too large|out of range"),
    ],
)
def test_evaluation_errors_are_clear(source: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason):
        evaluate(source, VALUES)


def test_references_are_listed_in_order_of_first_use() -> None:
    expr = Expression.parse("a + b * a + granulation.dry_mass / batch_size")
    assert expr.references == ("a", "b", "granulation.dry_mass", "batch_size")


@given(
    st.decimals(min_value=-1000, max_value=1000, places=3),
    st.decimals(min_value=-1000, max_value=1000, places=3),
)
def test_arithmetic_is_exact_decimal(x: Decimal, y: Decimal) -> None:
    values = {"x": Quantity(x, "g"), "y": Quantity(y, "g")}
    assert evaluate("x + y", values) == Quantity(x + y, "g")
    assert evaluate("x - y", values) == Quantity(x - y, "g")
    assert evaluate("x * 3", values) == Quantity(x * 3, "g")
    assert evaluate("x < y", values) is (x < y)
