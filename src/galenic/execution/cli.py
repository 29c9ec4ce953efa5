"""``galenic batch ...``: batch execution for scripting.

Every command acts as a person: ``--user`` (or GALENIC_USER) and the password from
GALENIC_PASSWORD or a prompt. The password is checked like a login (failures count toward
lockout); signed actions take it as the signature's password (ID and password every time: the
command line has no session). Output is readable text, or JSON with ``--json``. Refusals print
"field: message" on stderr and exit with 1 (bad input), 2 (conflict: out of turn, changed
meanwhile), 3 (not allowed) or 4 (not found).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import typer

app = typer.Typer(no_args_is_help=True)

T = TypeVar("T")

USER = typer.Option(..., "--user", envvar="GALENIC_USER", help="Your user ID.")
JSON = typer.Option(False, "--json", help="Print JSON instead of text.")
VALUES = typer.Argument(..., help="key=value (unit inside: 'mass=0.5 g'); material:CODE=value.")
EXIT_CODES = {400: 1, 401: 3, 403: 3, 404: 4, 409: 2}


def _password(user_id: str) -> str:
    return os.environ.get("GALENIC_PASSWORD") or typer.prompt(
        f"Password for {user_id}", hide_input=True
    )


@contextmanager
def _refusals() -> Iterator[None]:
    from galenic.cli import fail
    from galenic.core.errors import GalenicError

    try:
        yield
    except GalenicError as exc:
        lines = [f"{e.field}: {e.message}" for e in exc.errors] or [exc.message]
        if exc.errors and exc.message not in {e.message for e in exc.errors}:
            lines.insert(0, exc.message)
        raise fail("\n".join(lines), EXIT_CODES.get(exc.status, 1)) from None


def _act(user_id: str, fn: Callable[[Any], T], *, sign: bool = False) -> T:
    """Check who is at the keyboard, then run ``fn(actor)`` (or ``fn((actor, authority))``)."""
    from galenic.cli import setup_django

    setup_django()
    from galenic.accounts import selectors as accounts
    from galenic.accounts import services as accounts_services
    from galenic.core.context import action_context
    from galenic.signatures import services as signatures

    with _refusals(), action_context("cli"):
        user = accounts.user_by_id(user_id)
        if user is None:
            from galenic.core.errors import NotAuthenticated

            raise NotAuthenticated(f"There is no user {user_id!r}.", field="user")
        password = _password(user_id)
        if sign:
            authority = signatures.authenticate_signer(
                session=None, actor=user, user_id=user_id, password=password
            )
            return fn((user, authority))
        accounts_services.verify_credentials(
            user_id=user_id, password=password, expected_user=user, purpose="cli"
        )
        return fn(user)


def _read(fn: Callable[[], T]) -> T:
    from galenic.cli import setup_django

    setup_django()
    with _refusals():
        return fn()


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2, default=str, ensure_ascii=False))


def _parse_value(text: str) -> dict[str, Any]:
    """``key=value``, ``key=0.5 g`` or ``material:API-L=500 g``."""
    from galenic.core.errors import ValidationFailed

    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise ValidationFailed(f"{text!r}: write key=value (e.g. temperature=21).", field="values")
    name = name.strip()
    if name.startswith("material:"):
        return {"material": name.removeprefix("material:"), "value": value.strip()}
    return {"key": name, "value": value.strip()}


@app.command("list")
def list_batches(
    status: str = typer.Option("", help="Only batches in this status."),
    as_json: bool = JSON,
) -> None:
    """List batches, newest first."""

    def run() -> None:
        from galenic.execution import selectors
        from galenic.execution.schemas import BatchOut

        rows = [BatchOut.of(b) for b in selectors.batches(status=status or None)[:500]]
        if as_json:
            _echo_json([r.model_dump() for r in rows])
            return
        for r in rows:
            typer.echo(f"{r.number:<20} {r.status:<18} {r.mbr} v{r.mbr_version}  {r.batch_size}")

    _read(run)


@app.command("show")
def show(number: str, as_json: bool = JSON) -> None:
    """A batch: its state, every step, and the steps to work on now."""

    def run() -> None:
        from galenic.execution import selectors
        from galenic.execution.schemas import BatchDetailOut

        detail = BatchDetailOut.of_view(selectors.batch_view(selectors.get_batch(number)))
        if as_json:
            _echo_json(detail.model_dump())
            return
        typer.echo(
            f"Batch {detail.number}: {detail.status_label}; {detail.mbr} v{detail.mbr_version}, "
            f"{detail.product}, {detail.batch_size}"
        )
        if detail.hold_reason:
            typer.echo(f"On hold: {detail.hold_reason}")
        for s in detail.steps:
            who = ", ".join(
                f"{k} {v}"
                for k, v in (
                    ("performed by", s.performed_by),
                    ("verified by", s.verified_by),
                    ("approved by", s.approved_by),
                )
                if v
            )
            typer.echo(f"  {s.flow_status:<10} {s.key:<32} {who}")
        for step in detail.current:
            typer.echo(f"Now: {step.key} ({step.status})")
            for p in step.parameters:
                current = f" = {p.current.value} {p.current.unit}".rstrip() if p.current else ""
                typer.echo(f"    {p.key:<24} [{p.unit}] {p.source}{current}")
            for m in step.materials:
                current = f" = {m.current.value} {m.current.unit}" if m.current else ""
                typer.echo(
                    f"    material:{m.material:<15} {m.quantity} ({m.low} to {m.high}){current}"
                )
        y = detail.yield_result
        if y.percent is not None:
            typer.echo(f"Yield: {y.actual} of {y.theoretical} = {y.percent} %")

    _read(run)


@app.command("create")
def create(
    number: str = typer.Option(..., help="Batch number (unique)."),
    mbr: str = typer.Option(..., help="MBR code; its effective version is issued."),
    size: str = typer.Option("", help="Batch size, e.g. '150000 tablet' (default: nominal)."),
    planned_start: str = typer.Option("", help="ISO 8601 with zone."),
    planned_end: str = typer.Option("", help="ISO 8601 with zone."),
    user: str = USER,
) -> None:
    """Issue a batch from the effective MBR version (supervisor)."""
    from_services = _services()
    batch = _act(
        user,
        lambda actor: from_services.create_batch(
            actor=actor,
            mbr=mbr,
            number=number,
            batch_size=size or None,
            planned_start=planned_start or None,
            planned_end=planned_end or None,
        ),
    )
    typer.echo(f"Created batch {batch.number} from {batch.mbr_code} v{batch.mbr_version}.")


def _services() -> Any:
    from galenic.cli import setup_django

    setup_django()
    from galenic.execution import services

    return services


@app.command("release")
def release(number: str, user: str = USER) -> None:
    """Release the batch to the floor (supervisor; signed)."""
    s = _services()
    _act(
        user,
        lambda a: s.release_to_floor(actor=a[0], authority=a[1], number=number),
        sign=True,
    )
    typer.echo(f"Batch {number} released to the floor.")


@app.command("start")
def start(number: str, user: str = USER) -> None:
    """Start execution."""
    s = _services()
    _act(user, lambda actor: s.start_batch(actor=actor, number=number))
    typer.echo(f"Batch {number} started.")


@app.command("record")
def record(
    number: str,
    step: str,
    values: list[str] = VALUES,
    reason: str = typer.Option("", help="For a late or manual entry."),
    comment: str = typer.Option("", help="E.g. on an excursion."),
    observed_at: str = typer.Option("", help="Late entry: when it was observed."),
    user: str = USER,
    as_json: bool = JSON,
) -> None:
    """Record one or more values of the step that is open now (all or nothing)."""
    s = _services()

    def run(actor: Any) -> Any:
        inputs = [
            s.ValueInput(
                **_parse_value(v),
                reason=reason,
                comment=comment,
                observed_at=observed_at or None,
            )
            for v in values
        ]
        return s.record_values(
            actor=actor, number=number, step_key=step, values=inputs, single=len(inputs) == 1
        )

    entries = _act(user, run)
    if as_json:
        from galenic.execution.schemas import EntryOut

        _echo_json([EntryOut.of(e).model_dump() for e in entries])
        return
    for e in entries:
        flag = "" if e.severity == "none" else f"  ** {e.severity.upper()} **"
        typer.echo(f"#{e.pk} {e.key} = {e.value} {e.unit}: {e.evaluation}{flag}".rstrip())


def _signed_step(action: str) -> Callable[..., None]:
    def command(
        number: str, step: str, comment: str = typer.Option("", help="A comment."), user: str = USER
    ) -> None:
        s = _services()

        def run(a: tuple[Any, Any]) -> Any:
            kwargs: dict[str, Any] = {
                "actor": a[0],
                "authority": a[1],
                "number": number,
                "step_key": step,
            }
            if action == "perform":
                return s.perform_step(**kwargs, comment=comment)
            if action == "verify":
                return s.verify_step(**kwargs)
            return s.approve_step(**kwargs)

        execution = _act(user, run, sign=True)
        typer.echo(f"Step {step} of batch {number}: {execution.status}.")

    return command


app.command("complete-step", help="Complete a step as its performer (signed: performed).")(
    _signed_step("perform")
)
app.command("verify", help="Verify a step as the second person (signed: verified).")(
    _signed_step("verify")
)
app.command("approve", help="Approve a step as supervisor (signed: approved).")(
    _signed_step("approve")
)


@app.command("correct")
def correct(
    number: str,
    entry_id: int,
    value: str,
    reason: str = typer.Option(..., help="Why the value is corrected."),
    unit: str = typer.Option("", help="Unit, if not in the value."),
    user: str = USER,
) -> None:
    """Correct an entry by a new one with a reason (the original stays in the record)."""
    s = _services()
    entry = _act(
        user,
        lambda actor: s.correct_entry(
            actor=actor, number=number, entry_id=entry_id, value=value, unit=unit, reason=reason
        ),
    )
    typer.echo(f"#{entry.pk} corrects #{entry_id}: {entry.key} = {entry.value} {entry.unit}")


@app.command("comment")
def comment(
    number: str,
    text: str,
    step: str = typer.Option("", help="On this step."),
    entry_id: int = typer.Option(0, "--entry", help="On this entry."),
    user: str = USER,
) -> None:
    """Comment on the batch, a step or an entry."""
    s = _services()
    _act(
        user,
        lambda actor: s.add_comment(
            actor=actor,
            number=number,
            text=text,
            step_key=step or None,
            entry_id=entry_id or None,
        ),
    )
    typer.echo("Comment recorded.")


@app.command("hold")
def hold(number: str, reason: str = typer.Option(...), user: str = USER) -> None:
    """Put the batch on hold (supervisor)."""
    s = _services()
    _act(user, lambda actor: s.hold_batch(actor=actor, number=number, reason=reason))
    typer.echo(f"Batch {number} is on hold.")


@app.command("resume")
def resume(number: str, reason: str = typer.Option(...), user: str = USER) -> None:
    """Resume a batch on hold (supervisor)."""
    s = _services()
    _act(user, lambda actor: s.resume_batch(actor=actor, number=number, reason=reason))
    typer.echo(f"Batch {number} resumed.")


@app.command("complete")
def complete(number: str, user: str = USER) -> None:
    """Complete the batch (every step done); prints the yield."""
    s = _services()
    batch = _act(user, lambda actor: s.complete_batch(actor=actor, number=number))
    from galenic.execution.schemas import yield_percent_text

    percent = yield_percent_text(batch)
    extra = (
        f"; yield {batch.actual_yield} = {percent} % of {batch.theoretical_yield}"
        if percent
        else ""
    )
    typer.echo(f"Batch {number} completed{extra}.")


@app.command("exceptions")
def exceptions(number: str, as_json: bool = JSON) -> None:
    """What a reviewer must judge on this batch."""

    def run() -> None:
        from galenic.execution import selectors
        from galenic.execution.schemas import ExceptionOut

        rows = [ExceptionOut.of(x) for x in selectors.exceptions(selectors.get_batch(number))]
        if as_json:
            _echo_json([r.model_dump() for r in rows])
            return
        for r in rows:
            where = f"{r.step}" + (f"#{r.iteration}" if r.iteration and r.iteration > 1 else "")
            devs = f" [{', '.join(r.deviations)}]" if r.deviations else ""
            typer.echo(f"{r.id:>5} {r.severity:<6} {r.kind:<32} {where:<24} {r.message}{devs}")

    _read(run)
