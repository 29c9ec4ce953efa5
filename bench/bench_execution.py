"""Batch execution benchmarks.

    python bench/bench_execution.py [--quick] [--engine both|sqlite|postgresql] [--profile]
                                    [--part all|service|http|floor]

1. execution_entries_<engine>: step entries per second through the services on a scratch
   database (SQLite file; PostgreSQL database created and dropped, GALENIC_BENCH_POSTGRES_URL,
   default postgres://postgres@127.0.0.1:5432/test). Each entry is one ``record_value`` call, as
   the API makes it: permission checked, the open step and its batch read, value parsed and
   converted, limits evaluated, exceptions and deviations raised where the value is out of limits
   (1 in 10 values is an alert excursion, 1 in 50 an action excursion with its comment), the step
   row claimed (conditional UPDATE: still open, batch still running) and bumped, the entry
   inserted, its audit event chained, all in one committed transaction. Every 10 entries the step
   is performed and signed (``perform_step``: batch and step locked, entries read, calculations
   evaluated and stored, signature content hashed from the rows as stored, signature and audit
   events written, flow advanced, next step opened: one transaction); that time counts too. The
   signer's password check (Argon2id, done by the view before the service, once per signed step,
   never per entry) is outside the timed part, and so is a first step (warm-up: a process reads
   the unit registry and compiles a batch's flow once). --profile: where the service's time goes
   (pyinstrument, on stderr; the reference's replay shows as its own branch).
   The reference writes *the same rows* (copied from the service run: entries, audit events,
   signatures, exceptions, deviations, step executions; and each row update the service made,
   setting the same columns to the values stored) with plain INSERT/UPDATE into copies of the
   tables (same columns and indexes; no foreign-key checks, no triggers), one transaction per
   service call as the service commits them, with the same durability (PostgreSQL
   synchronous_commit as configured, normally on; SQLite WAL + synchronous=FULL).
   Service and reference alternate step by step (a step's 11 service calls, then their 11
   reference transactions), so both see the same load on a shared machine and the same state of
   the database files (SQLite's WAL is first grown, later reused; commits cost less then).
   What the reference does not do is what the service must: read before writing (the open step,
   the chain head under its lock), check, hash, sign. Target: ratio >= 0.5. Measured on the
   shared 2-core machine (2026-12-06): 0.25-0.35 on SQLite (1.3-1.6 ms per value and 4.3-5.4 ms
   per signed step against 0.35-0.63 ms per raw transaction) and 0.33-0.37 on PostgreSQL
   (2.1-3.0 ms and 7.0-9.1 ms against 0.93-1.30 ms), up to 0.54 when the machine was slow (raw
   transactions of 2.3 ms: round trips cost more there). fsync is cheap here: a raw SQLite
   transaction is about the cost of the service's COMMIT alone (both write the same ~18 pages
   per value), and a raw PostgreSQL one is mostly its round trips, so the ratio measures the
   service's Python and reads against bare INSERTs. It rises when commits cost more.

   The floor (in every run, and alone with --part floor): the same run with each value recorded
   by ``BareRecord`` instead of the service: the reads, writes and hashing the reference cannot
   skip, as plain DB-API statements, with no checks, no model instances and no flagging (its
   values are in range). Printed as a comment, not a figure. On the same machine it reached
   0.47-0.58 on SQLite for the values alone, 0.33-0.43 with the service's perform and sign: on
   SQLite the target sits at the floor of doing the work in Python at all here, out of reach of
   a service that checks. On PostgreSQL 0.51-0.69 and 0.42-0.59, rising with the round trips'
   cost.

2. execution_record_http_p50/p99: latency of the operator's record-value call
   (POST /api/v1/batches/<n>/steps/<step>/values) with 20 simulated operators at once against
   ``galenic serve`` (several gunicorn workers) on PostgreSQL when reachable, else SQLite. Each
   operator has a session and a batch of their own, enters a value, waits (think time, exponential,
   mean --think seconds), calls GET /healthz (the trivial endpoint, same client, same session
   cookie, same moment of the run), waits again, and signs the step after every 10 values (not
   timed). Targets: p99 < 100 ms, and within 3x the trivial endpoint.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

PARAMS_PER_STEP = 10
OPERATORS = 20
PASSWORD = "Bench-password-42"
CHEAP_ARGON2 = {
    "GALENIC_ARGON2_MEMORY_KIB": "1024",
    "GALENIC_ARGON2_TIME_COST": "1",
    "GALENIC_ARGON2_PARALLELISM": "1",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI smoke runs")
    parser.add_argument("--engine", choices=["both", "sqlite", "postgresql"], default="both")
    parser.add_argument("--part", choices=["all", "service", "http", "floor"], default="all")
    parser.add_argument("--steps", type=int, default=0, help="steps per batch (service figure)")
    parser.add_argument("--requests", type=int, default=0, help="record calls per operator")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--think", type=float, default=0.2, help="mean think time (s)")
    parser.add_argument("--profile", action="store_true", help="profile the service figure")
    parser.add_argument("--child", default="", help=argparse.SUPPRESS)
    return parser.parse_args()


def bench_line(name: str, value: float, unit: str, ref: float, target: str) -> None:
    ratio = value / ref if ref else float("inf")
    print(f"BENCH {name} {value:.2f} {unit} ref={ref:.2f} ratio={ratio:.2f} target={target}")
    sys.stdout.flush()


# --- databases -----------------------------------------------------------------------------------


def postgres_admin_url() -> str:
    return os.environ.get("GALENIC_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def _admin() -> Any:
    from galenic.env import parse_database_url

    return parse_database_url("GALENIC_BENCH_POSTGRES_URL", postgres_admin_url())


def prepare_postgres(name: str) -> str | None:
    try:
        import psycopg

        admin = _admin()
        with psycopg.connect(
            dbname=admin.name,
            user=admin.user,
            password=admin.password,
            host=admin.host,
            port=admin.port or None,
            connect_timeout=3,
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"# PostgreSQL unavailable ({exc})", file=sys.stderr)
        return None
    auth = admin.user + (f":{admin.password}" if admin.password else "")
    return f"postgres://{auth}@{admin.host or '127.0.0.1'}:{admin.port or 5432}/{name}"


def drop_postgres(name: str) -> None:
    import psycopg

    admin = _admin()
    with psycopg.connect(
        dbname=admin.name,
        user=admin.user,
        password=admin.password,
        host=admin.host,
        port=admin.port or None,
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_url(engine: str, data_dir: Path, name: str) -> str | None:
    if engine == "postgresql":
        return prepare_postgres(name)
    return f"sqlite:///{data_dir / 'bench.sqlite3'}"


def setup_django(url: str, data_dir: Path) -> None:
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


# --- the scene: people, a master record, batches ----------------------------------------------


def bench_document(steps: int) -> Any:
    """The paracetamol demo's header with ``steps`` generated steps of 10 numeric values each."""
    import galenic.recipes
    from galenic.recipes.document import io, parse, require_valid

    demo = Path(galenic.recipes.__file__).parent / "demo" / "paracetamol-500-tablets.yaml"
    data = io.to_data(io.load_yaml(demo.read_text()))
    generated = [
        {
            "key": f"s{i:04d}",
            "title": f"In-process check {i + 1}",
            "instructions": "Weigh ten tablets one by one and record each weight.",
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
                for j in range(PARAMS_PER_STEP)
            ]
            + [
                {
                    "key": "mean_weight",
                    "name": "Mean weight",
                    "unit": "mg",
                    "source": "calculated",
                    "expression": "("
                    + " + ".join(f"s{i:04d}.w{j}" for j in range(PARAMS_PER_STEP))
                    + ") / 10",
                    "action_low": 582,
                    "action_high": 618,
                }
            ],
        }
        for i in range(steps)
    ]
    generated.append(
        {
            "key": "count",
            "title": "Count",
            "instructions": "Count the good tablets.",
            "parameters": [{"key": "good_tablets", "unit": "tablet"}],
            "sampling": {"description": "20 tablets for QC"},
        }
    )
    data["code"] = "MBR-BENCH"
    data["unit_procedures"] = [
        {
            "key": "compression",
            "title": "Compression",
            "theoretical_output": "300000 tablet",
            "operations": [{"key": "ipc", "title": "In-process checks", "steps": generated}],
        }
    ]
    data["theoretical_yield"]["actual"] = "count.good_tablets"
    return require_valid(parse(data))


