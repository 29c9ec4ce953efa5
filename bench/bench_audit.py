"""Audit trail benchmarks: durable appends (1 and 32 writers) and verification.

    python bench/bench_audit.py [--quick] [--engine auto|postgresql|sqlite] [--per-transaction K]

Runs on PostgreSQL when reachable (GALENIC_BENCH_POSTGRES_URL, default
postgres://postgres@127.0.0.1:5432/test; a scratch database is created and dropped), else on a
scratch SQLite file. Each figure is printed beside a reference measured in the same run, on the
same database, with the same durability (PostgreSQL synchronous_commit as configured, normally
on; SQLite WAL + synchronous=FULL):

1. audit_append_durable: events/s through ``audit.services.record`` (one event per committed
   transaction, one writer) vs a raw loop of INSERT + COMMIT of the same rows into a plain table.
2. audit_append_32_writers: events/s with 32 writer processes through the real service (each
   transaction records K events; K=4 by default, see --per-transaction) vs the same 32 processes
   inserting the same rows in the same batches (one multi-row INSERT + COMMIT per transaction)
   into a plain table without a chain.
3. audit_verify: rows/s of ``verify_chain`` (hash, link, seal and checkpoint checks) vs a plain
   sequential scan (SELECT * streamed through a server-side cursor) of the same table; the time
   for the whole table is printed too (1,000,000 events; --quick: 50,000).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

WRITERS = 32
RAW_TABLE = "bench_raw_event"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI smoke runs")
    parser.add_argument("--engine", choices=["auto", "postgresql", "sqlite"], default="auto")
    parser.add_argument(
        "--per-transaction", type=int, default=4, help="events per transaction (32 writers)"
    )
    parser.add_argument("--verify-rows", type=int, default=0, help="rows for the verify figure")
    return parser.parse_args()


# --- database set-up ---------------------------------------------------------------------------


def postgres_admin_url() -> str:
    return os.environ.get("GALENIC_BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test")


def prepare_postgres(name: str) -> str | None:
    """Create a scratch database; return its URL, or None when PostgreSQL is unreachable."""
    try:
        import psycopg

        from galenic.env import parse_database_url

        admin = parse_database_url("GALENIC_BENCH_POSTGRES_URL", postgres_admin_url())
        with psycopg.connect(
            dbname=admin.name,
            user=admin.user,
            password=admin.password,
            host=admin.host,
            port=admin.port or None,
            connect_timeout=3,
            autocommit=True,
        ) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:
        print(f"# PostgreSQL unavailable ({exc}); using SQLite", file=sys.stderr)
        return None
    auth = admin.user + (f":{admin.password}" if admin.password else "")
    return f"postgres://{auth}@{admin.host or '127.0.0.1'}:{admin.port or 5432}/{name}"


def drop_postgres(name: str) -> None:
    import psycopg

    from galenic.env import parse_database_url

    admin = parse_database_url("GALENIC_BENCH_POSTGRES_URL", postgres_admin_url())
    with psycopg.connect(
        dbname=admin.name,
        user=admin.user,
        password=admin.password,
        host=admin.host,
        port=admin.port or None,
        autocommit=True,
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(url: str, data_dir: Path) -> None:
    os.environ["GALENIC_DATABASE_URL"] = url
    os.environ["GALENIC_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    os.environ.setdefault("GALENIC_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def raw_connection() -> Any:
    """A plain DB-API connection to the same database, with the same durability settings."""
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


def create_raw_table() -> None:
    """A plain copy of the audit table: same columns and indexes, no triggers, no chain."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {RAW_TABLE}")
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {RAW_TABLE} (LIKE audit_auditevent INCLUDING ALL)")
            return
        cursor.execute(
            "SELECT type, sql FROM sqlite_master WHERE tbl_name = 'audit_auditevent' "
            "AND type IN ('table', 'index') AND sql IS NOT NULL ORDER BY type DESC"
        )
        for kind, sql in cursor.fetchall():
            sql = sql.replace('"audit_auditevent"', RAW_TABLE).replace(
                "audit_auditevent", RAW_TABLE
            )
            if kind == "index":
                name = sql.split()[2].strip('"')
                sql = sql.replace(name, f"raw_{name}", 1)
            cursor.execute(sql)


