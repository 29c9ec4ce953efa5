"""Instrument parameters: the value comes from the device with its identity (11.10(h), 211.68);
a manual entry where an instrument is expected needs a reason and is always an exception; a
captured scale value is not replaced by hand without a deviation (211.101)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from execution_helpers import DATA, effective_version

from galenic.core.context import action_context
from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.equipment import errors as equipment_errors
from galenic.equipment import services as equipment
from galenic.execution import services
from galenic.execution.models import BatchException, Entry
from galenic.gateway.readings import to_micros
from galenic.quality.models import Deviation

pytestmark = pytest.mark.django_db


@pytest.fixture
def plant(personas: dict[str, Any]) -> Any:
    admin = personas["admin"]
    today = utcnow().date()
    with action_context("test"):
        gateway, _token = equipment.register_gateway(actor=admin, code="GW-X", name="Gateway")
        for code, kind, serial in (("BAL-X1", "balance", "SN-42"), ("GRN-X1", "granulator", "")):
            equipment.register_equipment(
                actor=admin,
                code=code,
                name=code,
                kind=kind,
                serial_number=serial,
                gateway_code="GW-X",
            )
            equipment.record_calibration(
                actor=admin, code=code, performed_on=today, due=today + timedelta(days=30)
            )
        equipment.define_tag(
            actor=admin,
            code="BAL-X1.weight",
            equipment_code="BAL-X1",
            name="Weight",
            unit="g",
            max_age_s=5,
        )
        equipment.define_tag(
            actor=admin,
            code="GRN-X1.temp",
            equipment_code="GRN-X1",
            name="Temperature",
            unit="degC",
            max_age_s=10,
        )
    return equipment.DevicePrincipal(gateway)


def _reading(
    device: Any,
    tag: str,
    value: str,
    unit: str,
    *,
    serial: str = "",
    raw: str = "",
    age_s: float = 0.5,
) -> None:
    at = utcnow() - timedelta(seconds=age_s)
    with action_context("test"):
        equipment.ingest_readings(
            actor=device,
            items=[
                {
                    "source": tag.split(".")[0],
                    "tag": tag,
                    "seq": to_micros(at),
                    "value": value,
                    "unit": unit,
                    "device_time": at.isoformat(),
                    "received_at": at.isoformat(),
                    "quality": "good",
                    "serial": serial,
                    "raw": raw or value,
                }
            ],
        )


def _at_weighing(floor):
    floor.start("tiny.yaml", "T001")
    floor.record("line_clearance", "room_clear", True)
    floor.perform("line_clearance")


def test_a_balance_reading_is_recorded_with_the_device_identity(floor, plant):
    _at_weighing(floor)
    _reading(plant, "BAL-X1.weight", "1000.4", "g", serial="SN-42", raw="S S     1000.4 g")
    entry = floor.record("weigh_api", "api_mass", None, source="instrument", instrument="BAL-X1")
    assert (entry.value, entry.unit) == ("1.0004", "kg")
    assert (entry.raw_value, entry.raw_unit) == ("1000.4", "g")
    assert (entry.source, entry.instrument_code, entry.instrument_serial) == (
        "instrument",
        "BAL-X1",
        "SN-42",
    )
    assert '"raw":"S S     1000.4 g"' in entry.reading
    assert entry.outcome == "in_range"
    assert not BatchException.objects.exists()


def test_a_stale_reading_is_refused_and_nothing_is_recorded(floor, plant):
    _at_weighing(floor)
    _reading(plant, "BAL-X1.weight", "1000.4", "g", serial="SN-42", age_s=60)
    with pytest.raises(equipment_errors.StaleReading) as refused:
        floor.record("weigh_api", "api_mass", None, source="instrument", instrument="BAL-X1")
    assert refused.value.field == "instrument"
    assert not Entry.objects.filter(key="api_mass").exists()


def test_a_reading_from_a_swapped_balance_is_never_used(floor, plant):
    _at_weighing(floor)
    _reading(plant, "BAL-X1.weight", "1000.4", "g", serial="SN-99")
    with pytest.raises(equipment_errors.ReadingRefused) as refused:
        floor.record("weigh_api", "api_mass", None, source="instrument", instrument="BAL-X1")
    assert refused.value.field == "instrument"
    assert not Entry.objects.filter(key="api_mass").exists()


def test_an_instrument_value_is_never_typed(floor, plant):
    _at_weighing(floor)
    with pytest.raises(ValidationFailed) as refused:
        floor.record("weigh_api", "api_mass", "1.0", source="instrument", instrument="BAL-X1")
    assert refused.value.field == "value"


def test_manual_entry_where_an_instrument_is_expected(floor, plant):
    _at_weighing(floor)
    with pytest.raises(ValidationFailed) as refused:
        floor.record("weigh_api", "api_mass", "1.0")
    assert refused.value.field == "reason"
    entry = floor.record("weigh_api", "api_mass", "1.0", reason="BAL-X1 display only, no link")
    assert entry.source == "manual"
    exception = BatchException.objects.get(kind="manual_entry_instrument_expected")
    assert exception.entry == entry
    assert "BAL-X1 display only" in exception.message


def test_replacing_a_scale_value_by_hand_opens_a_deviation(floor, plant):
    _at_weighing(floor)
    _reading(plant, "BAL-X1.weight", "1000.4", "g", serial="SN-42")
    entry = floor.record("weigh_api", "api_mass", None, source="instrument", instrument="BAL-X1")
    floor.correct(entry, "1.001", "tare not subtracted")
    deviation = Deviation.objects.get(source="instrument_value_changed")
    assert "BAL-X1" in deviation.description
    assert BatchException.objects.filter(kind="manual_entry_instrument_expected").exists()


def test_a_process_value_is_read_from_its_tag(floor, plant, personas):
    text = (
        (DATA / "line.yaml")
        .read_text()
        .replace(
            "                precision: 1\n          - key: weigh",
            "                precision: 1\n                source: instrument\n"
            "                instrument: {kind: tag, tag: temp}\n          - key: weigh",
        )
    )
    effective_version(personas["engineer"], text=text)
    with action_context("test"):
        services.create_batch(actor=floor.supervisor, mbr="MBR-LINE", number="TAG-1")
    floor.number = "TAG-1"
    from execution_helpers import authority

    with action_context("test"):
        services.release_to_floor(
            actor=floor.supervisor, number="TAG-1", authority=authority(floor.supervisor)
        )
        services.start_batch(actor=floor.operator, number="TAG-1")
    _reading(plant, "GRN-X1.temp", "21.3", "degC")
    entry = floor.record("clearance", "temperature", None, source="instrument", instrument="GRN-X1")
    assert (entry.value, entry.unit, entry.instrument_code) == ("21.3", "°C", "GRN-X1")
    assert '"tag_code":"GRN-X1.temp"' in entry.reading
