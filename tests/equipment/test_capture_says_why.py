"""When no fresh value can be taken, the refusal says why as the gateway reported it: the balance
or the broker disconnected (and being reconnected), the gateway itself silent, or the device's
readings refused at ingest (a swapped balance). The live status the step screen shows says the
same, before anyone presses "read"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from equipment_helpers import D, ingest, item, weight

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import errors, selectors, services
from galenic.equipment.models import Gateway
from galenic.gateway.readings import iso

pytestmark = pytest.mark.django_db


def report(plant, name, kind, state, detail=""):
    with action_context("test"):
        services.report_gateway_status(
            actor=plant.device,
            status={
                "connections": [
                    {
                        "name": name,
                        "kind": kind,
                        "state": state,
                        "since": iso(utcnow() - timedelta(seconds=12)),
                        "detail": detail,
                    }
                ]
            },
        )


def test_a_disconnected_balance_is_named(plant):
    ingest(plant, weight("12.345", at=utcnow() - timedelta(seconds=40)))
    report(plant, "BAL-T1", "balance", "disconnected", "connection refused")
    with pytest.raises(errors.Disconnected) as refused:
        selectors.balance_reading_for_capture("BAL-T1")
    assert refused.value.code == "disconnected"
    assert isinstance(refused.value, errors.StaleReading)
    message = refused.value.message
    assert "BAL-T1 disconnected from GW-T since" in message
    assert "reconnects by itself" in message
    assert "(connection refused)" in message
    assert "The last reading is 40 s old" in message
    assert "enter the value by hand with a reason" in message


def test_a_silent_gateway_is_named(plant):
    ingest(plant, weight("12.345", at=utcnow() - timedelta(seconds=90)))
    Gateway.objects.filter(pk=plant.gateway.pk).update(
        last_seen_at=utcnow() - timedelta(seconds=90)
    )
    with pytest.raises(errors.Disconnected, match="Gateway GW-T has not reported since"):
        selectors.balance_reading_for_capture("BAL-T1")


def test_a_gateway_never_heard_from_keeps_the_plain_refusal(plant):
    with pytest.raises(errors.NoReading, match="No reading has arrived from BAL-T1 yet"):
        selectors.balance_reading_for_capture("BAL-T1")


def test_a_connected_balance_with_a_fresh_stable_reading_is_taken(plant):
    ingest(plant, weight("12.345"))
    report(plant, "BAL-T1", "balance", "connected")
    assert selectors.balance_reading_for_capture("BAL-T1").value == D("12.345")
    status = selectors.balance_status("BAL-T1")
    assert (status.ready, status.link.state) == (True, "connected")


def test_a_swapped_balance_is_named_not_just_silent(plant):
    result = ingest(plant, weight("12.345", serial="B000000666"))
    assert result.rejected
    with pytest.raises(errors.IdentityMismatch) as refused:
        selectors.balance_reading_for_capture("BAL-T1")
    assert "refused by the device check" in refused.value.message
    assert "'B000000666'" in refused.value.message
    assert refused.value.security


def test_a_broker_outage_is_named_for_a_process_value(plant):
    ingest(plant, item("GRN-T1.temp", "24.5", at=utcnow() - timedelta(seconds=30)))
    report(plant, "mqtt", "mqtt", "disconnected", "mqtt://127.0.0.1:1883: connection lost")
    with pytest.raises(errors.Disconnected) as refused:
        selectors.tag_value_for_capture("GRN-T1.temp")
    assert "MQTT broker disconnected from GW-T since" in refused.value.message
    assert "The last value of GRN-T1.temp is 30 s old" in refused.value.message
    status = selectors.tag_status("GRN-T1.temp")
    assert (status.ready, status.link.state, status.problem_code) == (
        False,
        "disconnected",
        "disconnected",
    )
    # A value at a moment in the past (the window's end) is judged on the data alone.
    with pytest.raises(errors.StaleReading) as past:
        selectors.tag_value_for_capture("GRN-T1.temp", at=utcnow() - timedelta(seconds=1))
    assert not isinstance(past.value, errors.Disconnected)


def test_the_capture_service_audits_the_refusal_with_its_code(plant, personas):
    from galenic.audit.models import AuditEvent

    ingest(plant, weight("12.345", at=utcnow() - timedelta(seconds=40)))
    report(plant, "BAL-T1", "balance", "disconnected")
    with action_context("test"), pytest.raises(errors.Disconnected):
        services.capture_balance_weight(actor=personas["operator"], instrument_code="BAL-T1")
    event = AuditEvent.objects.filter(action="equipment.capture.refused").get()
    assert '"disconnected"' in event.new_values
