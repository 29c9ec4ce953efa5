"""`galenic batch ...` runs a batch for scripting: each command acts as a person with a
password, refusals print the field and exit non-zero."""

from __future__ import annotations

import json

import pytest
from execution_helpers import effective_version
from typer.testing import CliRunner

from galenic.audit.models import AuditEvent
from galenic.cli import app
from galenic.execution.models import Batch, Entry
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

runner = CliRunner()
ENV = {"GALENIC_PASSWORD": PASSWORD}


def run(*args: str, user: str = "olivia", password: str = PASSWORD):
    return runner.invoke(app, ["batch", *args, "--user", user], env={"GALENIC_PASSWORD": password})


def test_a_batch_from_the_command_line(floor):
    effective_version(floor.personas["engineer"])
    assert run("create", "--number", "CLI-1", "--mbr", "MBR-LINE", user="sam").exit_code == 0
    assert run("release", "CLI-1", user="sam").exit_code == 0
    assert run("start", "CLI-1").exit_code == 0
    recorded = run("record", "CLI-1", "clearance", "room_clear=yes", "temperature=24.5 °C")
    assert recorded.exit_code == 0, recorded.output
    assert "temperature = 24.5 °C" in recorded.output
    assert "** ALERT **" in recorded.output
    assert run("complete-step", "CLI-1", "clearance").exit_code == 0
    weighed = run(
        "record", "CLI-1", "weigh", "material:API-L=500.1 g", "check_weight=0.5 g", "--json"
    )
    assert weighed.exit_code == 0, weighed.output
    assert [e["value"] for e in json.loads(weighed.output)] == ["500.1", "500"]
    assert run("complete-step", "CLI-1", "weigh").exit_code == 0
    assert run("verify", "CLI-1", "weigh", user="victor").exit_code == 0
    shown = runner.invoke(app, ["batch", "show", "CLI-1"])
    assert shown.exit_code == 0
    assert "Now: press" in shown.output
    listed = runner.invoke(app, ["batch", "exceptions", "CLI-1", "--json"])
    assert [x["kind"] for x in json.loads(listed.output)] == ["limit_excursion_alert"]
    events = AuditEvent.objects.filter(action="execution.entry.record")
    assert {e.source for e in events} == {"cli"}


def test_refusals_name_the_field_and_exit_non_zero(floor):
    floor.start()
    out_of_turn = run("record", "B001", "press", "force=12")
    assert out_of_turn.exit_code == 2
    assert "step:" in out_of_turn.output
    bad_unit = run("record", "B001", "clearance", "temperature=21 parsecs")
    assert bad_unit.exit_code == 1
    assert "value:" in bad_unit.output or "unit:" in bad_unit.output
    wrong_password = run("record", "B001", "clearance", "temperature=21", password="nope-nope")
    assert wrong_password.exit_code == 1
    assert "password:" in wrong_password.output
    not_allowed = run("hold", "B001", "--reason", "x")
    assert not_allowed.exit_code == 3
    assert not Entry.objects.exists()
    assert Batch.objects.get().status == "in_progress"
