"""The broker restarts in the middle of a run: the gateway says so, reconnects by itself, and
every value the broker accepted reaches the server exactly once."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import pytest
from gateway_helpers import (
    BackgroundLoop,
    ClientDelivery,
    PrivateMosquitto,
    deliver_until,
    wait_until,
)
from mqtt_rig import message, mqtt_config, register_granulator, require_mosquitto, unique_prefix

from galenic.equipment.models import TagValue
from galenic.gateway.outbox import Outbox
from galenic.gateway.runner import MqttConnector, States

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]


async def keep_publishing(port: int, topic: str, confirmed: list[int], stop: asyncio.Event) -> None:
    """Publish seq 1, 2, 3, ... at QoS 1; a seq counts once the broker acknowledged it."""
    seq = 0
    while not stop.is_set():
        try:
            async with aiomqtt.Client(
                "127.0.0.1", port, identifier="restart-publisher", timeout=2
            ) as c:
                while not stop.is_set():
                    payload = message(seq + 1, f"{20 + (seq % 50) / 10:.1f}")
                    await c.publish(topic, payload, qos=1)
                    seq += 1
                    confirmed.append(seq)
                    await asyncio.sleep(0.01)
        except aiomqtt.MqttError:
            await asyncio.sleep(0.2)  # not acknowledged: the same seq is published again later


def test_broker_restart_during_a_run(personas, tmp_path, csrf_client):
    require_mosquitto()  # the binary and a working Mosquitto installation
    token = register_granulator(personas["admin"])
    broker = PrivateMosquitto(tmp_path)
    broker.start()
    prefix = unique_prefix()
    cfg = mqtt_config(prefix, port=broker.port)
    topic = f"{prefix}/GRN-01/telemetry"
    confirmed: list[int] = []
    seen_states: list[str] = []
    try:
        with Outbox(tmp_path / "outbox.sqlite3") as outbox, BackgroundLoop() as loop:
            states = States()
            connector = MqttConnector(cfg, outbox, states, lambda: None)
            loop.spawn(connector.run())
            wait_until(lambda: states.get("mqtt") == "connected")
            stop = loop.call(_event())
            loop.spawn(keep_publishing(broker.port, topic, confirmed, stop))
            wait_until(lambda: len(confirmed) >= 50)

            broker.stop()
            wait_until(lambda: states.get("mqtt") == "disconnected")
            seen_states.append(states.get("mqtt"))
            assert "reconnecting" in states.items["mqtt"].detail
            time.sleep(1.0)
            broker.start()
            wait_until(lambda: states.get("mqtt") == "connected", timeout=20)
            seen_states.append(states.get("mqtt"))

            before = len(confirmed)
            wait_until(lambda: len(confirmed) >= before + 50, timeout=20)
            loop.loop.call_soon_threadsafe(stop.set)
            time.sleep(0.2)
            wanted = set(confirmed)

            def stored_seqs() -> set[int]:
                return set(
                    TagValue.objects.filter(tag__code="GRN-01.product_temp").values_list(
                        "seq", flat=True
                    )
                )

            try:
                deliver_until(
                    outbox,
                    ClientDelivery(csrf_client, token),
                    lambda: wanted <= stored_seqs(),
                    timeout=20,
                )
            except AssertionError:
                raise AssertionError(
                    f"lost: {sorted(wanted - stored_seqs())[:50]} of {len(wanted)}"
                ) from None
            stored = list(
                TagValue.objects.filter(tag__code="GRN-01.product_temp").values_list(
                    "seq", flat=True
                )
            )
    finally:
        broker.stop()
    assert seen_states == ["disconnected", "connected"]
    assert wanted <= set(stored), f"lost: {sorted(wanted - set(stored))[:10]}"
    assert len(stored) == len(set(stored))  # nothing twice


async def _event() -> asyncio.Event:
    return asyncio.Event()
