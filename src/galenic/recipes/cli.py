"""`galenic mbr ...`: validate, import and export master batch records as YAML/JSON files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True)


def _read(path: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        from galenic.cli import fail

        raise fail(f"{path}: cannot read: {exc}") from None


@app.command()
def validate(
    file: str = typer.Argument(..., help="A YAML or JSON master record ('-' reads stdin)."),
) -> None:
    """Check a master record file: every problem with its path. Exit 1 if there is any."""
    from galenic.recipes.document import DocumentInvalid, load
    from galenic.recipes.document import validate as validate_document

    try:
        problems = validate_document(load(_read(file)))
    except DocumentInvalid as exc:
        problems = exc.problems
    if not problems:
        typer.echo(f"{file}: valid")
        return
    for problem in problems:
        typer.echo(f"{problem.path or '(document)'}: {problem.message} [{problem.code}]")
    typer.secho(f"{file}: {len(problems)} problem(s)", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _named_files(text: str, file: str, folder: str) -> list[tuple[str, str, bytes]]:
    """(filename, media type, bytes) of the attachments the document names that are in the folder."""
    from pathlib import Path

    from galenic.recipes.document import DocumentInvalid, load

    where = Path(folder) if folder else Path(file).parent / "files"
    if not where.is_dir() or (file == "-" and not folder):
        return []
    try:
        attachments = load(text).attachments
    except (DocumentInvalid, ValueError):
        return []  # import_text names the problem
    return [
        (a.filename, a.media_type, (where / a.filename).read_bytes())
        for a in attachments
        if (where / a.filename).is_file()
    ]


@app.command("import")
def import_file(
    file: str = typer.Argument(..., help="A YAML or JSON master record ('-' reads stdin)."),
    as_user: str = typer.Option(..., "--as", help="User ID of the process engineer importing it."),
    reason: str = typer.Option(..., "--reason", help="Why (recorded in the audit trail)."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        envvar="GALENIC_PASSWORD",
        help="That user's password (prompted; or GALENIC_PASSWORD).",
    ),
    files: str = typer.Option(
        "",
        "--files",
        help="Folder holding the images and label specimens the document's attachments name "
        "(default: files/ beside FILE, when it exists).",
    ),
) -> None:
    """Import a file as a draft: a new MBR, or a new version of an existing one."""
    from galenic.cli import fail, setup_django

    text = _read(file)
    setup_django()
    from galenic.accounts import selectors as accounts
    from galenic.accounts.services import verify_credentials
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError
    from galenic.recipes import selectors, services

    user = accounts.user_by_id(as_user)
    if user is None:
        raise fail(f"--as: there is no user {as_user!r}")
    with action_context("cli"):
        try:
            # Nobody acts as someone else from the command line either (11.10(d), 11.300).
            verify_credentials(
                user_id=user.username, password=password, expected_user=user, purpose="cli"
            )
            services.store_files(actor=user, files=_named_files(text, file, files), reason=reason)
            version = services.import_text(actor=user, text=text, reason=reason)
        except GalenicError as exc:
            lines = [f"{e.field}: {e.message}" for e in exc.errors] or [exc.message]
            if exc.errors and len(exc.errors) > 1:
                lines.insert(0, exc.message)
            raise fail("\n".join(lines)) from None
    problems = selectors.problems(version)
    typer.echo(
        f"Imported {version.master.code} version {version.version} as a draft "
        f"({version.content_hash[:12]}…); "
        + (f"{len(problems)} problem(s) to fix before review." if problems else "no problems.")
    )


@app.command()
def export(
    code: str = typer.Argument(..., help="MBR code, e.g. MBR-PCM500-TAB."),
    version: int = typer.Option(
        None, "--version", help="Version number (default: effective, else latest)."
    ),
    fmt: str = typer.Option("yaml", "--format", help="yaml or json."),
    output: str = typer.Option("", "--output", "-o", help="Write to this file instead of stdout."),
) -> None:
    """Write a version as canonical YAML or JSON (imports back to the same document)."""
    from galenic.cli import fail, setup_django

    if fmt not in ("yaml", "json"):
        raise fail("--format: yaml or json")
    setup_django()
    from galenic.core.errors import GalenicError
    from galenic.recipes import selectors
    from galenic.recipes.document import dump_json, dump_yaml

    try:
        found = selectors.find_version(code, version)
    except GalenicError as exc:
        raise fail(exc.message) from None
    doc = found.document()
    text = dump_yaml(doc) if fmt == "yaml" else dump_json(doc)
    if output:
        Path(output).write_text(text, encoding="utf-8")
        typer.echo(
            f"Wrote {code} version {found.version} ({found.get_status_display()}) to {output}"
        )
    else:
        sys.stdout.write(text)


@app.command("dry-run")
def dry_run(
    file: str = typer.Argument(..., help="A YAML or JSON master record ('-' reads stdin)."),
    value: Annotated[
        list[str] | None,
        typer.Option("--value", help="Example value: step.param=value (repeat for repeated runs)."),
    ] = None,
    batch_size: str = typer.Option("", help="Batch size, e.g. '150000 tablet' (default nominal)."),
) -> None:
    """Walk a master record file with example values: path, calculations, limits that fire."""
    from galenic.cli import fail
    from galenic.recipes.document import DocumentInvalid, load, require_valid
    from galenic.recipes.document import dry_run as run
    from galenic.recipes.document.dryrun import parse_example_values

    try:
        doc = require_valid(load(_read(file)))
        values = parse_example_values(value or [])
        report = run(doc, values=values, batch_size=batch_size or None)
    except DocumentInvalid as exc:
        raise fail("\n".join(str(p) for p in exc.problems)) from None
    except (ValueError, ArithmeticError) as exc:
        raise fail(str(exc)) from None
    typer.echo(report.render_text(), nl=False)
    if not report.complete:
        raise typer.Exit(1)
