"""The gateway's durable local outbox (store-and-forward, regulatory.md §6).

A reading is "received" only once it is committed here: SQLite in WAL mode with synchronous=FULL,
so a power cut after the commit keeps it. Only then is the MQTT message acknowledged to the broker.
Delivery takes the oldest rows (FIFO keeps each tag's order), and rows leave the outbox only after
the server has answered for them (accepted, duplicate or refused): at-least-once delivery, with the
server deduplicating on (source, tag, seq). Refused rows move to ``rejected`` with the reason, so
nothing disappears without a trace.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from galenic.gateway.readings import Reading, to_micros, utcnow, wire_text

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    tag TEXT NOT NULL,
    seq INTEGER NOT NULL,
    item TEXT NOT NULL,
    UNIQUE (source, tag, seq)
);
CREATE TABLE IF NOT EXISTS streams (
    source TEXT NOT NULL,
    tag TEXT NOT NULL,
    last_seq INTEGER NOT NULL,
    PRIMARY KEY (source, tag)
);
CREATE TABLE IF NOT EXISTS rejected (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    tag TEXT NOT NULL,
    seq INTEGER NOT NULL,
    item TEXT NOT NULL,
    reason TEXT NOT NULL,
    rejected_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class OutboxItem:
    id: int
    source: str
    tag: str
    seq: int
    text: str  # the wire form sent to the server, as stored (JSON)

    @property
    def item(self) -> dict[str, Any]:
        return dict(json.loads(self.text))


class Outbox:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by the event loop and the delivery thread, serialised by a lock.
        self._db = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, timeout=30
        )
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _bump(self, name: str, by: int) -> None:
        self._db.execute(
            "INSERT INTO counters(name, value) VALUES (?, ?) "
            "ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            (name, by),
        )

    def append(self, readings: Sequence[Reading]) -> int:
        """Commit readings durably (one transaction). Returns how many were new.

        A reading without a device sequence gets ``max(last + 1, now in µs)`` for its stream: strictly
        increasing, and still increasing if this file is ever lost and recreated.
        """
        if not readings:
            return 0
        now_us = to_micros(utcnow())
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last: dict[tuple[str, str], int] = {}
                rows = []
                for reading in readings:
                    seq = reading.seq
                    if seq is None:
                        key = (reading.source, reading.tag)
                        if key not in last:
                            row = self._db.execute(
                                "SELECT last_seq FROM streams WHERE source = ? AND tag = ?", key
                            ).fetchone()
                            last[key] = row[0] if row else 0
                        seq = max(last[key] + 1, now_us)
                        last[key] = seq
                    rows.append((reading.source, reading.tag, seq, wire_text(reading, seq)))
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT OR IGNORE INTO outbox(source, tag, seq, item) VALUES (?, ?, ?, ?)", rows
                )
                added = self._db.total_changes - before
                self._db.executemany(
                    "INSERT INTO streams(source, tag, last_seq) VALUES (?, ?, ?) "
                    "ON CONFLICT(source, tag) DO UPDATE SET last_seq = "
                    "max(last_seq, excluded.last_seq)",
                    [(s, t, q) for (s, t), q in last.items()],
                )
                self._bump("received", added)
                self._bump("duplicates_dropped", len(rows) - added)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return added

    def peek(self, limit: int) -> list[OutboxItem]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source, tag, seq, item FROM outbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
        return [OutboxItem(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def ack(self, items: Iterable[OutboxItem], rejected: dict[int, str] | None = None) -> None:
        """Remove answered items; ``rejected`` maps item id → the server's reason."""
        rejected = rejected or {}
        items = list(items)
        if not items:
            return
        now = utcnow().isoformat()
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO rejected(source, tag, seq, item, reason, rejected_at) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (i.source, i.tag, i.seq, i.text, rejected[i.id], now)
                        for i in items
                        if i.id in rejected
                    ],
                )
                ids = [i.id for i in items]
                if ids == list(range(ids[0], ids[0] + len(ids))):
                    # The usual case, a run of consecutive ids: one range delete.
                    self._db.execute(
                        "DELETE FROM outbox WHERE id BETWEEN ? AND ?", (ids[0], ids[-1])
                    )
                else:
                    self._db.executemany("DELETE FROM outbox WHERE id = ?", [(i,) for i in ids])
                self._bump("delivered", len(items) - len(rejected))
                self._bump("rejected", len(rejected))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM outbox").fetchone()[0])

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._db.execute("SELECT name, value FROM counters").fetchall())

    def rejected(self, limit: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT source, tag, seq, reason, rejected_at FROM rejected ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            {"source": r[0], "tag": r[1], "seq": r[2], "reason": r[3], "rejected_at": r[4]}
            for r in rows
        ]
