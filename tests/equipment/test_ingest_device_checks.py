"""211.68 / 11.10(h) at ingest: readings from an unregistered device, the wrong gateway or a
swapped instrument (serial mismatch) are refused with a reason and a security event."""

from __future__ import annotations

from datetime import timedelta

from equipment_helpers import ingest, item, weight

from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import services
from galenic.equipment.models import DeviceRefusal, TagValue


def _security_events():
    return list(AuditEvent.objects.filter(action="equipment.reading.refused", category="security"))


def test_unknown_tag_is_refused_with_a_security_event(plant):
    result = ingest(plant, item("XYZ-9.temp", source="XYZ-9"), item(seq=1))
    assert result.accepted == 1
    assert result.rejected == [
        {"index": 0, "code": "unregistered_device", "reason": "tag 'XYZ-9.temp' is not registered"}
    ]
    events = _security_events()
    assert len(events) == 1
    assert "XYZ-9" in events[0].new_values


def test_repeated_refusals_are_counted_but_audited_once_per_period(plant):
    for n in range(5):
        ingest(plant, item("XYZ-9.temp", source="XYZ-9", seq=n))
    refusal = DeviceRefusal.objects.get(tag_code="XYZ-9.temp")
    assert refusal.count == 5
    assert len(_security_events()) == 1


def test_serial_mismatch_is_refused(plant):
    result = ingest(plant, weight(serial="B999999999"))
    assert result.rejected[0]["code"] == "identity_mismatch"
    assert "B512345678" in result.rejected[0]["reason"]
    assert not TagValue.objects.filter(tag=plant.weight_tag).exists()
    assert len(_security_events()) == 1


def test_wrong_source_for_tag_is_refused(plant):
    result = ingest(plant, item(source="BAL-T1"))
    assert result.rejected[0]["code"] == "source_mismatch"


def test_device_registered_to_another_gateway_is_refused(plant):
    with action_context("test"):
        services.register_gateway(actor=plant.admin, code="GW-OTHER", name="Other line")
        services.change_equipment(
            actor=plant.admin, code="GRN-T1", reason="moved to line 2", gateway_code="GW-OTHER"
        )
    result = ingest(plant, item())
    assert result.rejected[0]["code"] == "unregistered_device"
    assert "not registered to gateway GW-T" in result.rejected[0]["reason"]


def test_bad_numbers_and_units_are_refused_not_converted(plant):
    result = ingest(
        plant,
        item(value="NaN", seq=1),
        item(value="1e308", seq=2),
        item(value="12,5", seq=3),
        item(value="24.1234567", seq=4),
        item(value="24.5", unit="degF", seq=5),
        item(value=None, seq=6),
    )
    codes = [r["code"] for r in result.rejected]
    assert codes == ["invalid", "invalid", "invalid", "invalid", "unit_mismatch", "invalid"]
    assert result.accepted == 0


def test_clock_far_ahead_is_refused(plant):
    result = ingest(plant, item(at=utcnow() + timedelta(hours=1)))
    assert result.rejected[0]["code"] == "clock_ahead"


def test_a_refused_item_loses_nothing_else_in_the_batch(plant):
    result = ingest(plant, item(seq=1), item(value="x", seq=2), item(seq=3))
    assert result.accepted == 2
    assert [r["index"] for r in result.rejected] == [1]
