"""Two people acting on the same step at once, from two app processes on one PostgreSQL
database: one succeeds, the other gets a clear 409, nothing is half-written, and both attempts
are in the audit trail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from galenic.audit.models import AuditEvent
from galenic.execution.models import Entry, StepExecution, StepStatus
from galenic.signatures.models import Signature

WORKER = Path(__file__).with_name("concurrent_operator.py")

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def _env() -> dict[str, str]:
    conf = connection.settings_dict
    url = f"postgres://{conf['USER']}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"
    return {**os.environ, "GALENIC_DATABASE_URL": url, "PYTHONPATH": os.pathsep.join(sys.path)}


def _race(action: str, users: list[str], number: str, tmp_path: Path) -> list[dict]:
    go = tmp_path / f"go-{action}"
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), action, user, number, str(go)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in users
    ]
    time.sleep(1.5)  # both finish Django start-up (and the password check), then go together
    go.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    return results


def test_two_processes_record_the_same_value_one_wins(floor, tmp_path):
    assert connection.vendor == "postgresql"
    floor.start()
    results = _race("record", ["olivia", "victor"], floor.number, tmp_path)
    assert sorted(r["ok"] for r in results) == [False, True]
    [lost] = [r for r in results if not r["ok"]]
    assert lost["status"] == 409
    assert lost["field"] == "key"
    assert "already recorded" in lost["message"]
    assert Entry.objects.filter(key="temperature").count() == 1
    assert AuditEvent.objects.filter(action="execution.entry.record").count() == 1
    assert AuditEvent.objects.filter(action="execution.entry.record.refused").count() == 1
    assert StepExecution.objects.get(step_key="clearance").row_version == 2


def test_two_processes_complete_the_same_step_one_wins(floor, tmp_path):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21", user=floor.verifier)
    results = _race("perform", ["olivia", "victor"], floor.number, tmp_path)
    assert sorted(r["ok"] for r in results) == [False, True]
    [lost] = [r for r in results if not r["ok"]]
    assert lost["status"] == 409
    assert lost["field"] == "step"
    assert "already complete" in lost["message"]
    step = StepExecution.objects.get(step_key="clearance")
    assert step.status == StepStatus.COMPLETED
    assert step.completion_seq == 1
    # Exactly one performer signature and one completion; the next step opened once.
    signed = Signature.objects.filter(object_type="execution.stepexecution", meaning="performed")
    assert signed.count() == 1
    assert signed.get().signer_user_id in {"olivia", "victor"}
    assert AuditEvent.objects.filter(action="execution.step.perform").count() == 1
    assert AuditEvent.objects.filter(action="execution.step.perform.refused").count() == 1
    assert list(StepExecution.objects.values_list("step_key", flat=True).order_by("id")) == [
        "clearance",
        "weigh",
    ]
