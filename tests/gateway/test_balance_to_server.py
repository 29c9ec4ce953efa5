"""Balance simulator → gateway connector → outbox → ingest endpoint → "read" in a step.

The whole device path with the real protocol, the real outbox and the real endpoint: stable,
unstable, overload, disconnect, serial number check and expired calibration.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from gateway_helpers import BackgroundLoop, ClientDelivery, pump, wait_until

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import errors, services
from galenic.gateway.config import BalanceConfig
from galenic.gateway.outbox import Outbox
from galenic.gateway.runner import BalanceConnector, States
from galenic.gateway.simulator import BalanceSimulator

SERIAL = "B512345678"


@pytest.fixture
def rig(personas, tmp_path, csrf_client):
    admin = personas["admin"]
    today = utcnow().date()
    with action_context("test"):
        _gateway, token = services.register_gateway(actor=admin, code="GW-T", name="Booth 1")
        services.register_equipment(
            actor=admin,
            code="BAL-01",
            name="Analytical balance",
            kind="balance",
            model="XS205",
            serial_number=SERIAL,
            gateway_code="GW-T",
        )
        services.record_calibration(
            actor=admin, code="BAL-01", performed_on=today, due=today + timedelta(days=30)
        )
        services.define_tag(
            actor=admin,
            code="BAL-01.weight",
            equipment_code="BAL-01",
            name="Weight",
            unit="g",
            max_age_s=3,
        )
    with Outbox(tmp_path / "outbox.sqlite3") as outbox, BackgroundLoop() as loop:
        simulator = BalanceSimulator(serial=SERIAL, settle_wait=0.2)
        loop.call(simulator.start())
        states = States()
        connector = BalanceConnector(
            BalanceConfig(
                source="BAL-01",
                tag="BAL-01.weight",
                host="127.0.0.1",
                port=simulator.port,
                poll_interval=0.05,
                timeout=0.5,
            ),
            outbox,
            states,
            lambda: None,
        )
        loop.spawn(connector.run())
        rig = Rig(
            loop,
            simulator,
            outbox,
            ClientDelivery(csrf_client, token),
            states,
            personas["operator"],
            admin,
        )
        yield rig
        loop.call(simulator.stop())


class Rig:
    def __init__(self, loop, simulator, outbox, delivery, states, operator, admin):
        self.loop, self.simulator, self.outbox = loop, simulator, outbox
        self.delivery, self.states, self.operator, self.admin = delivery, states, operator, admin

    def settle(self):
        """Let a fresh poll reach the outbox, then deliver everything."""
        before = self.outbox.counters().get("received", 0)
        wait_until(lambda: self.outbox.counters().get("received", 0) >= before + 2)
        return pump(self.outbox, self.delivery)

    def read(self):
        with action_context("test"):
            return services.capture_balance_weight(actor=self.operator, instrument_code="BAL-01")


def test_stable_weight_goes_into_the_record(rig):
    rig.simulator.set_weight("152.375")
    rig.settle()
    reading = rig.read()
    assert reading.value == Decimal("152.375")
    assert reading.serial == SERIAL
    assert reading.raw == "S S    152.375 g"
    assert rig.states.get("BAL-01") == "connected"


def test_unstable_then_settled(rig):
    rig.simulator.set_weight("10.5")
    rig.simulator.set_unstable(hold=True)
    rig.settle()
    with pytest.raises(errors.UnstableReading):
        rig.read()
    rig.simulator.set_unstable(hold=False)
    rig.settle()
    assert rig.read().value == Decimal("10.500")


def test_overload(rig):
    rig.simulator.overload = True
    rig.settle()
    with pytest.raises(errors.OverloadReading):
        rig.read()


def test_disconnect_makes_readings_stale_and_the_gateway_reconnects(rig):
    rig.simulator.set_weight("1.000")
    rig.settle()
    rig.loop.call(rig.simulator.disconnect(4.0))
    wait_until(lambda: rig.states.get("BAL-01") == "disconnected")
    pump(rig.outbox, rig.delivery)
    wait_until(lambda: (utcnow() - timedelta(seconds=3.2)) > rig_last_measured(rig), timeout=10)
    with pytest.raises(errors.StaleReading, match="not delivering"):
        rig.read()
    wait_until(lambda: rig.states.get("BAL-01") == "connected", timeout=20)
    rig.settle()
    assert rig.read().value == Decimal("1.000")


def rig_last_measured(rig):
    from galenic.equipment.models import TagValue

    return TagValue.objects.order_by("-measured_at").values_list("measured_at", flat=True).first()


def test_swapped_balance_is_refused_at_ingest(rig):
    rig.simulator.serial = "B000000666"  # another balance on the same address
    rig.loop.call(rig.simulator.disconnect(0.2))  # the gateway re-identifies on reconnect
    result = wait_until(lambda: rig.settle().rejected)
    assert "B000000666" in next(iter(result.values()))
    assert rig.outbox.rejected()[0]["source"] == "BAL-01"


def test_expired_calibration_is_refused(rig):
    rig.simulator.set_weight("2.000")
    rig.settle()
    today = utcnow().date()
    with action_context("test"):
        services.record_calibration(
            actor=rig.admin,
            code="BAL-01",
            performed_on=today - timedelta(days=200),
            due=today - timedelta(days=1),
            reason="certificate filed late",
        )
    with pytest.raises(errors.CalibrationExpired):
        rig.read()
