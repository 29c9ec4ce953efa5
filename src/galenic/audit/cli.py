"""`galenic audit ...`: verify the trail, write a signed checkpoint, grant the app role."""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify(
    no_seals: bool = typer.Option(
        False, "--no-seals", help="Skip row seals (for a verifier holding only the public key)."
    ),
    checkpoint_dir: str = typer.Option(
        "", help="Checkpoint directory (default GALENIC_AUDIT_CHECKPOINT_DIR)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check the audit trail: sequence, hash chain, seals, signed checkpoints, triggers.

    Exit 0 when intact; 2 when tampered (naming the first bad event); 1 when it cannot check.
    """
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.audit.checkpoints import CheckpointError
    from galenic.audit.verify import verify_chain

    try:
        result = verify_chain(
            check_seals=not no_seals,
            checkpoint_dir=Path(checkpoint_dir) if checkpoint_dir else None,
        )
    except CheckpointError as exc:
        raise fail(f"cannot verify: {exc} (use --no-seals to check without it)", code=1) from None
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        if not result.ok:
            raise typer.Exit(2)
        return
    if result.ok and result.checked == 0:
        typer.echo("OK: the audit trail is empty.")
        return
    if result.ok:
        latest = result.latest_checkpoint
        typer.echo(
            f"OK: {result.checked} events verified (#1..#{result.head_seq}), "
            f"head {result.head_hash[:16]}…, seals {'checked' if result.seals_checked else 'NOT checked'}, "
            f"{result.checkpoints_checked} signed checkpoints"
            + (f" (latest #{latest.seq} at {latest.at})" if latest else "")
        )
        for note in result.notes:
            typer.echo(f"note: {note}")
        return
    first = result.first_problem
    where = f"first bad event #{first.seq}: " if first and first.seq is not None else ""
    lines = [f"TAMPERED: {where}{result.problem}"]
    lines += [f"  - {p.message}" for p in result.problems if p is not first][:20]
    if result.problem_count > len(result.problems):
        lines.append(f"  ... {result.problem_count} problems in all")
    raise fail("\n".join(lines), code=2)


@app.command()
def checkpoint() -> None:
    """Sign the current chain head and append it to the checkpoint file (outside the database)."""
    from galenic.cli import setup_django

    setup_django()
    from galenic.audit.services import write_checkpoint

    written = write_checkpoint(kind="manual")
    if written is None:
        typer.echo("The audit trail is empty: nothing to checkpoint.")
        return
    typer.echo(f"Checkpoint #{written.seq} head {written.head[:16]}… signed at {written.at}")


@app.command("grant-app-role")
def grant_app_role(
    role: str = typer.Argument(..., help="PostgreSQL role the application connects as."),
) -> None:
    """PostgreSQL: give ROLE ordinary DML everywhere but only SELECT, INSERT on the audit table.

    Run as the database owner (the role that ran `galenic migrate`), then point
    GALENIC_DATABASE_URL of the app processes at ROLE. It cannot UPDATE, DELETE or TRUNCATE
    audit events, nor disable their triggers.
    """
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.audit.db.privileges import grant_app_role as grant
    from galenic.core.errors import GalenicError

    try:
        statements = grant(role)
    except GalenicError as exc:
        raise fail(exc.message) from None
    for statement in statements:
        typer.echo(f"{statement};")
    typer.echo(f"Role {role!r} may read and append the audit trail, never change it.")
