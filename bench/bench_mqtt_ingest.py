"""MQTT tag values ingested per second, against raw consumption of the same messages.

Pipeline (the product, end to end): broker → gateway MQTT connector (decode + tag map) → durable
outbox (SQLite, synchronous=FULL, committed before the broker is acknowledged) → HTTP delivery →
`galenic` server process (device checks, dedup, limit check, batched insert into the time series).
Reference, same run, same messages: a bare aiomqtt client that only receives them.

Both consumers drain an identical backlog queued for them in the broker (persistent sessions, QoS 1),
so the figure is consumption speed, not publishing speed. Then 1,000 tags at 1 Hz are published
live for a while to show the floor is sustained, with the end-to-end lag (device time → stored).

The broker is a private Mosquitto (same binary as the system's, unlimited queues) when installed,
else the embedded stand-in broker in its own process. The server runs in its own process
(gunicorn, one worker) on a fresh SQLite database, as on a laptop demo.

    python bench/bench_mqtt_ingest.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

TAGS = 1000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"nothing listening on port {port} after {timeout} s")


def topic(i: int) -> str:
    return f"bench/E{i // 10:03d}/T{i:04d}"


def tag_code(i: int) -> str:
    return f"B{i // 10:03d}.T{i:04d}"


def setup_server_db(workdir: Path) -> str:
    """Migrate a fresh database, register 100 units with 1,000 tags and a gateway; its token."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from galenic.accounts import services as accounts
    from galenic.core.context import action_context
    from galenic.equipment import services

    with action_context("system"):
        admin = accounts.create_user(
            actor=None,
            username="bench",
            full_name="Bench Admin",
            password="Bench-password-2026",
            roles=["admin"],
        )
        _gateway, token = services.register_gateway(actor=admin, code="GW-BENCH", name="Bench")
        for unit in range(TAGS // 10):
            services.register_equipment(
                actor=admin,
                code=f"B{unit:03d}",
                name=f"Unit {unit}",
                kind="sensor",
                gateway_code="GW-BENCH",
                calibration_required=False,
            )
        for i in range(TAGS):
            services.define_tag(
                actor=admin,
                code=tag_code(i),
                equipment_code=f"B{i // 10:03d}",
                name=f"Tag {i}",
                unit="degC",
                max_age_s=10,
                alert_low="15",
                alert_high="30",
                action_low="10",
                action_high="35",
            )
    return str(token)


def tagmap() -> list[dict[str, object]]:
    return [
        {
            "topic": topic(i),
            "source": f"B{i // 10:03d}",
            "timestamp": "ts",
            "seq": "seq",
            "values": [{"field": "v", "tag": tag_code(i), "unit": "degC"}],
        }
        for i in range(TAGS)
    ]


def payload(seq: int, i: int, ts: str) -> bytes:
    value = 20 + ((seq * 7 + i) % 100) / 10  # now and then above the alert limit: real limit work
    return json.dumps({"ts": ts, "seq": seq, "v": f"{value:.1f}"}).encode()


def start_broker(workdir: Path) -> tuple[subprocess.Popen[bytes], int, str]:
    port = free_port()
    binary = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None
    )
    if binary:
        conf = workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "max_queued_messages 0\nmax_inflight_messages 0\nuser root\n"
        )
        proc = subprocess.Popen(
            [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        name = "mosquitto"
    else:
        proc = subprocess.Popen(
            [sys.executable, "-m", "galenic", "gateway", "broker", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        name = "embedded stand-in broker"
    wait_port(port)
    return proc, port, name


def start_server(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "galenic.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "2",
            "--log-level",
            "warning",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_port(port)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.1)
    return proc, port


async def prepare_sessions(port: int, ids: list[str]) -> None:
    import aiomqtt

    for client_id in ids:
        async with aiomqtt.Client(
            "127.0.0.1", port, identifier=client_id, clean_session=False
        ) as c:
            await c.subscribe("bench/#", qos=1)


async def publish_backlog(port: int, messages: int, first_seq: int) -> None:
    import aiomqtt

    from galenic.gateway.readings import iso, utcnow

    ts = iso(utcnow())
    async with aiomqtt.Client(
        "127.0.0.1", port, identifier="bench-pub", max_inflight_messages=1000
    ) as c:
        batch = []
        for n in range(messages):
            i = n % TAGS
            seq = first_seq + n // TAGS
            batch.append(c.publish(topic(i), payload(seq, i, ts), qos=1))
            if len(batch) == 500:
                await asyncio.gather(*batch)
                batch = []
        await asyncio.gather(*batch)


async def raw_consume(port: int, messages: int) -> float:
    import aiomqtt

    got = 0
    started = time.perf_counter()
    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-raw", clean_session=False) as c:
        async for message in c.messages:
            _ = message.payload  # touch it, as any consumer would
            got += 1
            if got == messages:
                break
    return messages / (time.perf_counter() - started)


def _gateway_parts(port: int, server_port: int, token: str, workdir: Path):  # type: ignore[no-untyped-def]
    from galenic.gateway.config import MqttConfig
    from galenic.gateway.delivery import HttpDelivery
    from galenic.gateway.outbox import Outbox
    from galenic.gateway.runner import Deliverer, MqttConnector, States
    from galenic.gateway.tagmap import TagMap

    outbox = Outbox(workdir / "bench.outbox.sqlite3")
    states = States()
    deliverer = Deliverer(
        outbox,
        HttpDelivery(f"http://127.0.0.1:{server_port}", token),
        states,
        batch_size=5000,
        interval=0.05,
    )
    connector = MqttConnector(
        MqttConfig(port=port, client_id="bench-pipe", qos=1, tagmap=TagMap.from_config(tagmap())),
        outbox,
        states,
        deliverer.wake.set,
    )
    return outbox, connector, deliverer


async def pipeline_drain(
    port: int, server_port: int, token: str, workdir: Path, messages: int
) -> float:
    """Connect the gateway to its backlog; values/s until every value is stored on the server."""
    outbox, connector, deliverer = _gateway_parts(port, server_port, token, workdir)
    started = time.perf_counter()
    tasks = [asyncio.create_task(connector.run()), asyncio.create_task(deliverer.run())]
    try:
        while deliverer.delivered + deliverer.duplicates < messages:
            await asyncio.sleep(0.005)
            if time.perf_counter() - started > 600:
                raise SystemExit("the pipeline did not drain the backlog in 10 minutes")
        return messages / (time.perf_counter() - started)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        outbox.close()


async def pipeline_live(
    port: int, server_port: int, token: str, workdir: Path, seconds: int, first_seq: int
) -> tuple[float, int]:
    """1,000 tags published at 1 Hz for ``seconds``: values/s stored, and how many in all."""
    import aiomqtt

    from galenic.gateway.readings import iso, utcnow

    outbox, connector, deliverer = _gateway_parts(port, server_port, token, workdir)
    tasks = [asyncio.create_task(connector.run()), asyncio.create_task(deliverer.run())]
    try:
        while not connector.connected.is_set():
            await asyncio.sleep(0.01)
        async with aiomqtt.Client(
            "127.0.0.1", port, identifier="bench-live", max_inflight_messages=1000
        ) as c:
            t0 = time.perf_counter()
            for second in range(seconds):
                ts = iso(utcnow())
                await asyncio.gather(
                    *(
                        c.publish(topic(i), payload(first_seq + second, i, ts), qos=1)
                        for i in range(TAGS)
                    )
                )
                await asyncio.sleep(max(0.0, t0 + second + 1 - time.perf_counter()))
        offered = seconds * TAGS
        deadline = time.perf_counter() + 30
        while deliverer.delivered < offered and time.perf_counter() < deadline:
            await asyncio.sleep(0.05)
        return deliverer.delivered / (time.perf_counter() - t0), deliverer.delivered
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        outbox.close()


def lag_p99(first_seq: int) -> float:
    from galenic.equipment.models import TagValue

    lags = [
        (stored - measured).total_seconds()
        for stored, measured in TagValue.objects.filter(seq__gte=first_seq).values_list(
            "stored_at", "measured_at"
        )
    ]
    return statistics.quantiles(lags, n=100)[98] if len(lags) > 100 else max(lags, default=0.0)


def main() -> None:
    import logging

    logging.getLogger("mqtt").setLevel(logging.ERROR)  # aiomqtt's "pending publish calls" chatter
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller backlog, shorter live run")
    args = parser.parse_args()
    seconds_of_data = 10 if args.quick else 30
    rounds = 2 if args.quick else 3
    sustained_s = 5 if args.quick else 30
    messages = TAGS * seconds_of_data

    workdir = Path(tempfile.mkdtemp(prefix="galenic-bench-mqtt-"))
    env = {
        **os.environ,
        "GALENIC_DATA_DIR": str(workdir / "server"),
        "GALENIC_DATABASE_URL": f"sqlite:///{workdir / 'server.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "galenic.settings",
        "GALENIC_LOG_LEVEL": "WARNING",
    }
    os.environ.update(env)
    token = setup_server_db(workdir)
    broker, port, broker_name = start_broker(workdir)
    server, server_port = start_server(env)
    raw_rates: list[float] = []
    rates: list[float] = []
    try:
        asyncio.run(prepare_sessions(port, ["bench-raw", "bench-pipe"]))
        for round_ in range(rounds):
            # Interleaved rounds on the same backlog; the best of each (the machine may be busy).
            asyncio.run(publish_backlog(port, messages, first_seq=1 + round_ * 1000))
            raw_rates.append(asyncio.run(raw_consume(port, messages)))
            rates.append(asyncio.run(pipeline_drain(port, server_port, token, workdir, messages)))
        live_seq = 1_000_000
        sustained, stored = asyncio.run(
            pipeline_live(port, server_port, token, workdir, sustained_s, live_seq)
        )
        lag = lag_p99(live_seq)
    finally:
        for proc in (server, broker):
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
        shutil.rmtree(workdir, ignore_errors=True)
    rate, raw_rate = max(rates), max(raw_rates)
    print(
        f"# broker: {broker_name}; backlog {messages} messages ({TAGS} tags), best of {rounds} "
        f"rounds (pipeline {[round(r) for r in rates]}, raw {[round(r) for r in raw_rates]}); "
        f"live {sustained_s} s at 1 Hz"
    )
    print(
        f"BENCH mqtt_ingest {rate:.0f} values/s ref={raw_rate:.0f} ratio={rate / raw_rate:.2f} target=0.5"
    )
    print(
        f"BENCH mqtt_ingest_floor {rate:.0f} values/s ref=1000 ratio={rate / 1000:.2f} target=1.0"
    )
    print(
        f"BENCH mqtt_sustained_1000tags_1hz {sustained:.0f} values/s ref=1000 "
        f"ratio={stored / (sustained_s * TAGS):.2f} target=1.0"
    )
    print(f"BENCH mqtt_sustained_lag_p99 {lag:.2f} s ref=10 ratio={lag / 10:.2f} target=1.0")


if __name__ == "__main__":
    main()
