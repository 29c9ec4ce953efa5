"""Check the audit trail and name the first bad event.

What is checked, in one streaming pass over the table (raw cursor, no ORM objects):
- sequence: gap-free from #1 (a deleted row leaves a gap; a moved row breaks the next check);
- content: each row's hash recomputed from its own columns (an edited or reordered row fails);
- link: each row's prev_hash is the hash of the row before (an inserted row breaks the link);
- seal: HMAC of each hash under the key outside the database (a forged row whose chain was
  recomputed after it fails here, at exactly that row);
- checkpoints: every signed checkpoint in AUDIT_CHECKPOINT_DIR must match the hash at its seq,
  and the table must reach the latest one (a cut-off tail or a database restored from an older
  copy ends before it);
- guard: the append-only triggers are in place and enabled.

The payload of each row is assembled by the database (concatenation with the separator), so
Python only hashes one string per row; that keeps a million events well under ten seconds.
"""

from __future__ import annotations

import hashlib
import hmac
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from galenic.audit import checkpoints as cp
from galenic.audit.chain import GENESIS, PAYLOAD_SEPARATORS, SEP
from galenic.audit.db.triggers import PG_FUNCTION, PG_TRIGGERS, SQLITE_TRIGGERS, TABLE

_TEXT_COLUMNS = (
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
)


@dataclass(frozen=True)
class Problem:
    seq: int | None  # the event concerned; None for problems not tied to one event
    kind: str  # missing | content | link | seal | separator | checkpoint | guard | order
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass
class VerifyResult:
    checked: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS
    seals_checked: bool = False
    checkpoints_checked: int = 0
    latest_checkpoint: cp.Checkpoint | None = None
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    notes: list[str] = field(default_factory=list)
    verified_at: datetime | None = None

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    @property
    def first_bad_seq(self) -> int | None:
        seqs = [p.seq for p in self.problems if p.seq is not None]
        return min(seqs) if seqs else None

    @property
    def first_problem(self) -> Problem | None:
        with_seq = [p for p in self.problems if p.seq is not None]
        if with_seq:
            return min(with_seq, key=lambda p: p.seq or 0)
        return self.problems[0] if self.problems else None

    @property
    def problem(self) -> str:
        first = self.first_problem
        return first.message if first else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "seals_checked": self.seals_checked,
            "checkpoints_checked": self.checkpoints_checked,
            "first_bad_seq": self.first_bad_seq,
            "problem_count": self.problem_count,
            "problems": [
                {"seq": p.seq, "kind": p.kind, "message": p.message} for p in self.problems
            ],
            "notes": self.notes,
        }


class _Collector:
    def __init__(self, result: VerifyResult, limit: int) -> None:
        self.result = result
        self.limit = limit

    def add(self, seq: int | None, kind: str, message: str) -> None:
        self.result.problem_count += 1
        if len(self.result.problems) < self.limit:
            self.result.problems.append(Problem(seq, kind, message))


def payload_sql(vendor: str) -> str:
    """SELECT of (seq, hashed payload text, prev_hash, hash, seal), ordered by seq."""
    if vendor == "postgresql":
        sep = "chr(31)"
        parts = [
            "seq::text",
            "to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')",
            "coalesce(actor_id::text, '')",
            *_TEXT_COLUMNS,
        ]
    else:
        sep = "char(31)"
        # Django keeps SQLite datetimes as naive UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]".
        parts = [
            "CAST(seq AS TEXT)",
            "replace(occurred_at, ' ', 'T') || "
            "CASE WHEN instr(occurred_at, '.') > 0 THEN '' ELSE '.000000' END || 'Z'",
            "coalesce(CAST(actor_id AS TEXT), '')",
            *_TEXT_COLUMNS,
        ]
    text = f" || {sep} || ".join(f"({p})" for p in parts)
    return f"SELECT seq, {text}, prev_hash, hash, seal FROM {TABLE} ORDER BY seq"  # noqa: S608