def make_people(operators: int) -> dict[str, Any]:
    from galenic.accounts import services
    from galenic.signatures import services as signatures

    people: dict[str, Any] = {}
    for name, roles in [("sam", ["supervisor"]), ("petra", ["process_engineer"])] + [
        (f"op{i:02d}", ["operator"]) for i in range(operators)
    ]:
        user = services.create_user(
            actor=None, username=name, full_name=name.capitalize(), password=PASSWORD, roles=roles
        )
        people[name] = user
        if name != "petra":
            authority = signatures.authenticate_signer(
                session=None, actor=user, user_id=name, password=PASSWORD
            )
            signatures.acknowledge_policy(actor=user, authority=authority)
    return people


def make_effective(doc: Any, author: Any) -> None:
    from galenic.core.timefmt import utcnow
    from galenic.recipes.document import io
    from galenic.recipes.models import MasterRecord, MasterRecordVersion, VersionStatus

    now = utcnow()
    master = MasterRecord.objects.create(
        code=doc.code, name=doc.title, created_at=now, created_by=author
    )
    # Stand-in for the MBR lifecycle (review, approval): the benchmark is about execution.
    MasterRecordVersion.objects.create(
        master=master,
        version=1,
        status=VersionStatus.EFFECTIVE,
        document_json=io.dump_json(doc),
        content_hash=io.content_hash(doc),
        created_at=now,
        created_by=author,
        updated_at=now,
        effective_at=now,
    )