def empty_audit_table() -> None:
    """Between figures: the owner's flush (lifts the append-only triggers for its statement)."""
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in connection.ops.sql_flush(_NoStyle(), ["audit_auditevent", RAW_TABLE]):
            cursor.execute(statement)
    from django.conf import settings

    for item in Path(settings.AUDIT_CHECKPOINT_DIR).glob("checkpoints.jsonl"):
        item.unlink()


class _NoStyle:
    def __getattr__(self, name: str) -> Any:
        return lambda text: text


# --- what each writer writes ------------------------------------------------------------------


def event_kwargs(writer: int, n: int) -> dict[str, Any]:
    return {
        "actor": None,
        "action": "execution.entry.record",
        "object_type": "execution.entry",
        "object_id": f"{writer}-{n}",
        "object_repr": f"Batch B-{writer:03d} step 4.2 pH entry {n}",
        "old": None,
        "new": {
            "value": "7.02",
            "unit": "pH",
            "low": "6.8",
            "high": "7.2",
            "source": "instrument PH-01",
        },
        "reason": "",
    }


RAW_COLUMNS = ", ".join(
    (
        "seq",
        "occurred_at",
        "actor_id",
        "actor_username",
        "actor_name",
        "category",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "old_values",
        "new_values",
        "reason",
        "request_id",
        "source",
        "prev_hash",
        "hash",
        "seal",
    )
)


def raw_row(vendor: str, writer: int, n: int) -> tuple[Any, ...]:
    """The row the service would write for (writer, n), with a unique seq and dummy hashes."""
    from galenic.audit.chain import canonical_json
    from galenic.core.timefmt import utcnow

    kw = event_kwargs(writer, n)
    now = utcnow()
    when: Any = now if vendor == "postgresql" else now.replace(tzinfo=None).isoformat(" ")
    return (
        writer * 10_000_000 + n + 1,
        when,
        None,
        "",
        "",
        "gmp",
        kw["action"],
        kw["object_type"],
        kw["object_id"],
        kw["object_repr"],
        "",
        canonical_json(kw["new"]),
        "",
        "0" * 32,
        "bench",
        "0" * 64,
        "0" * 64,
        "0" * 64,
    )


def raw_insert_sql(vendor: str, rows: int) -> str:
    mark = "%s" if vendor == "postgresql" else "?"
    one = "(" + ", ".join([mark] * 18) + ")"
    return f"INSERT INTO {RAW_TABLE} ({RAW_COLUMNS}) VALUES " + ", ".join([one] * rows)


def raw_commit_batch(raw: Any, vendor: str, rows: list[tuple[Any, ...]]) -> None:
    flat = [v for row in rows for v in row]
    if vendor == "postgresql":
        raw.execute(raw_insert_sql(vendor, len(rows)), flat)
        raw.commit()
    else:
        raw.execute("BEGIN IMMEDIATE")
        raw.execute(raw_insert_sql(vendor, len(rows)), flat)
        raw.execute("COMMIT")


# --- figure 1: one durable writer ---------------------------------------------------------------


def single_writer(n: int, rounds: int) -> tuple[float, float]:
    """Events/s of (service, raw), measured in alternating rounds of n events so that load on a
    shared machine hits both alike. One event per committed transaction in both."""
    from django.db import connection, transaction

    from galenic.audit import services as audit
    from galenic.core.context import action_context

    vendor = connection.vendor
    raw = raw_connection()
    spent = {"service": 0.0, "raw": 0.0}
    with action_context("bench"):
        for r in range(rounds):
            start = time.perf_counter()
            for i in range(n):
                with transaction.atomic():
                    audit.record(**event_kwargs(0, r * n + i))
            spent["service"] += time.perf_counter() - start
            rows = [raw_row(vendor, 0, r * n + i) for i in range(n)]
            start = time.perf_counter()
            for row in rows:
                raw_commit_batch(raw, vendor, [row])
            spent["raw"] += time.perf_counter() - start
    raw.close()
    return rounds * n / spent["service"], rounds * n / spent["raw"]