def _check_guard(connection: BaseDatabaseWrapper, problems: _Collector) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s",
                [TABLE],
            )
            found = dict(cursor.fetchall())
            for name, sql in SQLITE_TRIGGERS.items():
                if name not in found:
                    problems.add(None, "guard", f"append-only trigger {name} is missing")
                elif " ".join(found[name].split()) != " ".join(sql.split()):
                    problems.add(None, "guard", f"append-only trigger {name} was altered")
        elif connection.vendor == "postgresql":
            cursor.execute(
                "SELECT tgname, tgenabled FROM pg_trigger "
                "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                [TABLE],
            )
            states = dict(cursor.fetchall())
            for name in PG_TRIGGERS:
                state = states.get(name)
                if state is None:
                    problems.add(None, "guard", f"append-only trigger {name} is missing")
                elif state not in ("O", "A"):
                    problems.add(
                        None, "guard", f"append-only trigger {name} is disabled (state {state})"
                    )
            cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = %s", [PG_FUNCTION])
            row = cursor.fetchone()
            if row is None or "RAISE EXCEPTION" not in row[0]:
                problems.add(None, "guard", f"trigger function {PG_FUNCTION}() was altered")


def _load_checkpoints(
    directory: Path,
    keys: cp.AuditKeys | None,
    problems: _Collector,
    result: VerifyResult,
) -> list[cp.Checkpoint]:
    data = cp.read_all(directory)
    for line, why in data.unreadable:
        problems.add(None, "checkpoint", f"checkpoint file line {line} is unreadable: {why}")
    if not data.checkpoints:
        return []
    public = keys.public if keys else cp.load_public_key(directory)
    if public is None:
        problems.add(None, "checkpoint", "no public key to check the checkpoint signatures")
        return []
    fingerprint = keys.fingerprint if keys else cp._fingerprint(public)
    valid = []
    for checkpoint in data.checkpoints:
        if checkpoint.key != fingerprint:
            problems.add(
                None,
                "checkpoint",
                f"checkpoint line {checkpoint.line} is signed by an unknown key {checkpoint.key}",
            )
        elif not cp.signature_valid(checkpoint, public):
            problems.add(
                None,
                "checkpoint",
                f"checkpoint line {checkpoint.line} has a bad signature (the file was altered)",
            )
        else:
            valid.append(checkpoint)
    result.checkpoints_checked = len(valid)
    return valid


