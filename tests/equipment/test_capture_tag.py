"""Process values for step parameters: live at confirmation, or min/max/mean over the step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from equipment_helpers import D, ingest, item

from galenic.core.context import action_context
from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.equipment import errors, selectors, services


def test_value_at_confirmation(plant, personas):
    now = utcnow()
    ingest(
        plant,
        item(value="24.0", at=now - timedelta(seconds=3)),
        item(value="24.7", at=now - timedelta(seconds=1)),
    )
    with action_context("test"):
        capture = services.capture_tag_value(actor=personas["operator"], tag_code="GRN-T1.temp")
    assert capture.value == D("24.7")
    assert capture.unit == "degC"
    assert (capture.equipment_code, capture.device_id) == ("GRN-T1", "GRN-T1")
    assert capture.reading_id is not None


def test_stale_value_is_refused_with_its_age(plant):
    ingest(plant, item(value="24.0", at=utcnow() - timedelta(seconds=45)))
    with pytest.raises(errors.StaleReading, match=r"45 s old \(at most 10 s allowed\)"):
        selectors.tag_value_for_capture("GRN-T1.temp")


def test_min_max_mean_over_the_step(plant):
    t0 = utcnow() - timedelta(minutes=5)
    values = ["24.0", "25.0", "26.5", "23.5", "25.0"]
    ingest(plant, *[item(value=v, at=t0 + timedelta(seconds=n)) for n, v in enumerate(values)])
    window = (t0, t0 + timedelta(seconds=4))
    got = {
        mode: selectors.tag_value_for_capture("GRN-T1.temp", window=window, mode=mode)
        for mode in ("min", "max", "mean")
    }
    assert got["min"].value == D("23.5")
    assert got["max"].value == D("26.5")
    assert got["mean"].value == D("24.8")
    assert got["mean"].count == 5
    assert got["mean"].complete


def test_window_with_no_values_or_a_dead_tail(plant):
    t0 = utcnow() - timedelta(minutes=5)
    ingest(plant, item(value="24", at=t0))
    with pytest.raises(errors.NoReading):
        selectors.tag_value_for_capture(
            "GRN-T1.temp",
            window=(t0 - timedelta(minutes=2), t0 - timedelta(minutes=1)),
            mode="mean",
        )
    with pytest.raises(errors.StaleReading, match="stopped delivering"):
        selectors.tag_value_for_capture(
            "GRN-T1.temp", window=(t0, t0 + timedelta(minutes=1)), mode="max"
        )


def test_gap_inside_the_window_is_reported(plant):
    t0 = utcnow() - timedelta(minutes=5)
    ingest(plant, item(value="24", at=t0), item(value="25", at=t0 + timedelta(seconds=60)))
    capture = selectors.tag_value_for_capture(
        "GRN-T1.temp", window=(t0, t0 + timedelta(seconds=60)), mode="mean"
    )
    assert capture.max_gap_s == 60
    assert not capture.complete


def test_excursions_in_the_window_come_with_the_capture(plant):
    t0 = utcnow() - timedelta(minutes=5)
    ingest(
        plant,
        item(value="24", at=t0),
        item(value="29", at=t0 + timedelta(seconds=1)),
        item(value="24", at=t0 + timedelta(seconds=2)),
    )
    capture = selectors.tag_value_for_capture(
        "GRN-T1.temp", window=(t0, t0 + timedelta(seconds=2)), mode="max"
    )
    assert capture.value == D("29")
    assert [e.level for e in capture.excursions] == ["alert"]


def test_bad_mode_and_window(plant):
    with pytest.raises(ValidationFailed, match="mode must be"):
        selectors.tag_value_for_capture("GRN-T1.temp", mode="median")  # type: ignore[arg-type]
    with pytest.raises(ValidationFailed, match="time window"):
        selectors.tag_value_for_capture("GRN-T1.temp", mode="mean")
