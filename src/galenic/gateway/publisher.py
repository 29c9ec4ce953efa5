"""Simulated process values for the demo: what the PLCs of a solid-dose line would publish.

One JSON message per unit per second (QoS 1), with the device's timestamp and a sequence number
(milliseconds since the epoch, so it still increases after a restart)::

    plant/granulation/HSG-001/telemetry  {"ts": ..., "seq": ..., "product_temp": "24.8",
                                          "impeller": {"speed_rpm": "150", "power_kw": "9.6"},
                                          "chopper": {"speed_rpm": "1502"}}
    plant/drying/FBD-001/telemetry       {"ts": ..., "seq": ..., "inlet_temp": "60.1", "lod": "6.42", ...}

Values wander around their set points; the dryer's loss on drying falls over a drying cycle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiomqtt

from galenic.gateway.readings import iso, utcnow
from galenic.gateway.runner import Backoff, read_disconnect_reason

log = logging.getLogger("galenic.gateway.publisher")
rng = random.Random()  # noqa: S311 - simulated process noise


@dataclass
class Walk:
    """A bounded random walk around a set point."""

    setpoint: float
    step: float
    spread: float
    decimals: int = 1
    value: float | None = None

    def next(self) -> Decimal:
        current = self.setpoint if self.value is None else self.value
        current += rng.uniform(-self.step, self.step) + (self.setpoint - current) * 0.05
        current = max(self.setpoint - self.spread, min(self.setpoint + self.spread, current))
        self.value = current
        return Decimal(str(round(current, self.decimals)))


class DryingCycle:
    """Loss on drying: from ~18 % down to ~1.5 % over ``period`` seconds, then a new load."""

    def __init__(self, period: float = 600.0) -> None:
        self.period = period
        self.started = time.monotonic()

    def next(self) -> Decimal:
        progress = ((time.monotonic() - self.started) % self.period) / self.period
        lod = 1.5 + 16.5 * (1 - progress) ** 2 + rng.uniform(-0.05, 0.05)
        return Decimal(str(round(lod, 2)))


Producer = Callable[[], dict[str, Any]]


def demo_units() -> dict[str, Producer]:
    granulator_temp = Walk(24.5, 0.2, 3.0)
    impeller_speed = Walk(150.0, 0.8, 3.0, decimals=0)
    impeller_power = Walk(9.8, 0.3, 1.2)
    chopper_speed = Walk(1500.0, 8.0, 30.0, decimals=0)
    inlet = Walk(60.0, 0.4, 2.5)
    fbd_product = Walk(38.0, 0.3, 3.0)
    drying = DryingCycle()
    blender = Walk(12.0, 0.2, 0.8)
    force = Walk(14.0, 0.6, 2.5)
    turret = Walk(45.0, 0.5, 3.0, decimals=0)
    fill = Walk(500.5, 0.3, 1.2, decimals=2)
    return {
        "plant/granulation/HSG-001/telemetry": lambda: {
            "product_temp": granulator_temp.next(),
            "impeller": {"speed_rpm": impeller_speed.next(), "power_kw": impeller_power.next()},
            "chopper": {"speed_rpm": chopper_speed.next()},
        },
        "plant/drying/FBD-001/telemetry": lambda: {
            "inlet_temp": inlet.next(),
            "product_temp": fbd_product.next(),
            "lod": drying.next(),
        },
        "plant/blending/BIN-001/telemetry": lambda: {"speed_rpm": blender.next()},
        "plant/compression/TAB-001/telemetry": lambda: {
            "main_force_kn": force.next(),
            "turret_rpm": turret.next(),
        },
        "plant/filling/FIL-001/telemetry": lambda: {"fill_weight_g": fill.next()},
    }


def encode(values: dict[str, Any]) -> bytes:
    now = utcnow()
    document = {"ts": iso(now), "seq": int(now.timestamp() * 1000), **values}
    return json.dumps(document, default=str).encode()


def _stringify(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _stringify(v) if isinstance(v, dict) else str(v) for k, v in values.items()}


async def publish(
    host: str = "127.0.0.1",
    port: int = 1883,
    *,
    interval: float = 1.0,
    units: dict[str, Producer] | None = None,
    count: int | None = None,
    client_id: str = "galenic-demo-publisher",
) -> None:
    """Publish every ``interval`` seconds until cancelled (or ``count`` rounds); reconnect on loss."""
    units = units or demo_units()
    backoff = Backoff(0.5, 10.0)
    rounds = 0
    while count is None or rounds < count:
        client = aiomqtt.Client(host, port, identifier=client_id, timeout=10)
        try:
            async with client:
                log.info("publishing simulated process values to mqtt://%s:%d", host, port)
                backoff.reset()
                while count is None or rounds < count:
                    started = time.monotonic()
                    for topic, produce in units.items():
                        # Numbers as JSON strings keep their exact digits; the tag map reads both.
                        await client.publish(topic, encode(_stringify(produce())), qos=1)
                    rounds += 1
                    await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
        except aiomqtt.MqttError as exc:
            read_disconnect_reason(client)
            log.warning(
                "publisher: broker mqtt://%s:%d unavailable (%s); retrying", host, port, exc
            )
            await backoff.wait()