def verify_chain(
    *,
    alias: str = "default",
    keys: cp.AuditKeys | None = None,
    check_seals: bool = True,
    checkpoint_dir: Path | None = None,
    max_problems: int = 100,
    batch_size: int = 20_000,
) -> VerifyResult:
    """Verify the whole trail. ``keys`` default to the configured key file (never created here);
    with ``check_seals=False`` only the public key (from the checkpoint directory) is needed."""
    connection = connections[alias]
    directory = Path(checkpoint_dir or settings.AUDIT_CHECKPOINT_DIR)
    result = VerifyResult()
    problems = _Collector(result, max_problems)
    if keys is None and check_seals:
        try:
            keys = cp.load_keys(Path(settings.AUDIT_SIGNING_KEY_FILE), create=False)
        except cp.CheckpointError:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT 1 FROM {TABLE} LIMIT 1")  # noqa: S608
                if cursor.fetchone() is not None:
                    raise
            # An empty trail was never sealed: there is nothing a key could check.
    result.seals_checked = check_seals

    _check_guard(connection, problems)
    checkpoints = _load_checkpoints(directory, keys, problems, result)
    by_seq: dict[int, list[cp.Checkpoint]] = {}
    for checkpoint in checkpoints:
        by_seq.setdefault(checkpoint.seq, []).append(checkpoint)
    legacy_upto = max((c.seq for c in checkpoints if c.kind == "legacy-unsealed"), default=0)
    matched_upto = 0  # highest checkpointed seq whose hash matched

    seal_key = keys.seal_key if (keys and check_seals) else b""
    sha256 = hashlib.sha256
    hmac_digest: Any = hmac.digest
    with suppress(ImportError):  # the C function behind hmac.digest, without its wrapper
        from _hashlib import hmac_digest
    compare = hmac.compare_digest
    expected = 1
    prev = GENESIS
    after_gap = False
    first_hash = ""
    checked = 0

    def rows() -> Any:
        # On PostgreSQL a server-side cursor streams the table instead of loading it at once.
        if connection.vendor == "postgresql":
            cursor = connection.chunked_cursor()
        else:
            cursor = connection.cursor()
        try:
            cursor.execute(payload_sql(connection.vendor))
            while chunk := cursor.fetchmany(batch_size):
                yield from chunk
        finally:
            cursor.close()

    if connection.vendor == "postgresql":
        context: Any = transaction.atomic(using=alias)  # named cursors live in a transaction
    else:
        context = nullcontext()  # an atomic block would take SQLite's write lock
    with context:
        for seq, text, prev_hash, stored_hash, stored_seal in rows():
            checked += 1
            if seq != expected:
                if seq > expected:
                    span = f"#{expected}" if seq == expected + 1 else f"#{expected}..#{seq - 1}"
                    problems.add(
                        expected,
                        "missing",
                        f"event {span} is missing (deleted): the trail jumps to #{seq}",
                    )
                    after_gap = True
                else:  # cannot happen with seq as primary key, but never trust that
                    problems.add(seq, "order", f"event #{seq} appears out of order")
            if prev_hash != prev and not after_gap:
                problems.add(
                    seq,
                    "link",
                    f"event #{seq} does not link to the event before it "
                    "(an event was inserted, removed or moved here)",
                )
            if text.count(SEP) != PAYLOAD_SEPARATORS:
                problems.add(
                    seq, "separator", f"event #{seq} has a field with a forbidden separator"
                )
            if sha256((prev_hash + text).encode()).hexdigest() != stored_hash:
                problems.add(
                    seq,
                    "content",
                    f"event #{seq} was changed: its content no longer matches its hash",
                )
            elif seal_key:
                if stored_seal:
                    expected_seal = hmac_digest(seal_key, stored_hash.encode(), "sha256").hex()
                    if not compare(expected_seal, stored_seal):
                        problems.add(
                            seq,
                            "seal",
                            f"event #{seq} is forged: its seal does not match (the row was "
                            "written or re-hashed outside Galenic)",
                        )
                elif seq > legacy_upto:
                    problems.add(seq, "seal", f"event #{seq} is forged: it has no seal")
            if seq in by_seq:
                for checkpoint in by_seq[seq]:
                    if checkpoint.head == stored_hash:
                        matched_upto = max(matched_upto, seq)
                    else:
                        problems.add(
                            matched_upto + 1,
                            "checkpoint",
                            f"history was rewritten between #{matched_upto + 1} and #{seq}: "
                            f"event #{seq} no longer has the hash signed in the checkpoint of "
                            f"{checkpoint.at} (line {checkpoint.line})",
                        )
            if seq == 1:
                first_hash = stored_hash
            prev = stored_hash
            if seq >= expected:
                expected = seq + 1
            after_gap = False
    result.checked = checked
    result.head_seq = expected - 1
    result.head_hash = prev

    for checkpoint in checkpoints:
        if first_hash and checkpoint.chain != first_hash:
            problems.add(
                None,
                "checkpoint",
                f"checkpoint line {checkpoint.line} belongs to another audit trail "
                f"(its event #1 hash is {checkpoint.chain[:16]}…; this one's is {first_hash[:16]}…)",
            )
    latest = max(checkpoints, key=lambda c: c.seq, default=None)
    result.latest_checkpoint = latest
    if latest is not None and latest.seq > result.head_seq:
        problems.add(
            result.head_seq + 1,
            "missing",
            f"events #{result.head_seq + 1}..#{latest.seq} are missing: the signed checkpoint of "
            f"{latest.at} records event #{latest.seq}, but the trail ends at #{result.head_seq} "
            "(its tail was cut off, or the database was restored from an older copy)",
        )
    if latest is None:
        result.notes.append(
            "no signed checkpoint yet: a cut-off tail cannot be detected until one is written "
            "(galenic audit checkpoint)"
        )
    elif latest.seq < result.head_seq:
        newer = (
            f"#{result.head_seq}"
            if latest.seq + 1 == result.head_seq
            else f"#{latest.seq + 1}..#{result.head_seq}"
        )
        result.notes.append(f"events {newer} are newer than the latest checkpoint")
    if not check_seals:
        result.notes.append("seals not checked (no sealing key)")
    return result


def run_verification(viewer: Any) -> VerifyResult:
    """Verify on behalf of a user (UI, API): needs ``audit.verify``; a missing key is a Conflict
    the user can read, not a crash."""
    from galenic.accounts.permissions import require
    from galenic.core.errors import Conflict
    from galenic.core.timefmt import utcnow

    require(viewer, "audit.verify")
    try:
        result = verify_chain()
    except cp.CheckpointError as exc:
        raise Conflict(f"The trail cannot be verified here: {exc}.", field="key") from None
    result.verified_at = utcnow()
    return result
