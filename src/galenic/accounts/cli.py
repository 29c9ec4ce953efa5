from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True)


@app.command("create-admin")
def create_admin(
    username: str = typer.Option(..., prompt=True, help="User ID of the first administrator."),
    full_name: str = typer.Option(..., prompt=True, help="Printed name."),
    password: str = typer.Option(
        ..., prompt=True, hide_input=True, confirmation_prompt=True, envvar="GALENIC_ADMIN_PASSWORD"
    ),
    identity_evidence: str = typer.Option(
        "",
        help="How this person's identity was checked (21 CFR 11.100(b)), kept with the account; "
        "default: attested by whoever runs this command.",
    ),
) -> None:
    """Create an administrator for first set-up (audited as a system action). Accounts made
    here count as identity-checked; administrators made in the app need a second admin's check."""
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.accounts import services
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError

    with action_context("cli"):
        try:
            user = services.create_user(
                actor=None,
                username=username,
                full_name=full_name,
                password=password,
                roles=["admin"],
                reason="first set-up from the command line",
                identity_evidence=identity_evidence,
            )
        except GalenicError as exc:
            raise fail(f"{exc.field or 'error'}: {exc.message}") from None
    typer.echo(f"Created administrator {user.username} ({user.full_name}).")


@app.command("list")
def list_users(
    status: str = typer.Option("all", help="all, active, locked or deactivated."),
) -> None:
    """List users with their roles and status."""
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.accounts import selectors

    if status not in selectors.STATUSES:
        raise fail(f"status: choose one of {', '.join(selectors.STATUSES)}")
    rows = [
        (u.username, u.full_name, ",".join(selectors.role_codes(u)) or "-", selectors.status_of(u))
        for u in selectors.users()
        if status == "all" or selectors.status_of(u) == status
    ]
    header = ("USER ID", "PRINTED NAME", "ROLES", "STATUS")
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(4)]
    for row in [header, *rows]:
        typer.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


@app.command("reviews-due")
def reviews_due() -> None:
    """List active accounts whose periodic review is due (21 CFR 11.300(b)). Exit 3 when any
    are, so a scheduled run can raise an alert."""
    from galenic.cli import setup_django

    setup_django()
    from galenic.accounts import selectors

    due = selectors.accounts_due_review()
    if not due:
        typer.echo("No account review is due.")
        return
    for user, day in due:
        roles = ",".join(selectors.role_codes(user)) or "-"
        typer.echo(f"{user.username}  {user.full_name}  {roles}  due {day.isoformat()}")
    raise typer.Exit(3)


@app.command("unlock")
def unlock(
    user_id: str = typer.Argument(..., help="The locked user's ID."),
    reason: str = typer.Option(..., "--reason", help="Why the account may be used again."),
) -> None:
    """Unlock an account locked after failed attempts (audited as a system action)."""
    from galenic.cli import fail, setup_django

    setup_django()
    from galenic.accounts import selectors, services
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError

    user = selectors.user_by_id(user_id)
    if user is None:
        raise fail(f"user_id: there is no user {user_id!r}")
    with action_context("cli"):
        try:
            services.unlock_user(actor=None, user=user, reason=reason)
        except GalenicError as exc:
            raise fail(f"{exc.field or 'error'}: {exc.message}") from None
    typer.echo(f"Unlocked {user.username} ({user.full_name}).")