def start_batch(number: str, people: dict[str, Any], operator: Any) -> None:
    from galenic.execution import services
    from galenic.signatures import services as signatures

    sam = people["sam"]
    services.create_batch(actor=sam, mbr="MBR-BENCH", number=number)
    authority = signatures.authenticate_signer(
        session=None, actor=sam, user_id="sam", password=PASSWORD
    )
    services.release_to_floor(actor=sam, number=number, authority=authority)
    services.start_batch(actor=operator, number=number)


def value_for(i: int) -> tuple[str, str]:
    """Mostly in range, 1 in 10 an alert, 1 in 50 an action excursion (with a comment)."""
    if i % 50 == 49:
        return "634.2", "operator informed the supervisor; press stopped and adjusted"
    if i % 10 == 9:
        return "0.6205 g", ""
    return f"{600 + (i % 7) - 3}.{i % 10}", ""


# --- figure 1: entries per second through the services vs raw inserts ---------------------------

TABLES = [
    "execution_batch",
    "execution_stepexecution",
    "execution_entry",
    "execution_batchexception",
    "quality_deviation",
    "signatures_signature",
    "audit_auditevent",
]


# The columns each service statement that updates a row sets (the reference sets the same ones,
# to the values stored: an indexed column rewritten costs index pages, on both engines).
CLAIM = ("status", "started_at", "started_by_id", "row_version")
PERFORM = (
    "status",
    "performed_at",
    "performed_by_id",
    "started_at",
    "started_by_id",
    "row_version",
)
COMPLETE_BATCH = ("completions", "row_version")
COMPLETE_STEP = ("status", "completed_at", "completion_seq", "flow_values", "row_version")


def _max_ids() -> dict[str, int]:
    from django.db import connection

    found = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            key = "seq" if table == "audit_auditevent" else "id"
            cursor.execute(f"SELECT COALESCE(MAX({key}), 0) FROM {table}")
            found[table] = int(cursor.fetchone()[0])
    return found


