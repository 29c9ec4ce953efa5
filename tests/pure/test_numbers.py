"""Strict number parsing: no NaN, no infinities, no absurd magnitudes, no comma decimals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from galenic.rules.numbers import NumberError, parse_decimal, plain, round_to


@pytest.mark.parametrize(
    ("text", "expected"),
    [("0.5", "0.5"), ("600", "600"), ("600.0", "600.0"), (" -2.25 ", "-2.25"), (".5", "0.5")],
)
def test_plain_numbers_parse_exactly(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)
    assert plain(parse_decimal(text)) == plain(Decimal(expected))


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("NaN", "finite"),
        ("inf", "finite"),
        ("-Infinity", "finite"),
        ("1e308", "plain decimal"),
        ("1" * 16, "too large"),
        ("0,5", "point as decimal separator"),
        ("1,000.5", "thousands"),
        ("12abc", "not a number"),
        ("", "required"),
        ("0." + "1" * 16, "decimals"),
    ],
)
def test_nonsense_is_refused_with_a_reason(bad: str, reason: str) -> None:
    with pytest.raises(NumberError, match=reason):
        parse_decimal(bad)


def test_floats_nan_inf_and_bools_are_refused() -> None:
    for bad in (float("nan"), float("inf"), True, None, [1]):
        with pytest.raises(NumberError):
            parse_decimal(bad)


def test_a_float_is_taken_by_its_shortest_text() -> None:
    assert parse_decimal(0.1) == Decimal("0.1")


def test_decimal_comma_only_when_explicitly_allowed() -> None:
    assert parse_decimal("0,5", allow_decimal_comma=True) == Decimal("0.5")
    with pytest.raises(NumberError):
        parse_decimal("1,000,5", allow_decimal_comma=True)


def test_exponents_only_when_explicitly_allowed_and_still_bounded() -> None:
    assert parse_decimal("1.5e3", allow_exponent=True) == Decimal(1500)
    with pytest.raises(NumberError, match="too large"):
        parse_decimal("1e308", allow_exponent=True)


def test_round_to_is_half_away_from_zero() -> None:
    assert round_to(Decimal("2.45"), 1) == Decimal("2.5")
    assert round_to(Decimal("-2.45"), 1) == Decimal("-2.5")
    assert round_to(Decimal("2.449"), 1) == Decimal("2.4")


@given(st.decimals(min_value=-(10**14), max_value=10**14, places=6, allow_nan=False))
def test_every_plain_decimal_round_trips_through_text(value: Decimal) -> None:
    assert parse_decimal(plain(value)) == value
