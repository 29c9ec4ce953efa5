from __future__ import annotations

import csv
import sys

import typer

app = typer.Typer(no_args_is_help=True)


@app.command()
def verify() -> None:
    """Check every signature against the record it signs and the audit trail. Exit 0 when all
    are valid; exit 2 naming each altered, moved, excised or unverifiable signature."""
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.signatures.triggers import missing_triggers
    from galenic.signatures.verify import audit_index, check_all, excised

    index = audit_index()
    checked = 0
    failures = 0
    seen: set[str] = set()
    for result in check_all(index=index):
        checked += 1
        seen.add(str(result.signature.uid))
        if not result.ok:
            failures += 1
            typer.echo(f"FAIL {result.describe()}", err=True)
    for gone in excised(index, seen):
        failures += 1
        typer.echo(f"FAIL {gone.describe()}", err=True)
    for name in missing_triggers():
        failures += 1
        typer.echo(f"FAIL append-only trigger {name} is missing or disabled", err=True)
    if failures:
        raise fail(f"INVALID: {failures} problem(s) among {checked} signatures", code=2)
    typer.echo(f"OK: {checked} signatures verified")


@app.command()
def roster() -> None:
    """CSV of everyone who acknowledged the accountability policy (for the 11.100(c) letter)."""
    from galenic.cli import setup_django

    setup_django()
    from galenic.core.timefmt import format_datetime
    from galenic.signatures.selectors import acknowledgement_roster

    out = csv.writer(sys.stdout)
    out.writerow(["user_id", "printed_name", "active", "policy_version", "acknowledged_at"])
    for ack in acknowledgement_roster():
        out.writerow(
            [
                ack.user.username,
                ack.user.full_name,
                "yes" if ack.user.is_active else "no",
                ack.policy_version,
                format_datetime(ack.acknowledged_at),
            ]
        )