# --- figure 2: 32 writer processes -------------------------------------------------------------


def _writer(kind: str, writer: int, transactions: int, per_tx: int, barrier: Any, out: Any) -> None:
    from django.db import connections, transaction

    connections.close_all()  # never share the parent's socket after fork
    from galenic.audit import services as audit

    vendor = connections["default"].vendor
    raw = raw_connection() if kind == "raw" else None
    if kind == "service":
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")  # connect before the clock starts, as a pooled worker is
    batches = [
        [raw_row(vendor, writer, t * per_tx + k) for k in range(per_tx)]
        for t in range(transactions)
    ]
    barrier.wait()
    start = time.perf_counter()
    if raw is not None:
        for rows in batches:
            raw_commit_batch(raw, vendor, rows)
    else:
        for t in range(transactions):
            with transaction.atomic():
                for k in range(per_tx):
                    audit.record(**event_kwargs(writer, t * per_tx + k))
    out.put((start, time.perf_counter()))


def concurrent(kind: str, transactions: int, per_tx: int) -> float:
    from django.db import connections

    connections.close_all()
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(WRITERS)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(kind, w, transactions, per_tx, barrier, out))
        for w in range(WRITERS)
    ]
    for p in procs:
        p.start()
    spans = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        if p.exitcode != 0:
            raise SystemExit(f"writer failed with exit code {p.exitcode}")
    elapsed = max(end for _, end in spans) - min(start for start, _ in spans)
    return WRITERS * transactions * per_tx / elapsed


# --- figure 3: verification ---------------------------------------------------------------------


