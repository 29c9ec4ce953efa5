"""`galenic users create-admin | list | unlock`: system actions, audited with source "cli"."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from galenic.accounts import services
from galenic.accounts.models import User
from galenic.cli import app

runner = CliRunner()


def test_create_admin(db, events):
    result = runner.invoke(
        app,
        ["users", "create-admin", "--username", "Root.Admin", "--full-name", "Ruth Admin"],
        env={"GALENIC_ADMIN_PASSWORD": "Correct-horse-42"},
    )
    assert result.exit_code == 0, result.output
    assert "Created administrator root.admin" in result.output
    assert User.objects.get(username="root.admin").role_codes() == {"admin"}
    (event,) = events("accounts.user.create")
    assert event["source"] == "cli"
    assert event["actor"] == ""


def test_create_admin_refuses_weak_password(db):
    result = runner.invoke(
        app,
        ["users", "create-admin", "--username", "root", "--full-name", "Ruth"],
        env={"GALENIC_ADMIN_PASSWORD": "short"},
    )
    assert result.exit_code == 1
    assert "password" in result.output
    assert not User.objects.exists()


def test_list(personas):
    services.deactivate_user(actor=personas["admin"], user=personas["supervisor"], reason="left")
    result = runner.invoke(app, ["users", "list"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].split() == ["USER", "ID", "PRINTED", "NAME", "ROLES", "STATUS"]
    assert any(line.startswith("olivia") and line.endswith("active") for line in lines)
    result = runner.invoke(app, ["users", "list", "--status", "deactivated"])
    assert [line.split()[0] for line in result.output.splitlines()[1:]] == ["sam"]


def test_11_300_d_unlock_from_the_command_line(personas, lockout_3, events):
    for _ in range(3):
        with pytest.raises(Exception):  # noqa: B017 - wrong password, then locked
            services.check_login(user_id="olivia", password="wrong-wrong")
    result = runner.invoke(app, ["users", "unlock", "OLIVIA"])
    assert result.exit_code != 0  # --reason is required
    result = runner.invoke(app, ["users", "unlock", "OLIVIA", "--reason", "identity confirmed"])
    assert result.exit_code == 0, result.output
    assert not User.objects.get(username="olivia").is_locked
    (event,) = events("accounts.user.unlock")
    assert event["source"] == "cli"
    assert event["reason"] == "identity confirmed"
    result = runner.invoke(app, ["users", "unlock", "nobody", "--reason", "x"])
    assert result.exit_code == 1
    assert "no user" in result.output
