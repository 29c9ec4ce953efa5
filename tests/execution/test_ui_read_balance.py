"""The step screen's "Read balance": a big button with the live weight and connection beside it,
the balance's ID and serial number shown as the value's source, and a clear message in the row
for every refusal (unregistered device, identity mismatch, expired calibration, unstable,
overload, disconnected), with the manual fallback opened and asking for a reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from execution_helpers import CSRF, DATA, effective_version

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import services as equipment
from galenic.execution import services
from galenic.execution.models import BatchException, Entry
from galenic.gateway.readings import iso, to_micros

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}
STEP = "/batches/T001/steps/weigh_api/"


@pytest.fixture
def device(personas: dict[str, Any]) -> Any:
    admin = personas["admin"]
    today = utcnow().date()
    with action_context("test"):
        gateway, _token = equipment.register_gateway(actor=admin, code="GW-X", name="Gateway")
        equipment.register_equipment(
            actor=admin,
            code="BAL-X1",
            name="Bench balance",
            kind="balance",
            model="XS2002S",
            serial_number="SN-42",
            gateway_code="GW-X",
        )
        equipment.record_calibration(
            actor=admin, code="BAL-X1", performed_on=today, due=today + timedelta(days=30)
        )
        equipment.define_tag(
            actor=admin,
            code="BAL-X1.weight",
            equipment_code="BAL-X1",
            name="Weight",
            unit="g",
            max_age_s=5,
        )
    return equipment.DevicePrincipal(gateway)


def reading(device, value="1000.40", *, quality="good", serial="SN-42", age_s=0.5):
    at = utcnow() - timedelta(seconds=age_s)
    status = {"good": "S", "unstable": "D"}.get(quality, "S")
    with action_context("test"):
        equipment.ingest_readings(
            actor=device,
            items=[
                {
                    "source": "BAL-X1",
                    "tag": "BAL-X1.weight",
                    "seq": to_micros(at),
                    "value": None if quality in ("overload", "underload") else value,
                    "unit": "g",
                    "device_time": iso(at),
                    "received_at": iso(at),
                    "quality": quality,
                    "serial": serial,
                    "raw": f"S {status}    {value} g" if quality in ("good", "unstable") else "S +",
                }
            ],
        )


def report(device, state, detail=""):
    with action_context("test"):
        equipment.report_gateway_status(
            actor=device,
            status={
                "connections": [
                    {
                        "name": "BAL-X1",
                        "kind": "balance",
                        "state": state,
                        "since": iso(utcnow() - timedelta(seconds=20)),
                        "detail": detail,
                    }
                ]
            },
        )


@pytest.fixture
def weighing(floor, device, personas):
    text = (DATA / "tiny.yaml").read_text()
    text = text.replace(
        "              - equipment_class: balance", "              - equipment_id: BAL-X1"
    )
    effective_version(personas["engineer"], text=text)
    from execution_helpers import authority

    with action_context("test"):
        services.create_batch(actor=floor.supervisor, mbr="MBR-TINY", number="T001")
        services.release_to_floor(
            actor=floor.supervisor, number="T001", authority=authority(floor.supervisor)
        )
        services.start_batch(actor=floor.operator, number="T001")
    floor.number = "T001"
    floor.record("line_clearance", "room_clear", True)
    floor.perform("line_clearance")
    return floor


def _client(api, user):
    return api(user).client


def read(client, instrument="BAL-X1", **what):
    """Press Read balance on the row of the net mass (or of ``material=...``)."""
    fields = what or {"key": "api_mass", "type": "number"}
    return client.post(
        STEP + "record/",
        {**fields, "source": "instrument", "instrument": instrument},
        headers={"X-CSRFToken": CSRF, **HX},
    ).content.decode()


def test_the_step_shows_a_big_read_button_with_the_live_weight(weighing, device, api):
    reading(device, "1000.40")
    report(device, "connected")
    page = _client(api, weighing.operator).get(STEP).content.decode()
    assert 'data-testid="read-api_mass">Read balance</button>' in page
    assert 'class="btn ex-touch ex-read-button"' in page
    assert 'data-ready="true"' in page
    assert "1000.40 g" in page  # with the balance's own resolution
    assert "stable" in page
    assert 'data-testid="balance-link" data-state="connected"' in page
    assert "SN SN-42" in page
    assert 'hx-get="/equipment/status/balance/" hx-include="#param-api_mass-instrument"' in page
    assert 'id="param-api_mass-instrument" name="instrument" value="BAL-X1"' in page
    # The manual entry is folded away, not the first thing under a gloved finger.
    assert '<details class="ex-manual" data-testid="manual-api_mass">' in page


def test_a_stable_reading_is_recorded_with_its_source_and_limit_check(weighing, device, api):
    reading(device, "1000.40")
    row = read(_client(api, weighing.operator))
    assert "{#" not in row  # no template comment shown as text
    assert 'data-testid="recorded-value">1.00040 kg' in row
    assert "1000.40 g" not in row  # the live panel is gone once the value is recorded
    assert 'data-outcome="in_range"' in row
    assert "Read from balance BAL-X1 · XS2002S · SN SN-42" in row
    entry = Entry.objects.get(key="api_mass")
    assert (entry.source, entry.instrument_code, entry.instrument_serial) == (
        "instrument",
        "BAL-X1",
        "SN-42",
    )


def _change_calibration(personas):
    today = utcnow().date()
    with action_context("test"):
        equipment.record_calibration(
            actor=personas["admin"],
            code="BAL-X1",
            performed_on=today - timedelta(days=400),
            due=today - timedelta(days=2),
            reason="certificate entered late",
        )


def _change_serial(personas):
    with action_context("test"):
        equipment.change_equipment(
            actor=personas["admin"],
            code="BAL-X1",
            reason="load cell replaced",
            serial_number="SN-43",
        )


REFUSALS = {
    "unregistered": (
        lambda device, personas: reading(device),
        "BAL-NOPE",
        "No instrument &#x27;BAL-NOPE&#x27; is registered: its readings cannot be used.",
    ),
    "identity_mismatch": (  # a swapped balance: its readings are refused at ingest
        lambda device, personas: reading(device, serial="SN-99"),
        "BAL-X1",
        "BAL-X1: its readings are refused by the device check (BAL-X1 reported serial "
        "&#x27;SN-99&#x27;, registered &#x27;SN-42&#x27;; 1 since",
    ),
    "identity_changed": (  # the registry now names another serial than the last reading's
        lambda device, personas: (reading(device), _change_serial(personas)),
        "BAL-X1",
        "BAL-X1 reported serial number &#x27;SN-42&#x27;, but the registered serial number is "
        "&#x27;SN-43&#x27;: wrong or swapped balance.",
    ),
    "calibration_expired": (
        lambda device, personas: (reading(device), _change_calibration(personas)),
        "BAL-X1",
        "BAL-X1: calibration expired on",
    ),
    "unstable": (
        lambda device, personas: reading(device, quality="unstable"),
        "BAL-X1",
        "BAL-X1 is not stable: wait until the weight settles, then read again.",
    ),
    "overload": (
        lambda device, personas: reading(device, quality="overload"),
        "BAL-X1",
        "BAL-X1 reports overload: check the load on the pan.",
    ),
    "disconnected": (
        lambda device, personas: (
            reading(device, age_s=30),
            report(device, "disconnected", "connection refused"),
        ),
        "BAL-X1",
        "BAL-X1 disconnected from GW-X since",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_every_refusal_is_said_plainly_and_opens_the_manual_fallback(
    weighing, device, personas, api, case
):
    arrange, instrument, message = REFUSALS[case]
    arrange(device, personas)
    row = read(_client(api, weighing.operator), instrument)
    assert 'data-testid="row-error" data-field="instrument"' in row
    assert message in row
    assert 'data-testid="fallback-hint"' in row
    assert '<details class="ex-manual" open data-testid="manual-api_mass">' in row
    # The balance field keeps the balance the operator named; its panel says the same.
    assert f'name="instrument" value="{instrument}"' in row
    assert 'data-testid="live-problem"' in row
    assert not Entry.objects.filter(key="api_mass").exists()


def test_the_manual_fallback_needs_a_reason_and_is_an_exception(weighing, device, api):
    reading(device, quality="unstable")
    client = _client(api, weighing.operator)
    read(client)
    post = {"key": "api_mass", "type": "number", "source": "manual", "value": "1.0002"}
    headers = {"X-CSRFToken": CSRF, **HX}
    refused = client.post(STEP + "record/", {**post, "unit": "kg"}, headers=headers)
    assert "needs a reason" in refused.content.decode()
    row = client.post(
        STEP + "record/",
        {**post, "unit": "kg", "reason": "balance display unstable, read by eye"},
        headers=headers,
    ).content.decode()
    assert "EXCEPTION" in row
    assert "Typed by hand instead of read from the instrument: balance display unstable" in row
    exception = BatchException.objects.get(kind="manual_entry_instrument_expected")
    assert exception.entry == Entry.objects.get(key="api_mass")


def test_the_live_panel_says_why_a_read_would_be_refused(weighing, device, api):
    reading(device, quality="unstable")
    report(device, "connected")
    panel = _client(api, weighing.operator).get("/equipment/status/balance/BAL-X1/")
    html = panel.content.decode()
    assert 'data-ready="false"' in html
    assert 'data-code="unstable"' in html
    assert "unstable, settling" in html
    unknown = _client(api, weighing.operator).get("/equipment/status/balance/BAL-NOPE/")
    assert "is registered" in unknown.content.decode()
    # The step screen polls with its balance field's value.
    named = _client(api, weighing.operator).get(
        "/equipment/status/balance/", {"instrument": "BAL-X1"}
    )
    assert "unstable, settling" in named.content.decode()
    empty = _client(api, weighing.operator).get("/equipment/status/balance/")
    assert "Name the balance to read." in empty.content.decode()


def read_material(client, instrument="BAL-X1"):
    return read(client, instrument, material="API-T")


def test_a_weighed_material_has_the_same_big_read_button_and_live_weight(weighing, device, api):
    reading(device, "1000.40")
    report(device, "connected")
    page = _client(api, weighing.operator).get(STEP).content.decode()
    assert 'data-testid="read-API-T">Read balance</button>' in page
    assert 'hx-get="/equipment/status/balance/" hx-include="#material-API-T-instrument"' in page
    assert 'id="material-API-T-instrument" name="instrument" value="BAL-X1"' in page
    assert 'data-testid="live-API-T"' in page
    assert 'data-testid="weighed-API-T"' in page  # typing the weight stays possible


def test_a_weighed_material_is_read_from_the_balance_with_its_source(weighing, device, api):
    reading(device, "1000.40")
    row = read_material(_client(api, weighing.operator))
    assert 'data-testid="recorded-value">' in row
    assert "BAL-X1" in row
    entry = Entry.objects.get(key="API-T")
    assert (entry.kind, entry.source, entry.instrument_code, entry.instrument_serial) == (
        "material",
        "instrument",
        "BAL-X1",
        "SN-42",
    )


def test_an_unstable_balance_is_refused_in_the_material_row_and_keeps_the_panel(
    weighing, device, api
):
    reading(device, "1000.40", quality="unstable")
    row = read_material(_client(api, weighing.operator))
    assert 'data-testid="row-error"' in row
    assert "unstable" in row.lower()
    assert 'data-testid="read-API-T">Read balance</button>' in row
    assert 'id="material-API-T-instrument" name="instrument" value="BAL-X1"' in row
    assert not Entry.objects.filter(key="API-T").exists()
