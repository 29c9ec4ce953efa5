from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_deviations(
    batch: str = typer.Option("", help="Only this batch."),
    open_only: bool = typer.Option(False, "--open", help="Only deviations not closed."),
) -> None:
    """List deviations."""
    from galenic.cli import setup_django

    setup_django()
    from galenic.quality import selectors

    for d in selectors.deviations(batch=batch or None, open_only=open_only):
        where = f"{d.batch.number if d.batch else '-'} {d.step.step_key if d.step else ''}".strip()
        typer.echo(f"{d.number}  {d.classification:<8} {d.status:<20} {where:<30} {d.title}")
