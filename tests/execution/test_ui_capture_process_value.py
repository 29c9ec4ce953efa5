"""The step screen captures a process value from its tag: the live value at the moment the
operator confirms, or the mean (min, max) over the step, as the MBR says; the value's source
names the equipment and the tag; the broker connection is shown beside the button and says when
it is down and being reconnected."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from execution_helpers import CSRF, authority, effective_version, tiny_with_process_values

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import services as equipment
from galenic.execution import services
from galenic.execution.models import Entry
from galenic.gateway.readings import iso, to_micros

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
STEP = "/batches/T001/steps/line_clearance/"


@pytest.fixture
def device(personas: dict[str, Any]) -> Any:
    admin = personas["admin"]
    today = utcnow().date()
    with action_context("test"):
        gateway, _token = equipment.register_gateway(actor=admin, code="GW-X", name="Gateway")
        equipment.register_equipment(
            actor=admin,
            code="GRN-X1",
            name="Granulator",
            kind="granulator",
            serial_number="GEA-1",
            gateway_code="GW-X",
        )
        equipment.record_calibration(
            actor=admin, code="GRN-X1", performed_on=today, due=today + timedelta(days=30)
        )
        equipment.define_tag(
            actor=admin,
            code="GRN-X1.temp",
            equipment_code="GRN-X1",
            name="Product temperature",
            unit="degC",
            max_age_s=10,
            alert_high="28",
            action_high="32",
        )
    return equipment.DevicePrincipal(gateway)


def value(device, text, age_s=0.5, at=None):
    at = at or utcnow() - timedelta(seconds=age_s)
    with action_context("test"):
        equipment.ingest_readings(
            actor=device,
            items=[
                {
                    "source": "GRN-X1",
                    "tag": "GRN-X1.temp",
                    "seq": to_micros(at),
                    "value": text,
                    "unit": "degC",
                    "device_time": iso(at),
                    "received_at": iso(at),
                    "raw": text,
                }
            ],
        )


def broker(device, state, detail=""):
    with action_context("test"):
        equipment.report_gateway_status(
            actor=device,
            status={
                "connections": [
                    {
                        "name": "mqtt",
                        "kind": "mqtt",
                        "state": state,
                        "since": iso(utcnow()),
                        "detail": detail,
                    }
                ]
            },
        )


@pytest.fixture
def batch(floor, device, personas):
    effective_version(personas["engineer"], text=tiny_with_process_values("GRN-X1", "temp"))
    with action_context("test"):
        services.create_batch(actor=floor.supervisor, mbr="MBR-TINY", number="T001")
        services.release_to_floor(
            actor=floor.supervisor, number="T001", authority=authority(floor.supervisor)
        )
        services.start_batch(actor=floor.operator, number="T001")
    floor.number = "T001"
    return floor


def capture(client, key):
    return client.post(
        STEP + "record/",
        {"key": key, "type": "number", "source": "instrument", "instrument": "GRN-X1"},
        headers={"X-CSRFToken": CSRF, **HX},
    ).content.decode()


def test_live_value_is_captured_when_the_operator_confirms(batch, device, api):
    broker(device, "connected", "mqtt://127.0.0.1:1883")
    value(device, "24.8")
    client = api(batch.operator).client
    page = client.get(STEP).content.decode()
    assert 'data-testid="read-product_temp">Capture live value</button>' in page
    assert "from GRN-X1.temp, the value when you press" in page
    assert 'data-testid="broker-status" data-state="connected"' in page
    assert "MQTT broker connected through GW-X since" in page
    assert "24.8 °C" in page
    row = capture(client, "product_temp")
    assert 'data-testid="recorded-value">24.8 °C' in row
    assert 'data-outcome="in_range"' in row
    assert "Captured from GRN-X1 · tag GRN-X1.temp" in row
    entry = Entry.objects.get(key="product_temp")
    assert (entry.source, entry.instrument_code) == ("instrument", "GRN-X1")
    assert '"mode":"at_confirm"' in entry.reading


def test_mean_over_the_step(batch, device, api):
    broker(device, "connected")
    opened = batch.step("line_clearance").opened_at  # the window starts when the step opened
    for ms, text in ((1, "24.0"), (2, "25.0"), (3, "26.5")):
        value(device, text, at=opened + timedelta(milliseconds=ms))
    client = api(batch.operator).client
    page = client.get(STEP).content.decode()
    assert 'data-testid="read-product_temp_mean">Capture mean over the step</button>' in page
    assert "mean over the step so far: <strong>25.166667 °C</strong> (3 values)" in page
    row = capture(client, "product_temp_mean")
    assert 'data-testid="recorded-value">25.166667 °C' in row
    assert "tag GRN-X1.temp, mean of 3 values" in row


def test_the_broker_indicator_says_when_it_is_down_and_back(batch, device, api):
    client = api(batch.operator).client
    value(device, "24.8", age_s=20)
    broker(device, "disconnected", "mqtt://127.0.0.1:1883: connection lost; reconnecting")
    panel = client.get("/equipment/status/tag/GRN-X1.temp/").content.decode()
    assert 'data-testid="broker-status" data-state="disconnected"' in panel
    assert "MQTT broker disconnected from GW-X since" in panel
    assert "the gateway reconnects by itself" in panel
    assert 'data-ready="false"' in panel
    refused = capture(client, "product_temp")
    assert 'data-field="tag"' in refused
    assert "MQTT broker disconnected from GW-X" in refused
    assert '<details class="ex-manual" open data-testid="manual-product_temp">' in refused

    broker(device, "connected", "mqtt://127.0.0.1:1883")
    value(device, "24.9")
    panel = client.get("/equipment/status/tag/GRN-X1.temp/").content.decode()
    assert 'data-testid="broker-status" data-state="connected"' in panel
    assert 'data-ready="true"' in panel
    assert 'data-testid="recorded-value">24.9 °C' in capture(client, "product_temp")
