"""Pressing "read": only a fresh, stable weight from the registered, calibrated balance is taken."""

from __future__ import annotations

from datetime import timedelta

import pytest
from equipment_helpers import D, ingest, weight

from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.errors import PermissionDenied
from galenic.core.timefmt import local_today, utcnow
from galenic.equipment import errors, services


def capture(personas, code="BAL-T1", **kw):
    with action_context("test"):
        return services.capture_balance_weight(
            actor=personas["operator"], instrument_code=code, **kw
        )


def test_stable_weight_with_its_source(plant, personas):
    ingest(plant, weight("12.340"))
    reading = capture(personas)
    assert reading.value == D("12.340")
    assert str(reading.value) == "12.340"  # the balance's resolution, not the column's
    assert reading.unit == "g"
    assert (reading.instrument_code, reading.device_id, reading.serial) == (
        "BAL-T1",
        "BAL-T1",
        "B512345678",
    )
    assert reading.raw == "S S     12.340 g"
    assert reading.gateway_code == "GW-T"
    assert reading.captured_at >= reading.stored_at


def test_unstable_is_refused(plant, personas):
    ingest(plant, weight("12.1", quality="unstable"))
    with pytest.raises(errors.UnstableReading, match="not stable"):
        capture(personas)


def test_overload_is_refused(plant, personas):
    ingest(plant, weight(None, quality="overload"))
    with pytest.raises(errors.OverloadReading, match="overload"):
        capture(personas)


def test_stale_reading_is_refused(plant, personas):
    ingest(plant, weight("5.000", at=utcnow() - timedelta(seconds=30)))
    with pytest.raises(errors.StaleReading, match=r"30 s old \(at most 5 s"):
        capture(personas)


def test_reading_from_before_the_press_is_refused(plant, personas):
    ingest(plant, weight("5.000", at=utcnow() - timedelta(seconds=2)))
    with pytest.raises(errors.StaleReading):
        capture(personas, not_before=utcnow())


def test_no_reading_yet(plant, personas):
    with pytest.raises(errors.NoReading, match="gateway running"):
        capture(personas)


def test_expired_calibration_is_refused_and_audited(plant, personas):
    ingest(plant, weight("5.000"))
    today = local_today()
    with action_context("test"):
        services.record_calibration(
            actor=plant.admin,
            code="BAL-T1",
            performed_on=today - timedelta(days=400),
            due=today - timedelta(days=1),
            reason="late entry of the last certificate",
        )
    with pytest.raises(errors.CalibrationExpired, match="calibration expired on"):
        capture(personas)
    event = AuditEvent.objects.filter(action="equipment.capture.refused").get()
    assert event.category == "security"
    assert "calibration_expired" in event.new_values
    assert event.actor_username == "olivia"


def test_serial_changed_in_registry_after_the_reading(plant, personas):
    ingest(plant, weight("5.000"))
    with action_context("test"):
        services.change_equipment(
            actor=plant.admin,
            code="BAL-T1",
            reason="load cell replaced",
            serial_number="B000000002",
        )
    with pytest.raises(errors.IdentityMismatch, match="wrong or swapped balance"):
        capture(personas)


def test_unregistered_instrument(plant, personas):
    with pytest.raises(errors.UnregisteredDevice):
        capture(personas, code="BAL-404")
    assert (
        AuditEvent.objects.filter(action="equipment.capture.refused", category="security").count()
        == 1
    )


def test_out_of_service_instrument(plant, personas):
    ingest(plant, weight("5.000"))
    with action_context("test"):
        services.change_equipment(
            actor=plant.admin, code="BAL-T1", reason="dropped", status="out_of_service"
        )
    with pytest.raises(errors.EquipmentOutOfService):
        capture(personas)


def test_inspector_cannot_capture(plant, personas):
    with pytest.raises(PermissionDenied):
        services.capture_balance_weight(actor=personas["inspector"], instrument_code="BAL-T1")


def test_capture_over_the_api(plant, personas, logged_in):
    ingest(plant, weight("1.500"))
    client = logged_in(personas["operator"])
    client.get("/")  # a page renders the CSRF token and sets its cookie
    token = client.cookies.get("csrftoken")
    headers = {"X-CSRFToken": token.value} if token else {}
    response = client.post(
        "/api/v1/equipment/instruments/BAL-T1/capture",
        data="{}",
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 200, response.content
    assert response.json()["value"] == "1.500"
    ingest(plant, weight("1.6", quality="unstable"))
    refused = client.post(
        "/api/v1/equipment/instruments/BAL-T1/capture",
        data="{}",
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "unstable"
    assert refused.json()["errors"][0]["field"] == "instrument"
