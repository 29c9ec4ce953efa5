"""Shared set-up for the tests against a real Mosquitto (imported as ``mqtt_rig``)."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiomqtt
from gateway_helpers import MOSQUITTO_HOST, MOSQUITTO_PORT, port_open

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import services
from galenic.gateway.config import MqttConfig
from galenic.gateway.readings import iso
from galenic.gateway.tagmap import TagMap


def service_unavailable(service: str, reason: str) -> None:
    """tests/conftest.py's skip-or-fail (several modules are named ``conftest``: find it by path)."""
    root = str(Path(__file__).resolve().parents[1] / "conftest.py")
    for module in list(sys.modules.values()):
        if getattr(module, "__file__", None) == root:
            module.service_unavailable(service, reason)
            return
    raise RuntimeError("tests/conftest.py is not loaded")


def require_mosquitto() -> None:
    if not port_open(MOSQUITTO_HOST, MOSQUITTO_PORT):
        service_unavailable("mqtt", f"no broker at {MOSQUITTO_HOST}:{MOSQUITTO_PORT}")


def register_granulator(admin: Any) -> str:
    today = utcnow().date()
    with action_context("test"):
        _gateway, token = services.register_gateway(actor=admin, code="GW-T", name="Line 1")
        services.register_equipment(
            actor=admin, code="GRN-01", name="Granulator", kind="granulator", gateway_code="GW-T"
        )
        services.record_calibration(
            actor=admin, code="GRN-01", performed_on=today, due=today + timedelta(days=30)
        )
        services.define_tag(
            actor=admin,
            code="GRN-01.product_temp",
            equipment_code="GRN-01",
            name="Product temperature",
            unit="degC",
            max_age_s=5,
            alert_high="28",
            action_high="32",
        )
        services.define_tag(
            actor=admin,
            code="GRN-01.impeller_load",
            equipment_code="GRN-01",
            name="Impeller load",
            unit="%",
            max_age_s=5,
        )
    return token


def unique_prefix() -> str:
    return f"galenic-test/{uuid.uuid4().hex[:12]}"


def tagmap_for(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "topic": f"{prefix}/GRN-01/telemetry",
            "source": "GRN-01",
            "timestamp": "ts",
            "seq": "seq",
            "values": [
                {"field": "product_temp", "tag": "GRN-01.product_temp", "unit": "degC"},
                {"field": "impeller.load_pct", "tag": "GRN-01.impeller_load", "unit": "%"},
            ],
        }
    ]


def mqtt_config(
    prefix: str, port: int = MOSQUITTO_PORT, client_id: str | None = None
) -> MqttConfig:
    return MqttConfig(
        host=MOSQUITTO_HOST,
        port=port,
        client_id=client_id or f"galenic-test-{uuid.uuid4().hex[:10]}",
        qos=1,
        keepalive=5,
        reconnect_min=0.2,
        reconnect_max=1.0,
        tagmap=TagMap.from_config(tagmap_for(prefix)),
    )


def message(seq: int, temp: str, load: str = "40.0", age_s: float = 0.0) -> bytes:
    ts = utcnow() - timedelta(seconds=age_s)
    return json.dumps(
        {"ts": iso(ts), "seq": seq, "product_temp": temp, "impeller": {"load_pct": load}}
    ).encode()


async def publish_all(port: int, topic: str, payloads: list[bytes]) -> None:
    async with aiomqtt.Client(MOSQUITTO_HOST, port, identifier=f"pub-{uuid.uuid4().hex[:8]}") as c:
        for payload in payloads:
            await c.publish(topic, payload, qos=1)


async def forget_session(port: int, client_id: str) -> None:
    """Drop a persistent session from the shared broker (connect once with clean_session)."""
    try:
        async with aiomqtt.Client(MOSQUITTO_HOST, port, identifier=client_id, clean_session=True):
            await asyncio.sleep(0)
    except aiomqtt.MqttError:
        pass
