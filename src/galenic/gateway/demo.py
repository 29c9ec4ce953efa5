"""`galenic gateway demo`: every demo device process in one command.

Starts the simulated balances, the process-value publisher and the gateway itself. The publisher and
gateway use the MQTT broker at GALENIC_MQTT_URL (default mqtt://127.0.0.1:1883) when one answers
there; otherwise the embedded stand-in broker (``broker.py``) takes that address, so the demo also
works on a machine with no services. The gateway's token is read from
GALENIC_DATA_DIR/gateway/GW-DEMO.token, written by `galenic seed-demo`; until it exists, readings are
buffered in the outbox and delivered once it does (the gateway re-reads the file).

The simulated balances listen on 127.0.0.1:4101-4103; GALENIC_DEMO_BALANCE_PORT moves the first
one (the others follow), e.g. to run a second demo beside the first.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import resources
from pathlib import Path

import yaml

from galenic.env import env_int, env_path
from galenic.gateway import config as gateway_config
from galenic.gateway.broker import Broker, reachable
from galenic.gateway.demo_plant import BALANCES, GATEWAY_CODE
from galenic.gateway.publisher import publish
from galenic.gateway.runner import Gateway
from galenic.gateway.simulator import BalanceSimulator

log = logging.getLogger("galenic.gateway.demo")


def data_dir() -> Path:
    return env_path("GALENIC_DATA_DIR", Path.cwd() / "var") / "gateway"


def token_file(code: str = GATEWAY_CODE) -> Path:
    return data_dir() / f"{code}.token"


def balance_ports() -> dict[str, int]:
    """Demo balance code → the port its simulator listens on."""
    first = env_int("GALENIC_DEMO_BALANCE_PORT", BALANCES[0].port, minimum=1)
    return {b.code: first + (b.port - BALANCES[0].port) for b in BALANCES}


def demo_config_text() -> str:
    return resources.files("galenic.gateway").joinpath("demo-gateway.yaml").read_text()


def demo_config(server_url: str | None = None) -> gateway_config.GatewayConfig:
    raw = yaml.safe_load(demo_config_text())
    raw["gateway"]["token_file"] = str(token_file())
    raw["gateway"]["outbox"] = str(data_dir() / f"{GATEWAY_CODE}.outbox.sqlite3")
    ports = balance_ports()
    for balance in raw.get("balances") or []:
        balance["port"] = ports.get(balance["source"], balance["port"])
    if server_url:
        raw["gateway"]["server_url"] = server_url
    data_dir().mkdir(parents=True, exist_ok=True)
    return gateway_config.from_dict(raw, base=data_dir())


async def run_demo(server_url: str | None = None, *, with_gateway: bool = True) -> None:
    config = demo_config(server_url)
    assert config.mqtt is not None
    async with asyncio.TaskGroup() as group:
        if await reachable(config.mqtt.host, config.mqtt.port):
            log.info("using the MQTT broker at %s:%d", config.mqtt.host, config.mqtt.port)
        else:
            log.warning(
                "no MQTT broker at %s:%d: starting the embedded stand-in broker there",
                config.mqtt.host,
                config.mqtt.port,
            )
            broker = Broker(config.mqtt.host, config.mqtt.port)
            await broker.start()
            group.create_task(asyncio.Event().wait())  # keep the group (and broker) alive
        ports = balance_ports()
        for b in BALANCES:
            simulator = BalanceSimulator(
                port=ports[b.code],
                model=b.model,
                serial=b.serial,
                unit=b.unit,
                decimals=b.decimals,
                capacity=b.capacity,
            )
            simulator.set_weight(b.start_weight)
            await simulator.start()
            log.info(
                "simulated balance %s (serial %s) on 127.0.0.1:%d", b.code, b.serial, ports[b.code]
            )
        group.create_task(publish(config.mqtt.host, config.mqtt.port))
        if with_gateway:
            gateway = Gateway(config)
            group.create_task(gateway.run())