def service_figure(engine: str, steps: int, profile: bool, *, floor: bool = False) -> None:
    from galenic.core.context import action_context
    from galenic.execution import services
    from galenic.execution.models import Batch
    from galenic.signatures import services as signatures

    people = make_people(1)
    make_effective(bench_document(steps + 1), people["petra"])
    operator = people["op00"]
    with action_context("system"):
        start_batch("BENCH-1", people, operator)
    batch_id = Batch.objects.get(number="BENCH-1").pk
    serial = 0
    bare = BareRecord(operator) if floor else None

    def one_step(s: int) -> tuple[list[dict[str, Any]], float, float]:
        """The step's 10 entries and its signing: the calls' rows, seconds in all, in perform."""
        nonlocal serial
        key = f"s{s:04d}"
        calls: list[dict[str, Any]] = []  # per service call: rows written, rows updated
        spent = 0.0
        for j in range(PARAMS_PER_STEP):
            value, comment = value_for(serial)
            serial += 1
            before = _max_ids()
            with action_context("api"):
                if bare is not None and s > 0:
                    in_range = f"{600 + serial % 7 - 3}.{serial % 10}"  # nothing to flag
                    t0 = time.perf_counter()
                    step_id = bare.record(key, f"w{j}", in_range)
                    spent += time.perf_counter() - t0
                else:
                    t0 = time.perf_counter()
                    entry = services.record_value(
                        actor=operator,
                        number="BENCH-1",
                        step_key=key,
                        key=f"w{j}",
                        value=value,
                        comment=comment,
                    )
                    spent += time.perf_counter() - t0
                    step_id = entry.step_id
            calls.append(
                {"before": before, "after": _max_ids(), "updates": [("step", step_id, CLAIM)]}
            )
        # The signer's password is checked by the view before the service (not timed).
        authority = signatures.authenticate_signer(
            session=None, actor=operator, user_id="op00", password=PASSWORD
        )
        before = _max_ids()
        with action_context("api"):
            t0 = time.perf_counter()
            performed = services.perform_step(
                actor=operator, number="BENCH-1", step_key=key, authority=authority
            )
            took = time.perf_counter() - t0
        calls.append(
            {
                "before": before,
                "after": _max_ids(),
                "updates": [
                    ("step", performed.pk, PERFORM),
                    ("batch", batch_id, COMPLETE_BATCH),
                    ("step", performed.pk, COMPLETE_STEP),
                ],
            }
        )
        return calls, spent + took, took

    # Warm-up, not timed: a process reads the unit registry and compiles a batch's flow once.
    one_step(0)
    raw = RawReplay(_max_ids())
    elapsed = raw_elapsed = performing = 0.0
    entries = transactions = 0
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler()
        profiler.start()
    raw_performing = 0.0
    for s in range(1, steps + 1):
        calls, spent, took = one_step(s)
        elapsed += spent
        performing += took
        entries += PARAMS_PER_STEP
        # The reference writes the same rows right after, so both see the same machine load
        # and the same state of the database files (e.g. SQLite's WAL being grown or reused).
        raw_recording = raw.replay(calls[:-1])
        raw_perform = raw.replay(calls[-1:])
        raw_elapsed += raw_recording + raw_perform
        raw_performing += raw_perform
        transactions += len(calls)
    if profiler is not None:
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False), file=sys.stderr)
    raw.close()
    if bare is not None:
        from galenic.audit.verify import verify_chain

        # The bare path did the work: the product's verifier accepts the chain it extended.
        checked = verify_chain()
        if not checked.ok:
            sys.exit(f"floor: the audit chain does not verify: {checked.as_dict()}")
        recording, raw_recording = elapsed - performing, raw_elapsed - raw_performing
        print(
            f"# floor on {engine}: a bare record path (the same reads, writes and hashing; no "
            f"checks, no model instances) {recording / entries * 1000:.2f} ms per value against "
            f"{raw_recording / entries * 1000:.2f} ms per raw transaction: ratio "
            f"{raw_recording / recording:.2f} for the values alone; with the service's perform "
            f"and sign ({performing / steps * 1000:.2f} ms per step against "
            f"{raw_performing / steps * 1000:.2f} ms raw) {raw_elapsed / elapsed:.2f}"
        )
        return
    print(
        f"# {engine}: {entries} entries in {steps} signed steps: service {elapsed:.2f} s, "
        f"raw {raw_elapsed:.2f} s; record {(elapsed - performing) / entries * 1000:.2f} ms per "
        f"value, perform and sign {performing / steps * 1000:.2f} ms per step; raw "
        f"{raw_elapsed / transactions * 1000:.2f} ms per transaction"
    )
    bench_line(
        f"execution_entries_{engine}", entries / elapsed, "entries/s", entries / raw_elapsed, "0.5"
    )


