"""Several OS processes appending at once on PostgreSQL never fork or break the chain."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection

from galenic.audit import checkpoints as cp
from galenic.audit import services as audit
from galenic.audit.models import AuditEvent

WRITER = Path(__file__).with_name("concurrent_writer.py")
PER_PROCESS = 300


def _env(audit_files: dict[str, Path], user: str = "postgres") -> dict[str, str]:
    conf = connection.settings_dict
    url = f"postgres://{user}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"
    return {
        **os.environ,
        "GALENIC_DATABASE_URL": url,
        "GALENIC_AUDIT_KEY_FILE": str(audit_files["key"]),
        "GALENIC_AUDIT_CHECKPOINT_DIR": str(audit_files["checkpoints"]),
        "GALENIC_AUDIT_CHECKPOINT_EVERY": "100",
    }


@pytest.mark.postgres_only
def test_two_os_processes_appending_concurrently_keep_one_gap_free_chain(
    transactional_db, audit_files, tmp_path, verify
):
    assert connection.vendor == "postgresql"
    audit.audit_keys()  # create the key once, before the writers start
    go = tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, str(WRITER), name, str(PER_PROCESS), str(go)],
            env=_env(audit_files),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("alpha", "beta")
    ]
    # Release them together once both have started Django and connected (a fixed pause was
    # sometimes too short on a busy machine: one writer finished before the other began).
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"ready-{name}").exists() for name in ("alpha", "beta")):
        assert time.monotonic() < deadline, "the writers never got ready"
        assert all(w.poll() is None for w in writers), "a writer stopped before starting"
        time.sleep(0.01)
    go.touch()
    for writer in writers:
        _out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    total = 2 * PER_PROCESS
    assert list(AuditEvent.objects.values_list("seq", flat=True)) == list(range(1, total + 1))
    ids = set(AuditEvent.objects.values_list("object_id", flat=True))
    assert ids == {f"{n}-{i}" for n in ("alpha", "beta") for i in range(1, PER_PROCESS + 1)}
    # The writers really interleaved (otherwise this test would prove nothing).
    owners = [o.split("-")[0] for o in AuditEvent.objects.values_list("object_id", flat=True)]
    switches = sum(1 for a, b in itertools.pairwise(owners) if a != b)
    assert switches > 10
    result = verify()
    assert result.ok, result.problems
    assert result.head_seq == total
    # Both processes wrote checkpoints after commit; all are signed and match the chain.
    stored = cp.read_all(audit_files["checkpoints"]).checkpoints
    assert len(stored) >= 5
    assert result.checkpoints_checked == len(stored)