def fill_chain(rows: int) -> None:
    """Write ``rows`` valid, sealed events fast (COPY / executemany): the rows the service would
    write, chained and sealed by the same functions, without paying per-transaction costs."""
    from datetime import timedelta

    from django.db import connection

    from galenic.audit.chain import GENESIS, canonical_json, event_hash, format_ts, seal
    from galenic.audit.services import COLUMNS, audit_keys
    from galenic.core.timefmt import utcnow

    key = audit_keys().seal_key
    base = utcnow()
    prev = GENESIS
    vendor = connection.vendor
    raw = raw_connection()
    chunk: list[tuple[Any, ...]] = []

    def flush() -> None:
        if not chunk:
            return
        if vendor == "postgresql":
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY audit_auditevent ({', '.join(COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in chunk:
                    copy.write_row(row)
            raw.commit()
        else:
            raw.execute("BEGIN IMMEDIATE")
            raw.executemany(
                f"INSERT INTO audit_auditevent ({', '.join(COLUMNS)}) VALUES ({', '.join(['?'] * len(COLUMNS))})",
                chunk,
            )
            raw.execute("COMMIT")
        chunk.clear()

    for seq in range(1, rows + 1):
        when = base + timedelta(microseconds=seq * 37)
        kw = event_kwargs(seq % WRITERS, seq)
        new = canonical_json(kw["new"])
        fields = (
            str(seq),
            format_ts(when),
            "",
            "",
            "",
            "gmp",
            kw["action"],
            kw["object_type"],
            kw["object_id"],
            kw["object_repr"],
            "",
            new,
            "",
            "f" * 32,
            "bench",
        )
        digest = event_hash(prev, fields)
        stored_when: Any = (
            when if vendor == "postgresql" else when.replace(tzinfo=None).isoformat(" ")
        )
        chunk.append(
            (
                seq,
                stored_when,
                None,
                "",
                "",
                "gmp",
                kw["action"],
                kw["object_type"],
                kw["object_id"],
                kw["object_repr"],
                "",
                new,
                "",
                "f" * 32,
                "bench",
                prev,
                digest,
                seal(key, digest),
            )
        )
        prev = digest
        if len(chunk) >= 20_000:
            flush()
    flush()
    raw.close()


def scan_rows_per_s() -> tuple[float, int]:
    from django.db import connection, transaction

    count = 0
    start = time.perf_counter()
    if connection.vendor == "postgresql":
        with transaction.atomic():
            cursor = connection.chunked_cursor()
            cursor.execute("SELECT * FROM audit_auditevent")
            while chunk := cursor.fetchmany(20_000):
                count += len(chunk)
            cursor.close()
    else:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM audit_auditevent")
            while chunk := cursor.fetchmany(20_000):
                count += len(chunk)
    return count / (time.perf_counter() - start), count


def verify_rows_per_s() -> tuple[float, float, int]:
    from galenic.audit.verify import verify_chain

    start = time.perf_counter()
    result = verify_chain()
    elapsed = time.perf_counter() - start
    if not result.ok:
        raise SystemExit(f"verify failed on an intact chain: {result.problem}")
    return result.checked / elapsed, elapsed, result.checked


# --- main ---------------------------------------------------------------------------------------


def line(name: str, value: float, unit: str, ref: float, target: float) -> str:
    return f"BENCH {name} {value:.0f} {unit} ref={ref:.0f} ratio={value / ref:.2f} target={target}"


def main() -> None:
    args = parse_args()
    quick = args.quick
    data_dir = Path(tempfile.mkdtemp(prefix="galenic-bench-audit-"))
    db_name = f"galenic_bench_audit_{os.getpid()}"
    url = None
    if args.engine in ("auto", "postgresql"):
        url = prepare_postgres(db_name)
        if url is None and args.engine == "postgresql":
            raise SystemExit("PostgreSQL requested but unreachable")
    if url is None:
        url = f"sqlite:///{data_dir / 'bench.sqlite3'}"
    try:
        setup_django(url, data_dir)
        from django.db import connection

        engine = connection.vendor
        create_raw_table()

        # 1. one durable writer
        single_writer(50, 1)  # warm-up: key, caches, connections, prepared plans
        empty_audit_table()
        svc, ref = single_writer(50 if quick else 100, 10 if quick else 30)
        empty_audit_table()
        print(line(f"audit_append_durable_{engine}", svc, "events/s", ref, 0.6), flush=True)

        # 2. 32 writer processes
        per_tx = args.per_transaction
        transactions = (10 if quick else 100) if per_tx > 1 else (20 if quick else 200)
        svc32 = ref32 = 0.0
        for _ in range(1 if quick else 3):  # alternate, keep the best of each
            svc32 = max(svc32, concurrent("service", transactions, per_tx))
            empty_audit_table()
            ref32 = max(ref32, concurrent("raw", transactions, per_tx))
            empty_audit_table()
        print(
            line(
                f"audit_append_32_writers_{per_tx}_per_tx_{engine}", svc32, "events/s", ref32, 0.3
            ),
            flush=True,
        )

        # 3. verification
        rows = args.verify_rows or (50_000 if quick else 1_000_000)
        fill_chain(rows)
        scan, _ = scan_rows_per_s()  # also warms the cache for both
        scan = max(scan, scan_rows_per_s()[0])
        verify_rate, elapsed, checked = verify_rows_per_s()
        print(line(f"audit_verify_{engine}", verify_rate, "rows/s", scan, 0.5), flush=True)
        print(f"# audit verify: {checked} events in {elapsed:.2f} s (target for 1,000,000: < 10 s)")
    finally:
        from django.db import connections

        connections.close_all()
        if url.startswith("postgres"):
            drop_postgres(db_name)


if __name__ == "__main__":
    main()