class BareRecord:
    """The floor (--part floor): what recording a value costs in Python with nothing but the
    work the reference cannot skip: the open step read, the value parsed and evaluated against
    its limits (the same rules), the step claimed, the entry inserted, the chain head read under
    its lock, the event hashed, sealed and inserted, committed. No permission, training or input
    checks, no flagging (its values are in range), no model instances, no Django layers: plain
    DB-API statements on the service's own connection. Not a figure of the product: it shows
    how much of the target ratio any Python service can reach on this machine."""

    def __init__(self, operator: Any) -> None:
        from django.db import connection

        from galenic.audit import chain
        from galenic.audit import services as audit
        from galenic.audit.models import AuditEvent
        from galenic.core.timefmt import utcnow
        from galenic.execution import selectors
        from galenic.execution import values as stored_values
        from galenic.execution.models import Entry, StepExecution

        # What the timed calls use, looked up once.
        self.chain, self.audit, self.utcnow = chain, audit, utcnow
        self.flow_of, self.capture = selectors.flow_of, stored_values.capture
        self.operator = operator
        self.seal_key = audit.audit_keys().seal_key
        self.connection = connection
        postgres = connection.vendor == "postgresql"
        mark = "%s" if postgres else "?"
        # Each column with what the row holds when the value does not set it.
        fields = [f for f in Entry._meta.concrete_fields if not f.primary_key]
        self.entry_defaults = [(f.column, None if f.null else "") for f in fields]
        self.insert_entry = (
            f"INSERT INTO {Entry._meta.db_table} ({', '.join(f.column for f in fields)}) VALUES "
            f"({', '.join([mark] * len(fields))}) RETURNING id"
        )
        self.insert_event = (
            f"INSERT INTO {AuditEvent._meta.db_table} ({', '.join(audit.COLUMNS)}) VALUES "
            f"({', '.join([mark] * len(audit.COLUMNS))})"
        )
        self.open_step = (
            f"SELECT s.id, s.batch_id, s.iteration, b.document_hash, b.batch_size "
            f"FROM {StepExecution._meta.db_table} s JOIN execution_batch b ON b.id = s.batch_id "
            f"WHERE b.number = {mark} AND s.step_key = {mark} "
            "AND s.status IN ('available', 'in_progress') LIMIT 1"
        )
        self.claim = (
            f"UPDATE {StepExecution._meta.db_table} SET row_version = row_version + 1, "
            f"status = 'in_progress', started_at = COALESCE(started_at, {mark}), "
            f"started_by_id = COALESCE(started_by_id, {mark}) WHERE id = {mark} "
            "AND status IN ('available', 'in_progress') AND batch_id IN "
            "(SELECT id FROM execution_batch WHERE status = 'in_progress') RETURNING row_version"
        )
        # The chain head as the service reads it (on PostgreSQL with the lock).
        self.head = audit._PG_LOCK_AND_HEAD if postgres else audit._HEAD_SQL
        self.begin = "BEGIN" if postgres else "BEGIN IMMEDIATE"
        self.moment = StepExecution._meta.get_field("started_at")

    def record(self, step_key: str, key: str, value: str) -> int:
        chain, connection, user = self.chain, self.connection, self.operator
        connection.ensure_connection()
        cursor = connection.connection.cursor()
        cursor.execute(self.begin)
        step_id, batch_id, iteration, document_hash, size = cursor.execute(
            self.open_step, ("BENCH-1", step_key)
        ).fetchone()
        # The compiled flow, from the cache every process keeps (keyed by document and size).
        flow = self.flow_of(argparse.Namespace(document_hash=document_hash, batch_size=size))
        captured = self.capture(flow.step(step_key).parameter(key), value, None)
        evaluation = flow.evaluate(step_key, key, captured.value)
        now = self.utcnow()
        moment = self.moment.get_db_prep_value(now, connection)
        cursor.execute(self.claim, (moment, user.pk, step_id)).fetchone()
        stored = captured.stored
        outcome = evaluation.outcome.value
        given = {
            "batch_id": batch_id,
            "step_id": step_id,
            "kind": "parameter",
            "key": key,
            "recorded_at": moment,
            "recorded_by_id": user.pk,
            "source": "manual",
            "raw_value": captured.raw,
            "raw_unit": captured.raw_unit,
            "value_type": stored.type,
            "value": stored.text,
            "unit": stored.unit,
            "outcome": outcome,
            "severity": evaluation.severity.value,
            "evaluation": evaluation.message,
            "limit_name": evaluation.limit,
            "limit_value": evaluation.limit_value[:120],
            "late": False,
        }
        row = [given.get(column, default) for column, default in self.entry_defaults]
        entry_id = cursor.execute(self.insert_entry, row).fetchone()[0]
        new = chain.canonical_json(
            {
                "step": step_key,
                "iteration": iteration,
                "kind": "parameter",
                "key": key,
                "raw": captured.raw,
                "raw_unit": captured.raw_unit,
                "value": stored.text,
                "unit": stored.unit,
                "source": "manual",
                "instrument": "",
                "serial": "",
                "outcome": outcome,
                "observed_at": None,
                "supersedes": None,
            }
        )
        what = (user.username, user.full_name, "gmp", "execution.entry.record", "execution.entry")
        event = (
            *what,
            str(entry_id),
            f"{key} = {stored.text} {stored.unit}",
            "",
            new,
            "",
            "",
            "api",
        )
        seq, prev = self.audit._head_of(cursor.execute(self.head).fetchone())
        seq += 1
        digest = chain.hash_payload(
            prev, chain.SEP.join((str(seq), chain.format_ts(now), str(user.pk), *event))
        )
        sealed = chain.seal(self.seal_key, digest)
        cursor.execute(self.insert_event, (seq, moment, user.pk, *event, prev, digest, sealed))
        cursor.execute("COMMIT")
        return int(step_id)


