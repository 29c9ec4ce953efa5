"""The outbox keeps what it accepted across a kill -9 and hands it over once, in order."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from decimal import Decimal

from galenic.gateway.delivery import DeliveryFailed, DeliveryResult
from galenic.gateway.outbox import Outbox
from galenic.gateway.readings import Reading, utcnow
from galenic.gateway.runner import deliver_batch


def reading(n: int, seq: int | None = None, tag: str = "GRN-01.temp") -> Reading:
    return Reading(
        source="GRN-01", tag=tag, value=Decimal(n), unit="degC", received_at=utcnow(), seq=seq
    )


def test_wal_and_full_sync(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        assert box._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert box._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_assigned_sequences_strictly_increase_across_reopen(tmp_path):
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as box:
        box.append([reading(1), reading(2)])
        first = [i.seq for i in box.peek(10)]
    with Outbox(path) as box:
        box.append([reading(3)])
        seqs = [i.seq for i in box.peek(10)]
    assert seqs[:2] == first
    assert seqs == sorted(set(seqs))


def test_device_sequence_is_kept_and_redelivery_dropped(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        assert box.append([reading(1, seq=100), reading(2, seq=101)]) == 2
        assert box.append([reading(1, seq=100)]) == 0  # the broker redelivered it
        assert [i.seq for i in box.peek(10)] == [100, 101]
        assert box.counters()["duplicates_dropped"] == 1


class FakeServer:
    def __init__(self, fail: bool = False, reject: dict[int, str] | None = None) -> None:
        self.fail, self.reject, self.batches = fail, reject or {}, []

    def send(self, items):
        if self.fail:
            raise DeliveryFailed("server down")
        self.batches.append(items)
        return DeliveryResult(accepted=len(items) - len(self.reject), rejected=self.reject)

    def report_status(self, status):
        pass


def test_nothing_is_forgotten_until_the_server_answers(tmp_path):
    with Outbox(tmp_path / "o.sqlite3") as box:
        box.append([reading(n, seq=n) for n in range(5)])
        with contextlib.suppress(DeliveryFailed):
            deliver_batch(box, FakeServer(fail=True), 3)
        assert box.pending() == 5
        server = FakeServer(reject={1: "unit_mismatch"})
        assert deliver_batch(box, server, 3)[0] == 3
        assert [json.loads(i)["seq"] for i in server.batches[0]] == [0, 1, 2]  # oldest first
        assert box.pending() == 2
        assert box.rejected()[0]["seq"] == 1
        assert box.rejected()[0]["reason"] == "unit_mismatch"


WRITER = """
import sys, os
from decimal import Decimal
from galenic.gateway.outbox import Outbox
from galenic.gateway.readings import Reading, utcnow
box = Outbox(sys.argv[1])
for n in range(200):
    box.append([Reading(source="S", tag="S.t", value=Decimal(n), unit="u", received_at=utcnow(), seq=n)])
    print(n, flush=True)
    if n == 120:
        os.kill(os.getpid(), 9)  # power cut right after a commit returned
"""


def test_committed_readings_survive_kill_9(tmp_path):
    path = tmp_path / "o.sqlite3"
    proc = subprocess.run(
        [sys.executable, "-c", WRITER, str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == -signal.SIGKILL
    acknowledged = [int(line) for line in proc.stdout.split()]
    with Outbox(path) as box:
        stored = [i.seq for i in box.peek(1000)]
    assert stored == acknowledged == list(range(121))
    assert os.path.exists(path)
