"""The registry: audited, permission-checked, with reasons for changes and calibration history."""

from __future__ import annotations

from datetime import timedelta

import pytest

from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.core.timefmt import local_today
from galenic.equipment import errors, selectors, services
from galenic.equipment.models import CalibrationState, Equipment


def test_registration_is_audited(plant):
    event = AuditEvent.objects.get(action="equipment.register", object_id=str(plant.balance.pk))
    assert '"serial_number":"B512345678"' in event.new_values.replace(" ", "")


def test_balance_needs_a_serial_number(personas):
    with action_context("test"), pytest.raises(ValidationFailed) as raised:
        services.register_equipment(
            actor=personas["admin"], code="BAL-X", name="No serial", kind="balance"
        )
    assert raised.value.field == "serial_number"


@pytest.mark.parametrize("role", ["operator", "supervisor", "engineer", "inspector"])
def test_only_admin_registers(personas, role):
    with pytest.raises(PermissionDenied):
        services.register_equipment(actor=personas[role], code="X-1", name="X", kind="blender")


def test_duplicate_code(plant):
    with action_context("test"), pytest.raises(Conflict):
        services.register_equipment(
            actor=plant.admin, code="GRN-T1", name="Again", kind="granulator"
        )


def test_identity_change_needs_a_reason_and_keeps_old_value(plant):
    with action_context("test"):
        with pytest.raises(ValidationFailed) as raised:
            services.change_equipment(
                actor=plant.admin, code="BAL-T1", reason="", serial_number="X"
            )
        assert raised.value.field == "reason"
        services.change_equipment(
            actor=plant.admin, code="BAL-T1", reason="load cell replaced", serial_number="B2"
        )
    event = AuditEvent.objects.get(action="equipment.change")
    assert "B512345678" in event.old_values
    assert "B2" in event.new_values
    assert event.reason == "load cell replaced"


def test_calibration_history_and_state(plant, personas):
    today = local_today()
    balance = Equipment.objects.get(code="BAL-T1")
    assert balance.calibration_state(today) == CalibrationState.VALID
    assert balance.calibration_state(today + timedelta(days=31)) == CalibrationState.EXPIRED
    with action_context("test"):
        services.record_calibration(
            actor=personas["supervisor"],
            code="BAL-T1",
            performed_on=today,
            due=today + timedelta(days=90),
            passed=False,
            certificate="CAL-2026-118",
            reason="eccentricity out of tolerance",
        )
    balance.refresh_from_db()
    assert balance.calibration_state(today) == CalibrationState.FAILED
    assert balance.calibrations.count() == 2
    with pytest.raises(PermissionDenied):
        services.record_calibration(
            actor=personas["operator"], code="BAL-T1", performed_on=today, due=today
        )


def test_calibration_cannot_be_recorded_in_advance(plant):
    today = local_today()
    with action_context("test"), pytest.raises(ValidationFailed) as raised:
        services.record_calibration(
            actor=plant.admin,
            code="BAL-T1",
            performed_on=today + timedelta(days=1),
            due=today + timedelta(days=100),
        )
    assert raised.value.field == "performed_on"


def test_calibration_dates_are_the_sites_calendar_days(plant, settings):
    """Due and performed dates are read in the site's time zone, as a technician's certificate
    is dated: at UTC+14 the site's day is a day ahead of UTC's for most of the UTC day."""
    from galenic.core.timefmt import utcnow

    settings.DISPLAY_TIME_ZONE = "Pacific/Kiritimati"  # UTC+14, no daylight saving
    site_today = local_today()
    assert site_today == (utcnow() + timedelta(hours=14)).date()
    with action_context("test"):
        services.record_calibration(
            actor=plant.admin,
            code="BAL-T1",
            performed_on=site_today,  # today at the site: not "in advance"
            due=site_today + timedelta(days=90),
        )
    Equipment.objects.filter(code="BAL-T1").update(calibration_due=site_today - timedelta(days=1))
    balance = Equipment.objects.get(code="BAL-T1")
    # Due yesterday at the site is expired there, whatever the UTC date says.
    with pytest.raises(errors.CalibrationExpired):
        selectors.check_instrument(balance, field="instrument")


def test_tag_limits_must_nest(plant):
    with action_context("test"), pytest.raises(ValidationFailed) as raised:
        services.define_tag(
            actor=plant.admin,
            code="GRN-T1.bad",
            equipment_code="GRN-T1",
            name="Bad",
            unit="degC",
            alert_high="30",
            action_high="25",
        )
    assert raised.value.field == "action_high"


def test_tag_limit_change_is_audited_with_reason(plant):
    with action_context("test"):
        services.change_tag(
            actor=plant.admin, code="GRN-T1.temp", reason="validated range widened", alert_high="29"
        )
    event = AuditEvent.objects.get(action="equipment.tag.change")
    assert event.reason == "validated range widened"
    assert "alert_high" in event.old_values


def test_gateway_token_is_stored_only_as_a_hash(plant):
    plant.gateway.refresh_from_db()
    secret = plant.token.split(":", 1)[1]
    assert secret not in plant.gateway.token_hash
    assert len(plant.gateway.token_hash) == 64
