"""Load: two app servers on one PostgreSQL, 50 operators executing batches at once.

    python bench/bench_load.py [--quick] [--duration S] [--operators N] [--servers N]
                               [--workers N] [--think S] [--report FILE]

A scratch PostgreSQL database is created (GALENIC_BENCH_POSTGRES_URL, else
GALENIC_TEST_POSTGRES_URL, default postgres://postgres@127.0.0.1:5432/test; only 127.0.0.1) and
dropped afterwards. Two ``galenic serve`` instances (gunicorn, --workers each) share it and one
data directory (audit key, checkpoints). Simulated operators (threads, one keep-alive HTTP
connection and one session each) log in, open their batch a few times (warm-up, not timed: each
worker process loads the unit registry and a batch's flow once), and then, all starting together,
work through batches for --duration seconds: two
operators per batch, both entering every value of the current step (1 in 10 an alert excursion,
1 in 50 an action excursion with its comment) and then signing it (perform, password entered),
with an exponential think time (mean --think s) before every call. Partners race on purpose: the
loser of a value gets 409 "already recorded", the loser of a signature 409 "already complete".
Operator i talks to server i mod --servers. A probe thread calls GET /healthz on the servers in
turn (the trivial endpoint: its latency at the same moments is the reference). Password checks
use cheap Argon2 parameters, as in the tests (the figure is about the batch record, not the
password hash).

Afterwards, with the servers stopped, it checks: every response was 2xx or an intended 409;
``galenic audit verify`` passes and the audit ``seq`` has no gap (no fork); every acknowledged
(201) entry is stored once, with its value, and has exactly one audit event; nothing was stored
that was not acknowledged; every acknowledged signature is stored once. It prints

    BENCH load_record_p50 <ms> ms ref=<healthz p50> ratio=<> target=3
    BENCH load_record_p99 <ms> ms ref=<healthz p99> ratio=<> target=3
    BENCH load_record_p99_budget <ms> ms ref=100 ratio=<> target=1

and exits 1 if any check failed. --report writes every figure and check as JSON (the test reads
it). --quick: 30 s. The soak: GALENIC_SOAK=1 pytest tests/reliability/test_load_two_servers.py,
or this script with e.g. --duration 600.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_execution import (  # noqa: E402
    CHEAP_ARGON2,
    PASSWORD,
    Session,
    percentile,
    start_server,
    stop_server,
)

PARAMS = 5  # values per step


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 s (the test's bounded run)")
    parser.add_argument("--duration", type=float, default=0, help="seconds of load (default 120)")
    parser.add_argument("--operators", type=int, default=50)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers per server")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time (s)")
    parser.add_argument("--report", default="", help="write the results as JSON here")
    args = parser.parse_args(argv)
    if not args.duration:
        args.duration = 30.0 if args.quick else 120.0
    if args.operators < 2 or args.servers < 1:
        parser.error("needs at least 2 operators and 1 server")
    return args


# --- the database --------------------------------------------------------------------------------


def admin_url() -> str:
    return (
        os.environ.get("GALENIC_BENCH_POSTGRES_URL")
        or os.environ.get("GALENIC_TEST_POSTGRES_URL")
        or "postgres://postgres@127.0.0.1:5432/test"
    )


def _admin_connect() -> Any:
    import psycopg

    from galenic.env import parse_database_url

    admin = parse_database_url("GALENIC_BENCH_POSTGRES_URL", admin_url())
    if admin.host not in ("127.0.0.1", "localhost", "::1", None, ""):
        raise SystemExit(f"the load test runs against a local PostgreSQL only, not {admin.host}")
    return admin, psycopg.connect(
        dbname=admin.name,
        user=admin.user,
        password=admin.password,
        host=admin.host,
        port=admin.port or None,
        connect_timeout=3,
        autocommit=True,
    )


def postgres_problem() -> str:
    """Why PostgreSQL cannot be used ('' when it can)."""
    try:
        _, conn = _admin_connect()
        conn.close()
    except SystemExit:
        raise
    except Exception as exc:
        return str(exc).strip() or type(exc).__name__
    return ""


def create_database(name: str) -> str:
    admin, conn = _admin_connect()
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    auth = admin.user + (f":{admin.password}" if admin.password else "")
    return f"postgres://{auth}@{admin.host or '127.0.0.1'}:{admin.port or 5432}/{name}"


def drop_database(name: str) -> None:
    _, conn = _admin_connect()
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- the scene -----------------------------------------------------------------------------------


def load_document(steps: int) -> Any:
    """The paracetamol demo's header with ``steps`` in-process checks of PARAMS values each."""
    import galenic.recipes
    from galenic.recipes.document import io, parse, require_valid

    demo = Path(galenic.recipes.__file__).parent / "demo" / "paracetamol-500-tablets.yaml"
    data = io.to_data(io.load_yaml(demo.read_text()))
    data["code"] = "MBR-LOAD"
    data["unit_procedures"] = [
        {
            "key": "compression",
            "title": "Compression",
            "theoretical_output": "300000 tablet",
            "operations": [
                {
                    "key": "ipc",
                    "title": "In-process checks",
                    "steps": [
                        {
                            "key": f"s{i:04d}",
                            "title": f"In-process check {i + 1}",
                            "instructions": "Weigh tablets one by one and record each weight.",
                            "parameters": [
                                {
                                    "key": f"w{j}",
                                    "name": f"Tablet weight {j + 1}",
                                    "unit": "mg",
                                    "target": 600,
                                    "alert_low": 582,
                                    "alert_high": 618,
                                    "action_low": 570,
                                    "action_high": 630,
                                    "precision": 1,
                                }
                                for j in range(PARAMS)
                            ],
                        }
                        for i in range(steps)
                    ]
                    + [
                        {
                            "key": "count",
                            "title": "Count",
                            "instructions": "Count the good tablets.",
                            "parameters": [{"key": "good_tablets", "unit": "tablet"}],
                            "sampling": {"description": "20 tablets for QC"},
                        }
                    ],
                }
            ],
        }
    ]
    data["theoretical_yield"]["actual"] = "count.good_tablets"
    return require_valid(parse(data))


