"""`galenic gateway run` is killed (-9) mid-stream and restarted: the outbox and the broker's
persistent session together lose nothing, and the server stores nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
import yaml
from gateway_helpers import BackgroundLoop, ClientDelivery, free_port, pump, wait_until
from mqtt_rig import (
    MOSQUITTO_PORT,
    forget_session,
    message,
    publish_all,
    register_granulator,
    require_mosquitto,
    tagmap_for,
    unique_prefix,
)

from galenic.equipment.models import TagValue
from galenic.gateway.outbox import Outbox

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]
TOTAL = 300


def start_gateway(config_path):
    env = {**os.environ, "GALENIC_GATEWAY_TOKEN": ""}
    return subprocess.Popen(
        [sys.executable, "-m", "galenic", "gateway", "run", "--config", str(config_path)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def outbox_count(path) -> int:
    if not path.exists():
        return 0
    with Outbox(path) as box:
        return box.pending()


def test_gateway_kill_9_loses_and_duplicates_nothing(personas, tmp_path, csrf_client):
    require_mosquitto()
    token = register_granulator(personas["admin"])
    prefix = unique_prefix()
    client_id = f"galenic-test-gw-{prefix[-12:]}"
    outbox_path = tmp_path / "gw.outbox.sqlite3"
    config = tmp_path / "gateway.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                # No server reachable: everything stays in the outbox, delivered by the test after.
                "gateway": {
                    "code": "GW-T",
                    "server_url": f"http://127.0.0.1:{free_port()}",
                    "outbox": str(outbox_path),
                },
                "mqtt": {
                    "url": f"mqtt://127.0.0.1:{MOSQUITTO_PORT}",
                    "client_id": client_id,
                    "qos": 1,
                    "topics": tagmap_for(prefix),
                },
            }
        )
    )
    topic = f"{prefix}/GRN-01/telemetry"
    payloads = [message(n, f"{n / 10:.1f}") for n in range(1, TOTAL + 1)]
    gateway = start_gateway(config)
    try:
        with BackgroundLoop() as loop:
            wait_until(lambda: outbox_path.exists(), timeout=20)
            time.sleep(1.0)  # subscribed (persistent session from here on)
            loop.call(publish_all(MOSQUITTO_PORT, topic, payloads[:100]))
            wait_until(lambda: outbox_count(outbox_path) >= 60, timeout=20)
            os.kill(gateway.pid, signal.SIGKILL)
            gateway.wait(10)
            loop.call(publish_all(MOSQUITTO_PORT, topic, payloads[100:250]))  # while it is down
            gateway = start_gateway(config)
            loop.call(publish_all(MOSQUITTO_PORT, topic, payloads[250:]))
            wait_until(lambda: outbox_count(outbox_path) >= 2 * TOTAL, timeout=40)
            time.sleep(0.5)
            gateway.terminate()
            gateway.wait(10)
            loop.call(forget_session(MOSQUITTO_PORT, client_id))
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait(10)
    with Outbox(outbox_path) as box:
        assert box.pending() == 2 * TOTAL  # two tags per message, each once
        pump(box, ClientDelivery(csrf_client, token))
        assert box.pending() == 0
    temps = list(
        TagValue.objects.filter(tag__code="GRN-01.product_temp")
        .order_by("seq")
        .values_list("seq", "value")
    )
    assert temps == [(n, Decimal(f"{n / 10:.1f}")) for n in range(1, TOTAL + 1)]