def _columns(cursor: Any, table: str, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "ORDER BY ordinal_position",
            [table],
        )
        return [r[0] for r in cursor.fetchall()]
    cursor.execute(f"PRAGMA table_info({table})")
    return [r[1] for r in cursor.fetchall()]


def raw_connection() -> Any:
    from django.db import connection

    conf = connection.settings_dict
    if connection.vendor == "postgresql":
        import psycopg

        return psycopg.connect(
            dbname=conf["NAME"],
            user=conf["USER"],
            password=conf["PASSWORD"],
            host=conf["HOST"],
            port=conf["PORT"] or None,
        )
    import sqlite3

    raw = sqlite3.connect(conf["NAME"], isolation_level=None, timeout=60)
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("PRAGMA busy_timeout=60000")
    return raw


class RawReplay:
    """The reference: the rows the service wrote, written again call by call (one transaction
    per service call, same statements' worth of rows) into plain copies of the tables."""

    def __init__(self, existing: dict[str, int]) -> None:
        from django.db import connection

        self.vendor = vendor = connection.vendor
        mark = "%s" if vendor == "postgresql" else "?"
        self.conn = conn = raw_connection()
        cursor = self.cursor = conn.cursor()
        self.columns: dict[str, list[str]] = {}
        for table in TABLES:
            raw = f"raw_{table}"
            cursor.execute(f"DROP TABLE IF EXISTS {raw}")
            if vendor == "postgresql":
                cursor.execute(
                    f"CREATE TABLE {raw} (LIKE {table} INCLUDING DEFAULTS INCLUDING INDEXES)"
                )
            else:
                cursor.execute(
                    "SELECT type, sql FROM sqlite_master WHERE tbl_name = ? AND sql IS NOT NULL "
                    "AND type IN ('table', 'index') ORDER BY type DESC",
                    [table],
                )
                for kind, sql in cursor.fetchall():
                    if kind == "table":
                        sql = sql.replace(f'"{table}"', raw, 1)
                    else:  # CREATE [UNIQUE] INDEX "name" ON "table" (...): same index on the copy
                        sql = re.sub(
                            r'INDEX "([^"]+)" ON "[^"]+"',
                            rf'INDEX "raw_\1" ON "{raw}"',
                            sql,
                            count=1,
                        )
                    cursor.execute(sql)
            self.columns[table] = _columns(cursor, table, vendor)
        self.inserts = {
            table: f"INSERT INTO raw_{table} ({', '.join(self.columns[table])}) VALUES "
            f"({', '.join([mark] * len(self.columns[table]))})"
            for table in TABLES
        }
        # What existed before the first call is there before the reference starts too.
        for table in TABLES:
            cursor.executemany(self.inserts[table], self._rows(table, 0, existing[table]))
        conn.commit()
        self.mark = mark

    def _rows(self, table: str, after: int, upto: int) -> list[tuple[Any, ...]]:
        key = "seq" if table == "audit_auditevent" else "id"
        mark = "%s" if self.vendor == "postgresql" else "?"
        self.cursor.execute(
            f"SELECT {', '.join(self.columns[table])} FROM {table} "
            f"WHERE {key} > {mark} AND {key} <= {mark} ORDER BY {key}",
            [after, upto],
        )
        return [tuple(r) for r in self.cursor.fetchall()]

    def replay(self, calls: list[dict[str, Any]]) -> float:
        """Write the calls' rows again; returns the seconds it took (rows are read first)."""
        cursor = self.cursor
        rows = [
            {t: self._rows(t, call["before"][t], call["after"][t]) for t in TABLES}
            for call in calls
        ]
        tables = {"step": "execution_stepexecution", "batch": "execution_batch"}
        mark = self.mark
        updates = []
        for call in calls:
            statements = []
            for kind, pk, columns in call["updates"]:
                table = tables[kind]
                cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = {mark}", [pk])
                statements.append(
                    (
                        f"UPDATE raw_{table} SET {', '.join(f'{c} = {mark}' for c in columns)} "
                        f"WHERE id = {mark}",
                        [*cursor.fetchone(), pk],
                    )
                )
            updates.append(statements)
        self.conn.commit()  # end the reading transaction (psycopg) before the clock starts
        t0 = time.perf_counter()
        for new, statements in zip(rows, updates, strict=True):
            if self.vendor == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            for table in TABLES:
                if new[table]:
                    cursor.executemany(self.inserts[table], new[table])
            for sql, params in statements:
                cursor.execute(sql, params)
            if self.vendor == "sqlite":
                cursor.execute("COMMIT")
            else:
                self.conn.commit()
        return time.perf_counter() - t0

    def close(self) -> None:
        self.conn.close()


