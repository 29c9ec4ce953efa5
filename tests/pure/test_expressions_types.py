"""Static analysis: references, types and units checked before anything runs."""

from __future__ import annotations

import pytest

from galenic.rules.expressions import BOOL, TEXT, Expression, number_type

TYPES = {
    "mass": number_type("kg"),
    "volume": number_type("L"),
    "lod": number_type("%"),
    "temp": number_type("°C"),
    "appearance": TEXT,
    "ok": BOOL,
}


def analyse(source: str):  # type: ignore[no-untyped-def]
    return Expression.parse(source).analyse(TYPES)


@pytest.mark.parametrize(
    ("source", "kind", "dimension"),
    [
        ("mass / 180 kg", "number", "dimensionless"),
        ("mass / volume", "number", "[mass] / [length] ** 3"),
        ("mass + 5 kg", "number", "[mass]"),
        ("lod <= 2.5 %", "bool", ""),
        ("temp - 20 °C", "number", "[temperature]"),
        ("if(ok, mass, 1 kg)", "number", "[mass]"),
        ("mass^2", "number", "[mass] ** 2"),
        ('appearance == "clear"', "bool", ""),
    ],
)
def test_types_and_dimensions(source: str, kind: str, dimension: str) -> None:
    result = analyse(source)
    assert result.errors == []
    assert result.type is not None
    assert result.type.kind == kind
    if dimension:
        assert result.type.dimension == dimension


@pytest.mark.parametrize(
    ("source", "reason"),
    [
        ("mass + volume", "incompatible"),
        ("mass > 5 L", "incompatible"),
        ("lod <= 2.5", "without unit beside a value in %"),
        ("temp + 5 °C", "cannot be added"),
        ("temp * 2", "cannot be multiplied"),
        ("ok + 1", "needs numbers"),
        ('appearance > "a"', "== or !="),
        ("if(mass, 1, 2)", "true/false"),
        ("if(ok, mass, volume)", "incompatible"),
        ("mass ^ lod", "constant"),
        ("mass ^ 0.5", "whole exponent"),
        ("not mass", "true/false"),
        ("ok and mass", "true/false"),
        ("unknown_thing > 1", "unknown value 'unknown_thing'"),
        ("round(mass, 2 kg)", "whole number"),
    ],
)
def test_type_and_unit_errors_are_found_statically(source: str, reason: str) -> None:
    result = analyse(source)
    assert any(reason in str(e) for e in result.errors), [str(e) for e in result.errors]


def test_multiplying_by_a_bare_hundred_is_detected() -> None:
    assert Expression.parse("actual / theoretical * 100").multiplies_by_hundred()
    assert not Expression.parse("actual / theoretical * 100 %").multiplies_by_hundred()
