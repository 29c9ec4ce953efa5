"""An operator reads the simulated balance into a dispensing step on the tablet.

The whole device path is real: the MT-SICS balance simulator on a free local port, the gateway
(connector, durable outbox, HTTP delivery and status reports) delivering to the live test
server, and the step screen's "Read balance" button. A stable weight is taken with the balance's
ID and serial number as its source and checked against its limits at once; an unstable reading
is refused with a clear message; the manual fallback then needs a reason and becomes an
exception on the batch.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from galenic.testing.support import PASSWORD

TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "execution"))
sys.path.insert(0, str(TESTS / "gateway"))

pytestmark = pytest.mark.browser

SERIAL = "B512345678"


def _settled(page):
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


def _dispensing_record(personas):
    """tiny.yaml with its weighing bound to balance BAL-T1 and a second balance value."""
    from execution_helpers import DATA, effective_version

    text = (DATA / "tiny.yaml").read_text()
    text = text.replace(
        "              - equipment_class: balance", "              - equipment_id: BAL-T1"
    )
    text = text.replace(
        "                instrument:\n                  kind: balance\n",
        "                instrument:\n                  kind: balance\n"
        "              - key: container_mass\n"
        "                name: Lined container (tare)\n"
        "                unit: g\n"
        "                target: 50\n"
        "                action_low: 45\n"
        "                action_high: 55\n"
        "                precision: 1\n"
        "                source: instrument\n"
        "                instrument:\n"
        "                  kind: balance\n",
        1,
    )
    effective_version(personas["engineer"], text=text)


def _plant(admin):
    from galenic.core.context import action_context
    from galenic.core.timefmt import utcnow
    from galenic.equipment import services

    today = utcnow().date()
    with action_context("test"):
        _gateway, token = services.register_gateway(actor=admin, code="GW-T", name="Booth 1")
        services.register_equipment(
            actor=admin,
            code="BAL-T1",
            name="Analytical balance, booth 1",
            kind="balance",
            model="XS2002S",
            serial_number=SERIAL,
            gateway_code="GW-T",
        )
        services.record_calibration(
            actor=admin, code="BAL-T1", performed_on=today, due=today + timedelta(days=30)
        )
        services.define_tag(
            actor=admin,
            code="BAL-T1.weight",
            equipment_code="BAL-T1",
            name="Weight",
            unit="g",
            max_age_s=5,
        )
    return token


def test_operator_reads_the_balance_into_a_dispensing_step(
    page, live_server, login, personas, tmp_path, one_request_at_a_time
):
    from execution_helpers import Floor, acknowledge, authority
    from gateway_helpers import BackgroundLoop
    from playwright.sync_api import expect

    from galenic.audit.models import AuditEvent
    from galenic.core.context import action_context
    from galenic.execution import services
    from galenic.execution.models import BatchException, Entry
    from galenic.gateway.config import BalanceConfig, GatewayConfig
    from galenic.gateway.runner import Gateway
    from galenic.gateway.simulator import BalanceSimulator

    token = _plant(personas["admin"])
    for role in ("operator", "supervisor"):
        acknowledge(personas[role])
    _dispensing_record(personas)
    floor = Floor(personas, number="T001")
    with action_context("test"):
        services.create_batch(actor=floor.supervisor, mbr="MBR-TINY", number="T001")
        services.release_to_floor(
            actor=floor.supervisor, number="T001", authority=authority(floor.supervisor)
        )
        services.start_batch(actor=floor.operator, number="T001")
    floor.record("line_clearance", "room_clear", True)
    floor.perform("line_clearance")

    simulator = BalanceSimulator(
        serial=SERIAL,
        model="XS2002S Excellence 2200 g",
        capacity=Decimal("2200"),
        settle_wait=0.2,
    )
    with BackgroundLoop() as loop:
        loop.call(simulator.start())
        simulator.set_weight("1000.4")
        config = GatewayConfig(
            code="GW-T",
            server_url=live_server.url,
            token=token,
            outbox=tmp_path / "gateway.outbox.sqlite3",
            deliver_interval=0.2,
            status_interval=1.0,
            balances=[
                BalanceConfig(
                    source="BAL-T1",
                    tag="BAL-T1.weight",
                    host="127.0.0.1",
                    port=simulator.port,
                    poll_interval=0.2,
                    timeout=1.0,
                )
            ],
        )
        loop.spawn(Gateway(config).run())

        login(page, personas["operator"].username, PASSWORD)
        page.goto("/batches/T001/steps/weigh_api/")

        # The live panel beside the button: the weight on the pan, stable, balance connected.
        row = page.get_by_test_id("param-api_mass")
        live = row.get_by_test_id("live-status")
        expect(live).to_contain_text("1000.400 g", timeout=20_000)
        expect(live).to_contain_text("stable")
        expect(row.get_by_test_id("balance-link")).to_have_attribute("data-state", "connected")
        expect(live).to_contain_text(f"SN {SERIAL}")

        # "Read balance": the stable weight, its source (balance ID and serial), its limit check.
        read = row.get_by_test_id("read-api_mass")
        expect(read).to_have_text("Read balance")
        box = read.bounding_box()
        assert box is not None
        assert box["height"] >= 64  # a gloved finger on a tablet
        read.click()
        _settled(page)
        expect(row.get_by_test_id("recorded-value")).to_have_text("1.000400 kg")
        expect(row.get_by_test_id("evaluation")).to_have_text("OK")
        source = row.get_by_test_id("recorded-source")
        expect(source).to_contain_text("Read from balance BAL-T1")
        expect(source).to_contain_text(f"SN {SERIAL}")

        # The panel follows the balance the operator names.
        tare = page.get_by_test_id("param-container_mass")
        tare.get_by_test_id("instrument-code-container_mass").fill("BAL-T9")
        expect(tare.get_by_test_id("live-problem")).to_contain_text(
            "No instrument 'BAL-T9' is registered"
        )
        tare.get_by_test_id("instrument-code-container_mass").fill("BAL-T1")
        expect(tare.get_by_test_id("live-status")).to_have_attribute("data-ready", "true")

        # Unstable: refused with a clear message, nothing recorded; the manual fallback opens.
        simulator.set_unstable(hold=True)
        expect(tare.get_by_test_id("live-status")).to_contain_text("unstable", timeout=20_000)
        tare.get_by_test_id("read-container_mass").click()
        _settled(page)
        expect(tare.get_by_test_id("row-error")).to_contain_text(
            "BAL-T1 is not stable: wait until the weight settles, then read again."
        )
        expect(tare.get_by_test_id("fallback-hint")).to_be_visible()
        manual = tare.get_by_test_id("manual-container_mass")
        expect(manual).to_have_attribute("open", "")

        # By hand: a reason is required, and the entry is an exception.
        tare.get_by_test_id("value-container_mass").fill("50.2")
        tare.get_by_test_id("record-container_mass").click()
        _settled(page)
        expect(tare.get_by_test_id("row-error")).to_contain_text("needs a reason")
        tare.get_by_test_id("reason-container_mass").fill("balance unstable: draught in booth 1")
        tare.get_by_test_id("record-container_mass").click()
        _settled(page)
        expect(tare.get_by_test_id("recorded-value")).to_have_text("50.2 g")
        expect(tare.get_by_test_id("recorded-source")).to_contain_text("EXCEPTION")
        expect(tare.get_by_test_id("recorded-source")).to_contain_text(
            "Typed by hand instead of read from the instrument: balance unstable"
        )
        loop.call(simulator.stop())

    with one_request_at_a_time:
        weighed = Entry.objects.get(key="api_mass")
        assert (weighed.source, weighed.instrument_code, weighed.instrument_serial) == (
            "instrument",
            "BAL-T1",
            SERIAL,
        )
        assert (weighed.raw_value, weighed.raw_unit) == ("1000.400", "g")
        typed = Entry.objects.get(key="container_mass")
        assert typed.source == "manual"
        exception = BatchException.objects.get(kind="manual_entry_instrument_expected")
        assert exception.entry == typed
        refused = AuditEvent.objects.filter(action="equipment.capture.refused")
        assert any('"unstable"' in (e.new_values or "") for e in refused)