# --- figure 2: HTTP latency with 20 operators ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(url: str, data_dir: Path, workers: int, log: Path) -> tuple[Any, int]:
    port = free_port()
    env = {
        **os.environ,
        "GALENIC_DATABASE_URL": url,
        "GALENIC_DATA_DIR": str(data_dir),
        "GALENIC_LOG_LEVEL": "WARNING",
        **CHEAP_ARGON2,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "galenic",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        start_new_session=True,
    )
    deadline = time.time() + 90
    while True:
        try:
            status, _ = Session(port).request("GET", "/healthz")
            if status == 200:
                return server, port
        except OSError:
            pass
        if server.poll() is not None or time.time() > deadline:
            stop_server(server)
            raise RuntimeError(f"galenic serve did not start: {log.read_text()[-2000:]}")
        time.sleep(0.2)


def stop_server(server: Any) -> None:
    """Gunicorn's graceful stop: requests in flight finish, then the workers exit."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(timeout=10)


class Session:
    """A browser-like client: keeps the session and CSRF cookies, one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        head = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        head.update(headers or {})
        try:
            self.conn.request(method, path, body=body, headers=head)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            self.conn.request(method, path, body=body, headers=head)
            response = self.conn.getresponse()
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def login(self, username: str) -> None:
        self.request("GET", "/accounts/login/")
        form = urllib.parse.urlencode(
            {
                "username": username,
                "password": PASSWORD,
                "csrfmiddlewaretoken": self.cookies["csrftoken"],
            }
        ).encode()
        status, _ = self.request(
            "POST",
            "/accounts/login/",
            form,
            {"Content-Type": "application/x-www-form-urlencoded", "Referer": "http://127.0.0.1/"},
        )
        if status != 302:
            raise RuntimeError(f"login of {username} failed: {status}")

    def post_json(self, path: str, data: Any) -> tuple[int, bytes]:
        return self.request(
            "POST",
            path,
            json.dumps(data).encode(),
            {"Content-Type": "application/json", "X-CSRFToken": self.cookies["csrftoken"]},
        )


