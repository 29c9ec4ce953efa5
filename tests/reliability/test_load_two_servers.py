"""Load (issue 7): two ``galenic serve`` instances with several workers each on one PostgreSQL,
50 simulated operators executing batches at once for a bounded time (30 s here; the soak:
GALENIC_SOAK=1, GALENIC_SOAK_SECONDS, default 600). What must hold: no error but the intended
conflicts (409: two operators share each batch and race for its values and signatures), no
fork of the audit chain (``galenic audit verify`` passes, ``seq`` has no gap), every
acknowledged entry and signature stored exactly once and nothing stored unacknowledged. The
p50/p99 latency of the record-value call is printed (BENCH lines, as bench/bench_load.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from galenic.testing.support import service_unavailable

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_load.py"

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]


def test_two_servers_fifty_operators(tmp_path: Path, capsys: Any) -> None:
    sys.path.insert(0, str(BENCH.parent))
    import bench_load

    problem = bench_load.postgres_problem()
    if problem:
        service_unavailable("postgres", f"{bench_load.admin_url()}: {problem}")
    soak = os.environ.get("GALENIC_SOAK", "") == "1"
    duration = float(os.environ.get("GALENIC_SOAK_SECONDS", "600")) if soak else 30.0
    report = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, str(BENCH), "--duration", str(duration), "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=duration + 900,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    with capsys.disabled():  # the latency figures belong in the run's output
        print()
        print(
            "\n".join(line for line in done.stdout.splitlines() if line.startswith(("#", "BENCH")))
        )
    assert report.exists(), done.stderr[-3000:]
    data = json.loads(report.read_text())
    checks = data["checks"]
    assert checks["errors"]["ok"], checks["errors"]
    assert set(data["conflicts_409"]) <= {"already recorded", "already complete", "same moment"}
    assert checks["audit_verify"]["ok"], checks["audit_verify"]
    assert checks["audit_seq"]["ok"], checks["audit_seq"]
    assert checks["entries"]["ok"], checks["entries"]
    assert checks["signatures"]["ok"], checks["signatures"]
    assert checks["server_logs"]["ok"], checks["server_logs"]
    assert checks["every_operator_worked"]["ok"], checks["every_operator_worked"]
    # It was a load: every operator worked, values and signatures were stored, races happened.
    assert data["settings"]["operators"] == 50
    assert data["settings"]["servers"] == 2
    assert checks["entries"]["acknowledged"] > 50 * duration / 10
    assert checks["signatures"]["acknowledged"] > 0
    assert data["conflicts_409"].get("already recorded", 0) > 0
    assert data["record_ms"]["n"] > 0
    assert data["ok"]
    assert done.returncode == 0, done.stderr[-3000:]
