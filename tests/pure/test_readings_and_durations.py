"""Instrument capture modes, step durations against their expected range, and batch yield."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from galenic.recipes.document import Flow, MasterBatchRecord
from galenic.rules.limits import Outcome
from galenic.rules.readings import NoReadings, aggregate
from galenic.rules.units import IncompatibleUnits, Quantity

Q = Quantity.parse


def test_capture_modes() -> None:
    readings = [Q("59.5 °C"), Q("61.25 °C"), Q("333.15 K")]
    assert aggregate(readings, "minimum") == Q("59.5 °C")
    assert aggregate(readings, "maximum") == Q("61.25 °C")
    assert aggregate(readings, "at_confirm") == Q("60 °C")
    assert aggregate([Q("10 kW"), Q("11 kW"), Q("12.5 kW"), Q("12.5 kW")], "mean") == Q("11.5 kW")
    assert aggregate([Q("1 kg"), Q("500 g")], "mean") == Q("0.75 kg")


def test_capture_refuses_nothing_and_mixtures() -> None:
    with pytest.raises(NoReadings):
        aggregate([], "mean")
    with pytest.raises(IncompatibleUnits):
        aggregate([Q("1 kg"), Q("1 L")], "maximum")
    with pytest.raises(ValueError, match="unknown capture mode"):
        aggregate([Q("1 kg")], "median")


def test_step_duration_against_expected_range(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)  # dissolve expects 10 to 30 min
    assert flow.check_duration("dissolve", timedelta(minutes=20)).outcome is Outcome.IN_RANGE  # type: ignore[union-attr]
    assert flow.check_duration("dissolve", timedelta(minutes=30)).outcome is Outcome.IN_RANGE  # type: ignore[union-attr]
    late = flow.check_duration("dissolve", timedelta(minutes=31))
    assert late is not None
    assert late.outcome is Outcome.ACTION_HIGH
    assert late.message == "31.0 min is above the action limit 30 min"
    assert flow.check_duration("dissolve", Q("540 s")).outcome is Outcome.ACTION_LOW  # type: ignore[union-attr]
    assert flow.check_duration("fill", timedelta(hours=5)) is None


def test_batch_yield_once_the_actual_is_recorded(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)
    state = flow.start()
    assert flow.yield_result(state) is None
    for key, values in [
        ("line_clearance", {"room_clear": True}),
        ("weigh_api", {"api_mass": Q("1 kg")}),
        ("charge_water", {"water_temp": Q("25 °C")}),
        ("issue_labels", {"labels_issued": Q("1000 item")}),
        ("dissolve", {"ph": Q("5 pH"), "appearance": "clear"}),
        ("fill", {"bottles": Q("975 bottle")}),
    ]:
        state = state.complete(key, values)
    result = flow.yield_result(state)
    assert result is not None
    assert result.percent == Decimal("97.5")
    assert result.needs_investigation  # below 98.0 %
