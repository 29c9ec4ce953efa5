"""Checks for choice, yes/no, text, date-time and barcode values."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from galenic.rules.limits import (
    InvalidValue,
    Outcome,
    evaluate_barcode,
    evaluate_boolean,
    evaluate_choice,
    evaluate_datetime,
    evaluate_text,
    gs1_check_digit_ok,
    parse_gs1,
)


def test_choice_not_offered_is_refused_unexpected_one_is_flagged() -> None:
    choices = ["clear", "hazy", "turbid"]
    assert evaluate_choice("clear", choices, ["clear"]).outcome is Outcome.IN_RANGE
    assert evaluate_choice("hazy", choices, ["clear"]).outcome is Outcome.NOT_EXPECTED
    assert evaluate_choice("hazy", choices).outcome is Outcome.IN_RANGE
    with pytest.raises(InvalidValue, match="not one of"):
        evaluate_choice("purple", choices)


def test_boolean_expected_answer() -> None:
    assert evaluate_boolean(True, True).outcome is Outcome.IN_RANGE
    assert evaluate_boolean("no", True).outcome is Outcome.NOT_EXPECTED
    assert evaluate_boolean(False).outcome is Outcome.IN_RANGE
    with pytest.raises(InvalidValue):
        evaluate_boolean("maybe")


def test_text_length_and_pattern() -> None:
    assert evaluate_text("LOT-123", pattern=r"LOT-\d+").outcome is Outcome.IN_RANGE
    assert evaluate_text("lot 123", pattern=r"LOT-\d+").outcome is Outcome.NOT_EXPECTED
    with pytest.raises(InvalidValue):
        evaluate_text("x" * 11, max_length=10)


def test_datetime_needs_a_zone() -> None:
    assert evaluate_datetime("2026-03-01T14:30:00+01:00").outcome is Outcome.IN_RANGE
    with pytest.raises(InvalidValue, match="time zone"):
        evaluate_datetime("2026-03-01T14:30:00")
    late = evaluate_datetime(
        datetime(2026, 3, 2, tzinfo=UTC), not_after=datetime(2026, 3, 1, tzinfo=UTC)
    )
    assert late.outcome is Outcome.ACTION_HIGH


def test_gtin_check_digit() -> None:
    assert gs1_check_digit_ok("09501101530003")
    assert gs1_check_digit_ok("4006381333931")
    assert not gs1_check_digit_ok("4006381333932")


def test_gs1_element_strings_both_forms() -> None:
    human = parse_gs1("(01)09501101530003(17)271231(10)LOT42")
    raw = parse_gs1("0109501101530003172712311" + "0LOT42")
    assert human == raw == {"01": "09501101530003", "17": "271231", "10": "LOT42"}
    with pytest.raises(InvalidValue, match="check digit"):
        parse_gs1("(01)09501101530004")


def test_barcode_wrong_form_or_wrong_code_is_recorded_and_flagged() -> None:
    assert evaluate_barcode("4006381333931", symbology="gtin").outcome is Outcome.IN_RANGE
    assert evaluate_barcode("4006381333932", symbology="gtin").outcome is Outcome.NOT_EXPECTED
    assert evaluate_barcode("API-PCM-001", pattern=r"API-[A-Z]+-\d{3}").outcome is Outcome.IN_RANGE
    wrong = evaluate_barcode("EXC-MST-001", expected="API-PCM-001")
    assert wrong.outcome is Outcome.NOT_EXPECTED
    assert "expected 'API-PCM-001'" in wrong.message
    with pytest.raises(InvalidValue):
        evaluate_barcode("x" * 201)
    with pytest.raises(InvalidValue):
        evaluate_barcode("ab\x00c")
