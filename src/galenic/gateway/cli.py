"""`galenic gateway ...`: the shop-floor process and its simulators (no Django needed)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)


@app.callback(invoke_without_command=False)
def callback(
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Debug logging."),
) -> None:
    """Edge gateway: balances (MT-SICS), MQTT, durable outbox, delivery to the server."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


def _run(coro: object) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(coro)  # type: ignore[arg-type]


@app.command("run")
def run(
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", envvar="GALENIC_GATEWAY_CONFIG", help="Gateway YAML file."),
    ] = None,
) -> None:
    """Run the gateway: connect every configured device, buffer, deliver to the server."""
    from galenic.gateway.config import ConfigError, load
    from galenic.gateway.runner import Gateway

    try:
        cfg = load(config)
    except ConfigError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    _run(Gateway(cfg).run())


@app.command("demo")
def demo(
    server: str = typer.Option(
        None, envvar="GALENIC_GATEWAY_SERVER", help="Server URL (default http://127.0.0.1:8000)."
    ),
    no_gateway: bool = typer.Option(False, help="Only the simulators and the publisher."),
) -> None:
    """Start every demo device process: balance simulators, process-value publisher (with a
    stand-in broker if none is reachable) and the gateway."""
    from galenic.gateway.demo import run_demo

    _run(run_demo(server, with_gateway=not no_gateway))


@app.command("simulate-balance")
def simulate_balance(
    port: int = typer.Option(4101, help="TCP port to listen on (127.0.0.1)."),
    serial: str = typer.Option("B000000001", help="Serial number the balance reports (I4)."),
    model: str = typer.Option("XS205 Excellence 220 g", help="Type text the balance reports (I2)."),
    unit: str = typer.Option("g"),
    decimals: int = typer.Option(3),
    capacity: str = typer.Option("220"),
    weight: str = typer.Option("0", help="Initial gross weight."),
) -> None:
    """A simulated MT-SICS balance. Drive it with `galenic gateway balance PORT WEIGHT 12.5`."""
    from galenic.gateway.simulator import BalanceSimulator

    sim = BalanceSimulator(
        port=port,
        serial=serial,
        model=model,
        unit=unit,
        decimals=decimals,
        capacity=Decimal(capacity),
    )
    sim.set_weight(weight)
    typer.echo(f"balance simulator {model} serial {serial} on 127.0.0.1:{port}")
    _run(sim.serve_forever())


@app.command("balance")
def balance_control(
    port: Annotated[int, typer.Argument(help="Simulator port.")],
    command: Annotated[
        list[str], typer.Argument(help="e.g. WEIGHT 12.5 | UNSTABLE 3 | OVERLOAD ON")
    ],
    host: str = typer.Option("127.0.0.1"),
) -> None:
    """Control a running balance simulator (SIM commands)."""
    from galenic.gateway.simulator import send_control

    try:
        typer.echo(asyncio.run(send_control(host, port, "SIM " + " ".join(command))))
    except OSError as exc:
        typer.secho(f"no simulator at {host}:{port}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command("read-balance")
def read_balance(
    port: int = typer.Argument(...),
    host: str = typer.Option("127.0.0.1"),
    stable: bool = typer.Option(True, help="S (stable) rather than SI (immediate)."),
) -> None:
    """Ask a balance (real or simulated) for identity and weight."""
    from galenic.gateway.balance import MtSicsClient
    from galenic.gateway.mtsics import BalanceError

    async def _read() -> None:
        async with MtSicsClient(host, port) as client:
            identity = await client.identify()
            typer.echo(f"model {identity.model!r} serial {identity.serial!r}")
            weight = await (client.stable_weight() if stable else client.immediate_weight())
            typer.echo(f"{weight.value} {weight.unit} ({weight.status})")

    try:
        asyncio.run(_read())
    except BalanceError as exc:
        typer.secho(f"{exc.code}: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from None


@app.command("publish")
def publish_values(
    url: str = typer.Option("mqtt://127.0.0.1:1883", envvar="GALENIC_MQTT_URL"),
    interval: float = typer.Option(1.0, help="Seconds between rounds."),
) -> None:
    """Publish simulated process values (granulator, dryer, blender, press, filler)."""
    from galenic.gateway.config import parse_mqtt_url
    from galenic.gateway.publisher import publish

    host, port, *_ = parse_mqtt_url(url)
    _run(publish(host, port, interval=interval))


@app.command("broker")
def broker(port: int = typer.Option(1883), host: str = typer.Option("127.0.0.1")) -> None:
    """The embedded stand-in MQTT broker (demo only; sites run a real broker)."""
    from galenic.gateway.broker import Broker

    _run(Broker(host, port).serve_forever())


@app.command("outbox")
def outbox(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", envvar="GALENIC_GATEWAY_CONFIG")
    ] = None,
) -> None:
    """Show what the outbox holds: buffered readings, counters, the latest refusals."""
    from galenic.gateway.config import load
    from galenic.gateway.outbox import Outbox

    cfg = load(config)
    with Outbox(cfg.outbox) as box:
        typer.echo(f"outbox {cfg.outbox}: {box.pending()} reading(s) waiting")
        for name, value in sorted(box.counters().items()):
            typer.echo(f"  {name}: {value}")
        for item in box.rejected(10):
            typer.echo(f"  refused {item['source']}/{item['tag']}#{item['seq']}: {item['reason']}")
