"""`galenic equipment ...`: the registry, gateway tokens and calibrations from the server's shell.

Changes run as a named user (``--as``), checked and audited like any other change.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

app = typer.Typer(no_args_is_help=True)

AsUser = Annotated[str, typer.Option("--as", help="User ID the change is made as (audited).")]


def _setup() -> None:
    from galenic.cli import setup_django

    setup_django()


def _actor(username: str) -> Any:
    from galenic.accounts.models import User
    from galenic.cli import fail

    user = User.objects.filter(username=username).first()
    if user is None:
        raise fail(f"no user {username!r}")
    return user


def _call(fn: Any, **kwargs: Any) -> Any:
    from galenic.cli import fail
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError

    with action_context("cli"):
        try:
            return fn(**kwargs)
        except GalenicError as exc:
            raise fail(f"{exc.field or 'error'}: {exc.message}") from None


@app.callback(invoke_without_command=False)
def callback() -> None:
    """Equipment and instruments."""


@app.command("list")
def list_equipment() -> None:
    """Registered equipment with serial numbers and calibration status."""
    _setup()
    from galenic.core.timefmt import local_today
    from galenic.equipment import selectors

    today = local_today()
    rows = selectors.equipment_list()
    if not rows:
        typer.echo("no equipment registered yet")
    for e in rows:
        due = e.calibration_due.isoformat() if e.calibration_due else "-"
        typer.echo(
            f"{e.code:<8} {e.kind:<16} {e.serial_number or '-':<14} "
            f"{e.calibration_state(today).label:<26} due {due:<10} "
            f"gateway {e.gateway.code if e.gateway else '-'}  {e.name}"
        )


@app.command("tags")
def list_tags() -> None:
    """Tags with unit, limits and their latest value."""
    _setup()
    from galenic.equipment import selectors

    for row in selectors.live_tags():
        t = row.tag
        latest = "no value yet"
        if row.latest is not None:
            state = "STALE" if row.stale else "live"
            value = "-" if row.latest.value is None else selectors.plain(row.latest.value)
            latest = f"{value} {t.unit} ({row.age_s:.0f} s, {state})"
        lim = [
            selectors.plain(v) if v is not None else ""
            for v in (t.alert_low, t.alert_high, t.action_low, t.action_high)
        ]
        limits = f"alert {lim[0]}..{lim[1]} action {lim[2]}..{lim[3]}"
        typer.echo(f"{t.code:<22} max age {t.max_age_s:>3} s  {limits:<44} {latest}")


@app.command("gateways")
def list_gateways() -> None:
    """Gateways, when they were last heard from, and their device connections."""
    _setup()
    from galenic.equipment import selectors

    for g in selectors.gateways():
        seen = g.last_seen_at.isoformat() if g.last_seen_at else "never"
        typer.echo(
            f"{g.code}  {g.name}  last seen {seen}  buffered {g.last_status.get('pending', '?')}"
        )
        for c in selectors.connections_of(g):
            typer.echo(f"    {c.kind:<8} {c.name:<10} {c.state:<13} {c.detail}")


@app.command("register-gateway")
def register_gateway(code: str, name: str, as_user: AsUser) -> None:
    """Register a gateway and print its token (shown once; store it on the gateway)."""
    _setup()
    from galenic.equipment import services

    _gateway, token = _call(services.register_gateway, actor=_actor(as_user), code=code, name=name)
    typer.echo(token)


@app.command("gateway-token")
def gateway_token(
    code: str,
    as_user: AsUser,
    reason: Annotated[str, typer.Option(help="Why a new token is issued.")],
) -> None:
    """Issue a new token for a gateway (the old one stops working) and print it."""
    _setup()
    from galenic.equipment import services

    typer.echo(_call(services.issue_gateway_token, actor=_actor(as_user), code=code, reason=reason))


@app.command("calibrate")
def calibrate(
    code: str,
    as_user: AsUser,
    due: Annotated[str, typer.Option(help="Next due date, YYYY-MM-DD.")],
    performed: Annotated[str, typer.Option(help="Date performed, YYYY-MM-DD.")] = "",
    certificate: Annotated[str, typer.Option()] = "",
    failed: Annotated[bool, typer.Option("--failed", help="The calibration failed.")] = False,
    reason: Annotated[str, typer.Option()] = "",
) -> None:
    """Record a calibration (211.68(a))."""
    _setup()
    from galenic.cli import fail
    from galenic.core.timefmt import local_today
    from galenic.equipment import services

    try:
        due_date = date.fromisoformat(due)
        performed_on = date.fromisoformat(performed) if performed else local_today()
    except ValueError as exc:
        raise fail(f"date: {exc}") from None
    record = _call(
        services.record_calibration,
        actor=_actor(as_user),
        code=code,
        performed_on=performed_on,
        due=due_date,
        passed=not failed,
        certificate=certificate,
        reason=reason,
    )
    typer.echo(f"recorded calibration of {code}: due {record.due.isoformat()}")


@app.command("read")
def read_weight(code: str, as_user: AsUser) -> None:
    """Take the current stable weight of a balance as a step would (refusals are audited)."""
    _setup()
    from galenic.equipment import services

    reading = _call(services.capture_balance_weight, actor=_actor(as_user), instrument_code=code)
    typer.echo(
        f"{reading.value} {reading.unit} from {reading.instrument_code} serial {reading.serial} "
        f"measured {reading.measured_at.isoformat()}"
    )
