"""The `galenic` command. Each bounded context adds its sub-commands from its own ``cli.py``."""

from __future__ import annotations

import os
import sys

import typer

app = typer.Typer(
    help="Galenic MES command line.", no_args_is_help=True, pretty_exceptions_enable=False
)


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    import django
    from django.apps import apps

    if not apps.ready:  # once per process: setup() would configure logging again
        django.setup()


def fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.command()
def migrate() -> None:
    """Create or upgrade the database schema."""
    setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1)


@app.command("seed-demo")
def seed_demo() -> None:
    """Load the demo site (users of every role, master data, MBRs). Safe to run again."""
    setup_django()
    from galenic.core.demo import seed_all

    for line in seed_all():
        typer.echo(line)


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to bind (GALENIC_HOST, default 127.0.0.1)."),
    port: int = typer.Option(None, help="Port (GALENIC_PORT, default 8000)."),
    workers: int = typer.Option(None, help="Worker processes (GALENIC_WORKERS, default 3)."),
) -> None:
    """Serve the web app and API with gunicorn (several workers; static files via WhiteNoise)."""
    setup_django()
    from django.conf import settings
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    bind = f"{host or settings.SERVE_HOST}:{port or settings.SERVE_PORT}"
    args = [
        sys.executable,
        "-m",
        "gunicorn",
        "galenic.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers or settings.SERVE_WORKERS),
        "--threads",
        "4",
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "20",
    ]
    typer.echo(f"Galenic serving on http://{bind}")
    os.execv(sys.executable, args)  # noqa: S606 - replace this process with the server


@app.command()
def backup(
    dest: str = typer.Argument(..., help="New (or empty) directory to write the backup into."),
) -> None:
    """Back up the database (SQLite online backup API / pg_dump custom format) with the audit
    checkpoints and the signing public key, while the app keeps running (docs/reliability.md)."""
    setup_django()
    from pathlib import Path

    from galenic.core.backup import backup as do_backup
    from galenic.core.errors import GalenicError

    try:
        result = do_backup(Path(dest))
    except GalenicError as exc:
        raise fail(f"Backup not made: {exc.message}") from None
    audit = result.manifest["audit"]
    typer.echo(
        f"Backup written to {result.path}: {result.manifest['database']['vendor']} database, "
        f"audit trail #1..#{audit['head_seq']} (head {audit['head_hash'][:16]}…), "
        f"{audit['checkpoints']} signed checkpoints, key {audit['key_fingerprint']}."
    )
    typer.echo("Keep the audit key (GALENIC_AUDIT_KEY_FILE) in escrow: it is not in the backup.")


@app.command("prune-idempotency-keys")
def prune_idempotency_keys(
    older_than_hours: int = typer.Option(
        168, help="Forget keys of API requests older than this many hours (default: a week)."
    ),
) -> None:
    """Forget old Idempotency-Key records (operational data; run it daily from cron). A retry
    sent later than this is carried out again; state checks still refuse duplicates."""
    setup_django()
    from galenic.core.errors import GalenicError
    from galenic.core.idempotency import prune

    try:
        removed = prune(older_than_hours=older_than_hours)
    except GalenicError as exc:
        raise fail(f"--older-than-hours: {exc.message}") from None
    typer.echo(f"Removed {removed} idempotency keys older than {older_than_hours} hours.")


@app.command()
def restore(
    src: str = typer.Argument(..., help="A directory written by `galenic backup`."),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that holds data (recorded in the audit trail)."
    ),
    reason: str = typer.Option("", help="Why (kept with the restore's audit event)."),
) -> None:
    """Restore a backup into the configured database, merge its checkpoints, record the restore
    in the audit trail and verify the result. Exit 0 verified, 1 refused, 2 restored but the
    audit trail does not verify (e.g. an older copy than the checkpoints record)."""
    setup_django()
    from pathlib import Path

    from galenic.audit.verify import verify_chain
    from galenic.core.backup import restore as do_restore
    from galenic.core.errors import GalenicError

    try:
        result = do_restore(Path(src), force=force, reason=reason)
    except GalenicError as exc:
        raise fail(f"Not restored: {exc.message}") from None
    audit = result.manifest["audit"]
    typer.echo(
        f"Restored the backup of {result.manifest['created_at']} "
        f"(audit trail #1..#{audit['head_seq']})"
        + (
            f", replacing a database with audit trail up to #{result.replaced['audit_head_seq']}"
            if result.replaced
            else ""
        )
        + f"; {result.checkpoints_added} checkpoints added to the checkpoint file."
    )
    for note in result.notes:
        typer.echo(f"note: {note}")
    verified = verify_chain()
    if not verified.ok:
        raise fail(
            "Restored, but the audit trail does not verify: "
            f"{verified.problem} (run `galenic audit verify` for every problem)",
            code=2,
        )
    typer.echo(f"OK: {verified.checked} audit events verified.")


@app.command("manage", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def manage(ctx: typer.Context) -> None:
    """Run a Django management command (for operators of the system)."""
    setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["galenic manage", *ctx.args])


def _register_subcommands() -> None:
    from galenic.accounts.cli import app as users_app
    from galenic.audit.cli import app as audit_app
    from galenic.equipment.cli import app as equipment_app
    from galenic.execution.cli import app as batch_app
    from galenic.exports.cli import app as export_app
    from galenic.gateway.cli import app as gateway_app
    from galenic.quality.cli import app as deviations_app
    from galenic.recipes.cli import app as mbr_app
    from galenic.signatures.cli import app as signatures_app

    app.add_typer(users_app, name="users", help="User accounts.")
    app.add_typer(audit_app, name="audit", help="Audit trail: verify, checkpoint, export.")
    app.add_typer(signatures_app, name="signatures", help="Electronic signatures.")
    app.add_typer(equipment_app, name="equipment", help="Equipment and instruments.")
    app.add_typer(mbr_app, name="mbr", help="Master batch records: import, export, validate.")
    app.add_typer(batch_app, name="batch", help="Batch execution.")
    app.add_typer(deviations_app, name="deviations", help="Deviations (quality events).")
    app.add_typer(gateway_app, name="gateway", help="Edge gateway and device simulators.")
    app.add_typer(
        export_app, name="export", help="Exports (PDF, JSON, CSV, YAML) and their verification."
    )


_register_subcommands()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