def set_up(url: str, data_dir: Path, operators: int, steps: int) -> list[str]:
    """Migrate, create the people, the effective master record and one running batch per pair
    of operators (through the services, as a supervisor would). Returns the batch numbers."""
    os.environ["GALENIC_DATABASE_URL"] = url
    os.environ["GALENIC_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    os.environ.setdefault("GALENIC_LOG_LEVEL", "WARNING")
    for key, value in CHEAP_ARGON2.items():
        os.environ.setdefault(key, value)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)

    from bench_execution import make_effective, make_people
    from galenic.core.context import action_context
    from galenic.execution import services
    from galenic.signatures import services as signatures

    people = make_people(operators)
    make_effective(load_document(steps), people["petra"])
    sam = people["sam"]
    numbers = []
    with action_context("system"):
        for pair in range((operators + 1) // 2):
            number = f"LOAD-{pair:03d}"
            services.create_batch(actor=sam, mbr="MBR-LOAD", number=number)
            authority = signatures.authenticate_signer(
                session=None, actor=sam, user_id="sam", password=PASSWORD
            )
            services.release_to_floor(actor=sam, number=number, authority=authority)
            services.start_batch(actor=people[f"op{2 * pair:02d}"], number=number)
            numbers.append(number)
    from django.db import connections

    connections.close_all()
    return numbers


# --- servers ------------------------------------------------------------------------------------


# --- operators ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    record_ms: list[float] = field(default_factory=list)
    perform_ms: list[float] = field(default_factory=list)
    acked_entries: dict[int, dict[str, Any]] = field(default_factory=dict)
    acked_performs: list[tuple[str, str]] = field(default_factory=list)
    conflicts: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    steps_done: int = 0
    calls: list[tuple[float, float, str, int]] = field(default_factory=list)  # at, ms, what, status


def _conflict_kind(body: bytes) -> str:
    try:
        message = str(json.loads(body).get("message", ""))
    except ValueError:
        return "unreadable 409"
    for kind in ("already recorded", "already complete", "same moment"):
        if kind in message:
            return kind
    return message[:80]


class Clock:
    """When the load starts and stops: set once every operator is logged in and warm, before
    any of them is released (the barrier's action)."""

    def __init__(self, parties: int, duration: float) -> None:
        self.duration = duration
        self.start_at = self.stop_at = 0.0
        self.ready = threading.Barrier(parties, action=self._set)

    def _set(self) -> None:
        self.start_at = time.time() + 0.5
        self.stop_at = self.start_at + self.duration


def operator(index: int, port: int, number: str, clock: Clock, think: float) -> Outcome:
    """Log in, open the batch (not timed), then work through its steps in order until the time
    is up."""
    from bench_execution import value_for

    out = Outcome()
    rng = random.Random(index)
    username = f"op{index:02d}"
    try:
        client = Session(port)
        client.login(username)
        # Warm-up, as in bench_execution: a worker's first request of a batch reads its master
        # record and loads the unit registry once per process (seconds on a busy machine).
        for _ in range(3):
            client.request("GET", f"/api/v1/batches/{number}/steps/s0000")
            client.request("GET", "/healthz")
    except Exception as exc:
        out.errors.append(f"{username} login: {exc!r}")
        return out
    finally:
        clock.ready.wait(timeout=600)
    while time.time() < clock.start_at:
        time.sleep(0.005)
    stop_at = clock.stop_at
    serial = index * 100_000
    step = 0

    def pause() -> bool:
        time.sleep(min(rng.expovariate(1 / think) if think else 0, max(0.0, stop_at - time.time())))
        return time.time() < stop_at

    def call(path: str, data: Any, times: list[float]) -> tuple[int, bytes] | None:
        t0 = time.perf_counter()
        try:
            status, body = client.post_json(path, data)
        except Exception as exc:  # a dropped connection is an error, not a conflict
            out.errors.append(f"{username} POST {path}: {exc!r}")
            return None
        ms = (time.perf_counter() - t0) * 1000
        times.append(ms)
        out.calls.append((time.time(), ms, f"{username} {path.rsplit('/', 1)[-1]}", status))
        return status, body

    while pause():
        key = f"s{step:04d}"
        moved_on = False
        for j in range(PARAMS):
            value, comment = value_for(serial)
            serial += 1
            got = call(
                f"/api/v1/batches/{number}/steps/{key}/values",
                {"key": f"w{j}", "value": value, "comment": comment},
                out.record_ms,
            )
            if got is None:
                return out
            status, body = got
            if status == 201:
                [entry] = json.loads(body)["entries"]
                out.acked_entries[int(entry["id"])] = {
                    "batch": number,
                    "step": key,
                    "key": entry["key"],
                    "raw": entry["raw_value"],
                    "by": username,
                }
            elif status == 409:
                kind = _conflict_kind(body)
                out.conflicts[kind] += 1
                if kind == "already complete":  # the partner signed the step meanwhile
                    moved_on = True
                    break
            else:
                out.errors.append(f"{username} record {key}.w{j}: {status} {body[:300]!r}")
                return out
            if not pause():
                return out
        if not moved_on:
            got = call(
                f"/api/v1/batches/{number}/steps/{key}/perform",
                {"user_id": username, "password": PASSWORD},
                out.perform_ms,
            )
            if got is None:
                return out
            status, body = got
            if status == 200:
                out.acked_performs.append((number, key))
            elif status == 409:
                out.conflicts[_conflict_kind(body)] += 1
            else:
                out.errors.append(f"{username} perform {key}: {status} {body[:300]!r}")
                return out
        out.steps_done += 1
        step += 1
    return out


def probe(ports: list[int], stop_at: float, times: list[float], errors: list[str]) -> None:
    """GET /healthz on each server in turn, ten times a second: the trivial endpoint."""
    clients = [Session(port) for port in ports]
    i = 0
    while time.time() < stop_at:
        client = clients[i % len(clients)]
        i += 1
        t0 = time.perf_counter()
        try:
            status, _ = client.request("GET", "/healthz")
        except Exception as exc:
            errors.append(f"healthz: {exc!r}")
            continue
        times.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            errors.append(f"healthz: {status}")
        time.sleep(0.1)


# --- checks after the run ----------------------------------------------------------------------


def checks(url: str, data_dir: Path, numbers: list[str], outcomes: list[Outcome]) -> dict[str, Any]:
    """What must hold afterwards; each check names what it found."""
    from django.db import connection

    from galenic.audit.models import AuditEvent
    from galenic.execution.models import Entry, EntryKind, StepExecution
    from galenic.signatures.models import Signature

    found: dict[str, Any] = {}
    env = {**os.environ, "GALENIC_DATABASE_URL": url, "GALENIC_DATA_DIR": str(data_dir)}
    verify = subprocess.run(
        [sys.executable, "-m", "galenic", "audit", "verify"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    found["audit_verify"] = {
        "ok": verify.returncode == 0,
        "exit": verify.returncode,
        "output": (verify.stdout + verify.stderr).strip()[-1000:],
    }
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), COALESCE(MIN(seq), 0), COALESCE(MAX(seq), 0) FROM audit_auditevent"
        )
        count, low, high = cursor.fetchone()
    found["audit_seq"] = {
        "ok": count == high and (count == 0 or low == 1),
        "events": count,
        "min": low,
        "max": high,
    }

    acked: dict[int, dict[str, Any]] = {}
    for o in outcomes:
        acked.update(o.acked_entries)
    stored = {
        e.pk: e
        for e in Entry.objects.filter(
            batch__number__in=numbers, kind=EntryKind.PARAMETER
        ).select_related("step", "batch", "recorded_by")
    }
    missing = sorted(set(acked) - set(stored))
    unacknowledged = sorted(set(stored) - set(acked))
    mismatched = sorted(
        pk
        for pk, want in acked.items()
        if pk in stored
        and (
            stored[pk].batch.number,
            stored[pk].step.step_key,
            stored[pk].key,
            stored[pk].raw_value,
            stored[pk].recorded_by.username,
        )
        != (want["batch"], want["step"], want["key"], want["raw"], want["by"])
    )
    duplicates = sorted(
        f"{b} {s} {k}"
        for (b, s, k), n in Counter(
            (e.batch.number, e.step_id, e.key) for e in stored.values() if e.supersedes_id is None
        ).items()
        if n > 1
    )
    events = Counter(
        AuditEvent.objects.filter(
            action="execution.entry.record", object_id__in=[str(pk) for pk in acked]
        ).values_list("object_id", flat=True)
    )
    not_once = sorted(pk for pk in acked if events.get(str(pk)) != 1)
    found["entries"] = {
        "ok": not (missing or unacknowledged or mismatched or duplicates or not_once),
        "acknowledged": len(acked),
        "stored": len(stored),
        "missing": missing[:20],
        "stored_unacknowledged": unacknowledged[:20],
        "different": mismatched[:20],
        "duplicates": duplicates[:20],
        "audit_not_once": not_once[:20],
    }

    performed = [p for o in outcomes for p in o.acked_performs]
    steps = {
        (s.batch.number, s.step_key): s
        for s in StepExecution.objects.filter(batch__number__in=numbers).select_related("batch")
    }
    signatures = Counter(
        Signature.objects.filter(
            object_type="execution.stepexecution", meaning="performed"
        ).values_list("object_id", flat=True)
    )
    twice = [p for p, n in Counter(performed).items() if n > 1]
    unsigned = [
        f"{b} {k}"
        for b, k in performed
        if (b, k) not in steps or signatures.get(str(steps[(b, k)].pk)) != 1
    ]
    extra = sum(signatures.values()) - len(set(performed))
    found["signatures"] = {
        "ok": not twice and not unsigned and extra == 0,
        "acknowledged": len(performed),
        "acknowledged_twice": [f"{b} {k}" for b, k in twice][:20],
        "not_stored_once": unsigned[:20],
        "stored_unacknowledged": extra,
    }
    return found


# --- main ---------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    problem = postgres_problem()
    if problem:
        return {"ok": False, "unavailable": f"PostgreSQL at {admin_url()}: {problem}"}
    name = f"galenic_load_{os.getpid()}"
    data_dir = Path(tempfile.mkdtemp(prefix="galenic-load-"))
    url = create_database(name)
    servers: list[Any] = []
    try:
        # Enough steps that no pair finishes its batch: a step takes PARAMS + 1 calls.
        steps = int(args.duration / max(args.think, 0.05) / (PARAMS + 1)) + 20
        numbers = set_up(url, data_dir, args.operators, steps)
        ports = []
        for i in range(args.servers):
            server, port = start_server(url, data_dir, args.workers, data_dir / f"server-{i}.log")
            servers.append(server)
            ports.append(port)
        clock = Clock(args.operators + 1, args.duration)
        outcomes: list[Outcome] = [Outcome() for _ in range(args.operators)]
        probe_ms: list[float] = []
        probe_errors: list[str] = []

        def run_operator(i: int) -> None:
            outcomes[i] = operator(i, ports[i % len(ports)], numbers[i // 2], clock, args.think)

        threads = [
            threading.Thread(target=run_operator, args=(i,), daemon=True)
            for i in range(args.operators)
        ]
        for t in threads:
            t.start()
        clock.ready.wait(timeout=600)  # everyone logged in and warm
        start = clock.start_at
        prober = threading.Thread(
            target=probe, args=(ports, clock.stop_at, probe_ms, probe_errors), daemon=True
        )
        prober.start()
        threads.append(prober)
        for t in threads:
            t.join(timeout=args.duration + 180)
        hung = sum(t.is_alive() for t in threads)
        for server in servers:
            stop_server(server)
        logs = {p.name: _problems(p.read_text()) for p in sorted(data_dir.glob("server-*.log"))}
        logs = {name: text for name, text in logs.items() if text}
        found = checks(url, data_dir, numbers, outcomes)
    finally:
        for server in servers:
            stop_server(server)
        from django.db import connections

        connections.close_all()
        drop_database(name)
        shutil.rmtree(data_dir, ignore_errors=True)

    record = [ms for o in outcomes for ms in o.record_ms]
    perform = [ms for o in outcomes for ms in o.perform_ms]
    errors = [e for o in outcomes for e in o.errors] + probe_errors
    if hung:
        errors.append(f"{hung} operator threads did not finish")
    conflicts: Counter[str] = Counter()
    for o in outcomes:
        conflicts.update(o.conflicts)
    found["errors"] = {"ok": not errors, "count": len(errors), "first": errors[:10]}
    idle = [i for i, o in enumerate(outcomes) if not o.calls]
    found["every_operator_worked"] = {"ok": not idle, "idle": idle[:20]}
    found["server_logs"] = {"ok": not logs, "with_errors": logs}
    report = {
        "ok": all(c["ok"] for c in found.values()),
        "settings": {
            "operators": args.operators,
            "servers": args.servers,
            "workers_per_server": args.workers,
            "duration_s": args.duration,
            "think_s": args.think,
            "batches": len(numbers),
        },
        "requests": len(record) + len(perform),
        "record_calls": len(record),
        "perform_calls": len(perform),
        "entries_per_s": found["entries"]["acknowledged"] / args.duration,
        "steps_signed": found["signatures"]["acknowledged"],
        "conflicts_409": dict(conflicts),
        "record_ms": _summary(record),
        "perform_ms": _summary(perform),
        "healthz_ms": _summary(probe_ms),
        "slowest": [
            {"at_s": round(at - start, 2), "ms": round(ms, 1), "call": what, "status": status}
            for at, ms, what, status in sorted(
                (c for o in outcomes for c in o.calls), key=lambda c: -c[1]
            )[:15]
        ],
        "checks": found,
    }
    return report


def _problems(log: str) -> str:
    """The first few tracebacks and error lines of a server log ('' when there are none)."""
    found = []
    for marker in ("Traceback", "ERROR", "CRITICAL"):
        at = log.find(marker)
        while at >= 0 and len(found) < 3:
            found.append(log[max(0, at - 200) : at + 3000])
            at = log.find(marker, at + 3000)
    return "\n...\n".join(found)


def _summary(values: list[float]) -> dict[str, float]:
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "mean": round(statistics.mean(values), 2),
        "p50": round(percentile(values, 0.50), 2),
        "p99": round(percentile(values, 0.99), 2),
        "max": round(max(values), 2),
    }


def main() -> None:
    args = parse_args()
    report = run(args)
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2, default=str))
    if "unavailable" in report:
        # There is no load figure without PostgreSQL; a failure only where it is required.
        required = "postgres" in os.environ.get("GALENIC_REQUIRE", "").split(",")
        print(f"# load: skipped, {report['unavailable']}", file=sys.stderr)
        sys.exit(1 if required else 0)
    r, h = report["record_ms"], report["healthz_ms"]
    print(
        f"# load: {report['settings']['operators']} operators on {report['settings']['servers']} "
        f"servers x {report['settings']['workers_per_server']} workers, "
        f"{report['settings']['duration_s']:.0f} s: {report['record_calls']} values "
        f"({report['entries_per_s']:.1f} stored/s), {report['perform_calls']} signings "
        f"(p50 {report['perform_ms'].get('p50')} ms, p99 {report['perform_ms'].get('p99')} ms); "
        f"409 conflicts {report['conflicts_409']}; checks "
        + ", ".join(f"{k} {'ok' if v['ok'] else 'FAILED'}" for k, v in report["checks"].items())
    )
    for name, q in (("p50", "p50"), ("p99", "p99")):
        value, ref = r.get(q, float("nan")), h.get(q, float("nan"))
        print(
            f"BENCH load_record_{name} {value:.2f} ms ref={ref:.2f} "
            f"ratio={value / ref if ref else float('inf'):.2f} target=3"
        )
    p99 = r.get("p99", float("nan"))
    print(f"BENCH load_record_p99_budget {p99:.2f} ms ref=100.00 ratio={p99 / 100:.2f} target=1")
    if not report["ok"]:
        failed = {k: v for k, v in report["checks"].items() if not v["ok"]}
        print(f"# load checks FAILED: {json.dumps(failed, default=str)[:3000]}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
