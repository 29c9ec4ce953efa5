"""`galenic export ...`: write exports to files; verify an exported record."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True)


@app.callback()
def callback() -> None:
    """Export records (PDF, JSON, CSV, YAML) and verify exported files."""


@app.command("mbr")
def export_mbr(
    code: str = typer.Argument(..., help="MBR code, e.g. MBR-PCM500-TAB."),
    version: int = typer.Argument(..., help="Version number."),
    fmt: str = typer.Option(
        "pdf", "--format", "-f", help="pdf, yaml, json, or record (complete record as JSON)."
    ),
    output: str = typer.Option("", "--output", "-o", help="File to write (default: its name)."),
) -> None:
    """Write an MBR version as PDF, YAML or JSON (audited as a command-line export)."""
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError
    from galenic.exports import selectors, services

    with action_context("cli"):
        try:
            export = services.export_mbr(
                actor=None, version=selectors.mbr_version_by_code(code, version), fmt=fmt
            )
        except GalenicError as exc:
            raise fail(f"{exc.field or 'error'}: {exc.message}") from None
    target = Path(output or export.filename)
    target.write_bytes(export.content)
    typer.echo(
        f"Wrote {target} ({len(export.content)} bytes); record SHA-256 {export.record_sha256}"
    )


@app.command("batch")
def export_batch(
    number: str = typer.Argument(..., help="Batch number."),
    fmt: str = typer.Option("pdf", "--format", "-f", help="pdf, json or csv."),
    output: str = typer.Option("", "--output", "-o", help="File to write (default: its name)."),
) -> None:
    """Write the complete batch record as PDF, JSON or CSV (audited as a command-line export)."""
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError
    from galenic.exports import services

    with action_context("cli"):
        try:
            export = services.export_batch(actor=None, number=number, fmt=fmt)
        except GalenicError as exc:
            raise fail(f"{exc.field or 'error'}: {exc.message}") from None
    target = Path(output or export.filename)
    target.write_bytes(export.content)
    typer.echo(
        f"Wrote {target} ({len(export.content)} bytes); record SHA-256 {export.record_sha256}"
    )


@app.command("verify")
def verify(
    file: str = typer.Argument(..., help="An exported record (.json)."),
    offline: bool = typer.Option(
        False, "--offline", help="Check the file alone (hashes), without this system's database."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Check an exported record against its hashes, the audit trail and the signatures.

    Exit 0 when it matches; 2 when anything differs (each difference named); 1 when the file
    cannot be read.
    """
    import json

    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.exports import integrity
    from galenic.exports.verify import verify as verify_export

    try:
        data = integrity.loads(Path(file).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, integrity.ExportUnreadable) as exc:
        raise fail(f"{file}: {exc}") from None
    result = verify_export(data, against_system=not offline)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "ok": result.ok,
                    "kind": result.kind,
                    "record_sha256": result.record_sha256,
                    "against_system": result.against_system,
                    "audit_events": result.audit_events,
                    "signatures": result.signatures,
                    "findings": [{"where": f.where, "message": f.message} for f in result.findings],
                },
                indent=1,
            )
        )
    else:
        scope = "file and system" if result.against_system else "file only"
        typer.echo(
            f"{file}: {result.kind}, record SHA-256 {result.record_sha256}; checked {scope}: "
            f"{result.audit_events} audit events, {result.signatures} signatures"
        )
        for finding in result.findings:
            typer.echo(f"DIFFERENCE {finding}")
        typer.echo(
            "OK: the export matches." if result.ok else f"{len(result.findings)} difference(s)."
        )
    if not result.ok:
        raise typer.Exit(2)