def operator_run(args: tuple[int, int, int, int, float, Any]) -> dict[str, Any]:
    """One simulated operator (a process of its own): log in, then work through the batch."""
    index, port, requests, steps, think, start_at = args
    rng = random.Random(index)
    client = Session(port)
    username = f"op{index:02d}"
    client.login(username)
    number = f"HTTP-{index:02d}"
    record, trivial, errors = [], [], []
    # Warm-up, not timed: the operator opens the batch (a worker's first request of a batch
    # reads its master record and builds the unit registry once per process).
    for _ in range(3):
        client.request("GET", f"/api/v1/batches/{number}/steps/s0000")
        client.request("GET", "/healthz")
    while time.time() < start_at:  # all operators start together
        time.sleep(0.005)
    done = 0
    for s in range(steps):
        key = f"s{s:04d}"
        for j in range(PARAMS_PER_STEP):
            if done >= requests:
                break
            value, comment = value_for(index * 1000 + done)
            time.sleep(rng.expovariate(1 / think) if think else 0)
            t0 = time.perf_counter()
            status, body = client.post_json(
                f"/api/v1/batches/{number}/steps/{key}/values",
                {"key": f"w{j}", "value": value, "comment": comment},
            )
            record.append(time.perf_counter() - t0)
            if status != 201:
                errors.append(f"record {status}: {body[:200]!r}")
            time.sleep(rng.expovariate(1 / think) if think else 0)
            t0 = time.perf_counter()
            status, body = client.request("GET", "/healthz")
            trivial.append(time.perf_counter() - t0)
            if status != 200:
                errors.append(f"healthz {status}")
            done += 1
        if done >= requests:
            break
        status, body = client.post_json(
            f"/api/v1/batches/{number}/steps/{key}/perform",
            {"user_id": username, "password": PASSWORD},
        )
        if status != 200:
            errors.append(f"perform {status}: {body[:200]!r}")
    return {"record": record, "trivial": trivial, "errors": errors}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def http_figure(
    engine: str, url: str, data_dir: Path, requests: int, workers: int, think: float
) -> None:
    from galenic.core.context import action_context

    steps = -(-requests // PARAMS_PER_STEP)
    people = make_people(OPERATORS)
    make_effective(bench_document(steps), people["petra"])
    with action_context("system"):
        for i in range(OPERATORS):
            start_batch(f"HTTP-{i:02d}", people, people[f"op{i:02d}"])
    from django.db import connections

    connections.close_all()
    server, port = start_server(url, data_dir, workers, data_dir / "serve.log")
    try:
        start_at = time.time() + 15.0
        context = multiprocessing.get_context("spawn")
        with context.Pool(OPERATORS) as pool:
            results = pool.map(
                operator_run,
                [(i, port, requests, steps, think, start_at) for i in range(OPERATORS)],
            )
    finally:
        stop_server(server)
    record = [x * 1000 for r in results for x in r["record"]]
    trivial = [x * 1000 for r in results for x in r["trivial"]]
    errors = [e for r in results for e in r["errors"]]
    if errors:
        print(f"# {len(errors)} errors, e.g. {errors[:3]}", file=sys.stderr)
    offered = len(record) / OPERATORS
    print(
        f"# http on {engine}, {workers} workers: {len(record)} record calls and {len(trivial)} "
        f"healthz calls from {OPERATORS} operators (think time mean {think} s; "
        f"{offered:.0f} calls each); record mean {statistics.mean(record):.1f} ms, "
        f"healthz mean {statistics.mean(trivial):.1f} ms; errors {len(errors)}"
    )
    p50, p99 = percentile(record, 0.50), percentile(record, 0.99)
    t50, t99 = percentile(trivial, 0.50), percentile(trivial, 0.99)
    bench_line("execution_record_http_p50", p50, "ms", t50, "3")
    bench_line("execution_record_http_p99", p99, "ms", t99, "3")
    bench_line("execution_record_http_p99_budget", p99, "ms", 100.0, "1")
    if errors:
        sys.exit(1)


# --- orchestration ---------------------------------------------------------------------------------


def child(args: argparse.Namespace) -> None:
    part, engine = args.child.split(":")
    data_dir = Path(tempfile.mkdtemp(prefix=f"galenic-bench-exec-{engine}-"))
    name = f"galenic_bench_execution_{part}"
    url = database_url(engine, data_dir, name)
    if url is None:
        return
    try:
        setup_django(url, data_dir)
        if part in ("service", "floor"):
            steps = args.steps or (5 if args.quick else 50)
            service_figure(engine, steps, args.profile, floor=part == "floor")
        else:
            http_figure(
                engine,
                url,
                data_dir,
                args.requests or (20 if args.quick else 100),
                args.workers,
                args.think,
            )
    finally:
        from django.db import connections

        connections.close_all()
        if engine == "postgresql":
            drop_postgres(name)


def main() -> None:
    args = parse_args()
    if args.child:
        child(args)
        return
    engines = ["sqlite", "postgresql"] if args.engine == "both" else [args.engine]
    if "postgresql" in engines and prepare_postgres("galenic_bench_execution_probe") is None:
        engines.remove("postgresql")
        print("# PostgreSQL unreachable: SQLite only", file=sys.stderr)
    elif "postgresql" in engines:
        drop_postgres("galenic_bench_execution_probe")
    jobs = []
    if args.part in ("all", "service"):
        jobs += [f"service:{e}" for e in engines]
    if args.part in ("all", "floor"):  # a comment line beside the figure, kept from rotting
        jobs += [f"floor:{e}" for e in engines]
    if args.part in ("all", "http"):
        jobs.append(f"http:{'postgresql' if 'postgresql' in engines else 'sqlite'}")
    failed = False
    for job in jobs:
        command = [sys.executable, __file__, "--child", job, *sys.argv[1:]]
        result = subprocess.run(command, check=False)
        failed = failed or result.returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
