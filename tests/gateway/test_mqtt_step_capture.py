"""Against a real Mosquitto: a granulator's product temperature published over MQTT is captured
into a batch step from the step screen (live at confirmation, and the mean over the step), and
the broker indicator beside the button follows a broker restart: disconnected and reconnecting,
then connected again, without anyone doing anything."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from django.test import Client
from gateway_helpers import (
    BackgroundLoop,
    ClientDelivery,
    PrivateMosquitto,
    deliver_until,
    wait_until,
)
from mqtt_rig import (
    message,
    mqtt_config,
    publish_all,
    register_granulator,
    require_mosquitto,
    unique_prefix,
)

from galenic.core.context import action_context
from galenic.equipment.models import TagValue
from galenic.execution import services
from galenic.gateway.outbox import Outbox
from galenic.gateway.runner import MqttConnector, States

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "execution"))

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

STEP = "/batches/T001/steps/line_clearance/"
PANEL = "/equipment/status/tag/GRN-01.product_temp/"


def _batch(personas):
    from execution_helpers import (
        acknowledge,
        authority,
        effective_version,
        tiny_with_process_values,
    )

    for role in ("operator", "supervisor"):
        acknowledge(personas[role])
    effective_version(personas["engineer"], text=tiny_with_process_values("GRN-01", "product_temp"))
    with action_context("test"):
        services.create_batch(actor=personas["supervisor"], mbr="MBR-TINY", number="T001")
        services.release_to_floor(
            actor=personas["supervisor"],
            number="T001",
            authority=authority(personas["supervisor"]),
        )
        services.start_batch(actor=personas["operator"], number="T001")


def _capture(client, key):
    return client.post(
        STEP + "record/",
        {"key": key, "type": "number", "source": "instrument", "instrument": "GRN-01"},
        headers={"HX-Request": "true"},
    ).content.decode()


def _seqs():
    return set(
        TagValue.objects.filter(tag__code="GRN-01.product_temp").values_list("seq", flat=True)
    )


def test_capture_from_the_broker_and_the_indicator_follows_a_restart(
    personas, tmp_path, csrf_client
):
    require_mosquitto()  # the binary and a working installation (the broker here is our own)
    token = register_granulator(personas["admin"])
    _batch(personas)
    operator = Client()
    operator.force_login(personas["operator"])
    broker = PrivateMosquitto(tmp_path)
    broker.start()
    prefix = unique_prefix()
    topic = f"{prefix}/GRN-01/telemetry"
    delivery = ClientDelivery(csrf_client, token)

    def report(states):
        delivery.report_status(
            {"gateway": "GW-T", "connections": [s.as_dict() for s in states.items.values()]}
        )

    def panel():
        return operator.get(PANEL).content.decode()

    try:
        with Outbox(tmp_path / "outbox.sqlite3") as outbox, BackgroundLoop() as loop:
            states = States()
            connector = MqttConnector(
                mqtt_config(prefix, port=broker.port), outbox, states, lambda: None
            )
            loop.spawn(connector.run())
            wait_until(lambda: states.get("mqtt") == "connected")
            report(states)

            loop.call(publish_all(broker.port, topic, [message(1, "24.6")]))
            deliver_until(outbox, delivery, lambda: 1 in _seqs())
            shown = panel()
            assert 'data-testid="broker-status" data-state="connected"' in shown
            assert "24.6 °C" in shown
            row = _capture(operator, "product_temp")
            assert 'data-testid="recorded-value">24.6 °C' in row
            assert "Captured from GRN-01 · tag GRN-01.product_temp" in row

            broker.stop()
            wait_until(lambda: states.get("mqtt") == "disconnected")
            report(states)
            shown = panel()
            assert 'data-testid="broker-status" data-state="disconnected"' in shown
            assert "MQTT broker disconnected from GW-T since" in shown
            assert "the gateway reconnects by itself" in shown

            broker.start()
            wait_until(lambda: states.get("mqtt") == "connected", timeout=20)
            report(states)
            assert 'data-testid="broker-status" data-state="connected"' in panel()

            loop.call(publish_all(broker.port, topic, [message(2, "25.4")]))
            deliver_until(outbox, delivery, lambda: 2 in _seqs())
            row = _capture(operator, "product_temp_mean")
            assert 'data-testid="recorded-value">25 °C' in row
            assert "tag GRN-01.product_temp, mean of 2 values" in row
    finally:
        broker.stop()
