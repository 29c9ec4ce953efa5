"""Each value is checked against its limits the moment it is captured: boundaries inclusive,
action over alert, precision rounding, and units converted exactly (500 mg is 0.5 g)."""

from __future__ import annotations

import pytest

from galenic.core.errors import ValidationFailed
from galenic.execution.models import BatchException, Entry

pytestmark = pytest.mark.django_db

# clearance.temperature: target 21, alert 19-23, action 18-25 °C, precision 1


@pytest.mark.parametrize(
    ("value", "unit", "outcome", "severity"),
    [
        ("21", "", "in_range", "none"),
        ("23.0", "°C", "in_range", "none"),  # at the alert limit: meets it
        ("23.04", "", "in_range", "none"),  # rounds to 23.0
        ("23.05", "", "alert_high", "alert"),  # rounds to 23.1
        ("25", "", "alert_high", "alert"),  # at the action limit: an alert only
        ("25.1", "", "action_high", "action"),
        ("18", "", "alert_low", "alert"),
        ("17.9", "", "action_low", "action"),
        ("298.15", "K", "alert_high", "alert"),  # 25.0 °C, exactly at the action limit
        ("295.15", "K", "in_range", "none"),  # 22.0 °C
    ],
)
def test_temperature_boundaries(floor, value, unit, outcome, severity):
    floor.start()
    entry = floor.record("clearance", "temperature", value, unit, comment="noted")
    assert (entry.outcome, entry.severity) == (outcome, severity)
    assert entry.raw_value == value
    assert entry.unit == "°C"


def _to_weigh(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")


@pytest.mark.parametrize(
    ("value", "unit", "stored"),
    [("500", "mg", "500"), ("0.5", "g", "500"), ("0.0005", "kg", "500"), ("500", "", "500")],
)
def test_500_mg_and_0_5_g_are_the_same_value(floor, value, unit, stored):
    _to_weigh(floor)
    entry = floor.record("weigh", "check_weight", value, unit)
    assert entry.outcome == "in_range"
    assert entry.unit == "mg"
    assert entry.value == stored
    assert (entry.raw_value, entry.raw_unit) == (value, unit or "mg")


@pytest.mark.parametrize(
    ("value", "unit", "outcome"),
    [
        ("0.495", "g", "in_range"),
        ("0.49495", "g", "in_range"),
        ("0.49494", "g", "action_low"),
        ("505.04", "mg", "in_range"),
        ("0.50505", "g", "action_high"),
    ],
)
def test_action_limits_after_conversion_and_rounding(floor, value, unit, outcome):
    _to_weigh(floor)
    entry = floor.record("weigh", "check_weight", value, unit, comment="checked")
    assert entry.outcome == outcome


def test_alert_is_flagged_at_once_as_an_exception(floor):
    floor.start()
    entry = floor.record("clearance", "temperature", "24")
    exception = BatchException.objects.get(entry=entry)
    assert exception.kind == "limit_excursion_alert"
    assert exception.severity == "alert"
    assert exception.context_dict()["limit"] == "alert_high"


def test_expected_answer_not_given_is_an_action_excursion(floor):
    floor.start()
    entry = floor.record("clearance", "room_clear", "no")
    assert (entry.outcome, entry.severity) == ("not_expected", "action")
    assert entry.value == "false"


@pytest.mark.parametrize(
    ("value", "unit", "field", "words"),
    [
        ("500", "mL", "unit", "incompatible"),
        ("500", "blorbs", "unit", "unknown unit"),
        ("500", "furlong", "unit", "incompatible"),
        ("five hundred", "", "value", "not"),
        ("0,5", "g", "value", "decimal separator"),
        ("NaN", "", "value", "not a quantity"),
        ("NaN", "g", "value", "finite"),
        ("1e308", "", "value", "plain decimal"),
        ("0.5 g", "g", "value", "not a number"),
        ("", "", "value", "required"),
    ],
)
def test_values_that_are_not_values_are_refused_naming_the_field(floor, value, unit, field, words):
    _to_weigh(floor)
    with pytest.raises(ValidationFailed) as refused:
        floor.record("weigh", "check_weight", value, unit)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not Entry.objects.filter(key="check_weight").exists()
