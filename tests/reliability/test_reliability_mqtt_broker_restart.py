"""Instrument values through the whole chain while things restart: a device publishes at QoS 1
to a private Mosquitto; the real gateway process (`galenic gateway run`) takes them into its
durable outbox and delivers them over HTTP to the real app (gunicorn). During the run the broker
is restarted, the app process is killed (SIGKILL) and restarted, and the gateway is killed and
restarted. Every value the broker acknowledged reaches the database exactly once (idempotency
key (source, tag, seq)); the gateway reports the broker outage to the server while it lasts
(tests/gateway covers each piece in process; this is the same end to end)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from datetime import UTC, datetime

import pytest
import yaml
from reliability_support import (
    AppServer,
    Client,
    GatewayProcess,
    PrivateMosquitto,
    soak,
    wait_until,
)

from galenic.gateway.demo_plant import TAGS
from galenic.testing.support import service_unavailable

# A process tag of the demo plant (registered on GW-DEMO by the seeded demo site).
DEMO_TAG = next(t for t in TAGS if not t.code.endswith(".weight"))
TAG = DEMO_TAG.code
TOPIC = f"reliability/{DEMO_TAG.equipment}/telemetry"


class Publisher:
    """A device publishing seq 1, 2, 3... at QoS 1; a seq counts once the broker acknowledged it
    (an unacknowledged one is published again, as a device does)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.confirmed: list[int] = []
        self.stop = False
        self.thread = threading.Thread(target=lambda: asyncio.run(self._run()), daemon=True)

    async def _run(self) -> None:
        import aiomqtt

        seq = 0
        while not self.stop:
            try:
                async with aiomqtt.Client(
                    "127.0.0.1", self.port, identifier="rel-device", timeout=2
                ) as c:
                    while not self.stop:
                        payload = {
                            "ts": datetime.now(UTC).isoformat(),
                            "seq": seq + 1,
                            "value": f"{20 + (seq % 50) / 10:.1f}",
                        }
                        await c.publish(TOPIC, json.dumps(payload).encode(), qos=1)
                        seq += 1
                        self.confirmed.append(seq)
                        await asyncio.sleep(0.02)
            except aiomqtt.MqttError:
                await asyncio.sleep(0.2)


def _stored(site) -> list[int]:
    return [
        r[0]
        for r in site.query(
            "SELECT v.seq FROM equipment_tagvalue v JOIN equipment_tag t ON t.id = v.tag_id "
            "WHERE t.code = ?",
            (TAG,),
        )
    ]


def _mqtt_state(client: Client) -> str:
    for gateway in client.get("/api/v1/equipment/gateways").data:
        for connection in gateway["connections"]:
            if connection["kind"] == "mqtt":
                return str(connection["state"])
    return ""


@pytest.mark.mqtt
def test_broker_app_and_gateway_restarts_lose_and_duplicate_nothing(site, tmp_path):
    broker = PrivateMosquitto(tmp_path / "broker")
    why = broker.available()
    if why:
        service_unavailable("mqtt", why)
    broker.start()
    server = AppServer(site, workers=1, threads=4)
    server.start()
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "gateway": {
                    "code": "GW-DEMO",
                    "server_url": server.base,
                    "token_file": str(site.data_dir / "gateway" / "GW-DEMO.token"),
                    "outbox": str(tmp_path / "outbox.sqlite3"),
                    "deliver_interval": 0.2,
                    "status_interval": 0.5,
                },
                "mqtt": {
                    "url": f"mqtt://127.0.0.1:{broker.port}",
                    "client_id": "galenic-rel-gateway",
                    "qos": 1,
                    "keepalive": 5,
                    "topics": [
                        {
                            "topic": TOPIC,
                            "source": DEMO_TAG.equipment,
                            "timestamp": "ts",
                            "seq": "seq",
                            "values": [{"field": "value", "tag": TAG, "unit": DEMO_TAG.unit}],
                        }
                    ],
                },
            }
        )
    )
    gateway = GatewayProcess(config, site.env())
    gateway.start()
    publisher = Publisher(broker.port)
    watcher = Client(server.base)
    watcher.login("sam")
    try:
        wait_until(
            lambda: _mqtt_state(watcher) == "connected", timeout=60, what="gateway connected"
        )
        publisher.thread.start()
        for _ in range(soak(1, 6)):
            wait_until(lambda: len(_stored(site)) >= len(publisher.confirmed) // 2 + 20, timeout=60)
            broker.stop()
            wait_until(
                lambda w=watcher: _mqtt_state(w) == "disconnected",
                timeout=30,
                what="outage reported",
            )
            time.sleep(0.5)
            broker.start()
            wait_until(
                lambda w=watcher: _mqtt_state(w) == "connected", timeout=30, what="reconnected"
            )
            server.kill()  # the app dies while the gateway delivers: the gateway keeps the batch
            time.sleep(0.5)
            server.start()
            watcher = Client(server.base)
            watcher.login("sam")
            gateway.kill()  # the gateway dies with readings in its outbox
            gateway.start()
            confirmed = len(publisher.confirmed)
            wait_until(
                lambda confirmed=confirmed: len(publisher.confirmed) > confirmed + 30, timeout=60
            )
        publisher.stop = True
        publisher.thread.join(15)
        wanted = set(publisher.confirmed)
        wait_until(lambda: wanted <= set(_stored(site)), timeout=60, what="every value stored")
    finally:
        publisher.stop = True
        gateway.stop()
        server.stop()
        broker.stop()
    stored = _stored(site)
    assert len(stored) == len(set(stored)), "a value stored twice"
    assert wanted <= set(stored), f"lost: {sorted(wanted - set(stored))[:20]}"
    print(f"{len(wanted)} values acknowledged by the broker, {len(stored)} stored once each")
    site.assert_verifies()
