"""Audit trail writer: the only code that appends events.

``record`` must run inside the caller's transaction, so an event and the change it describes
commit or vanish together (11.10(e)).

Appending takes the chain head under a lock that serialises appenders across processes
(pg_advisory_xact_lock on PostgreSQL; SQLite's write lock, taken at BEGIN IMMEDIATE), and that
lock is held until commit. To keep it short, ``record`` only *collects* the event; the
transaction's events are appended together just before it commits (see ``galenic.audit.db``),
under one lock acquisition, in one INSERT. Events recorded inside a savepoint that rolls back are
dropped with it. The event's ``seq``/``hash`` are filled in at that moment; pass
``immediate=True`` when the caller needs them at once.

After commit, every ``AUDIT_CHECKPOINT_EVERY`` events a signed checkpoint is written outside the
database (``transaction.on_commit``, never inside the lock).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from django.conf import settings
from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from galenic.accounts.permissions import require
from galenic.audit import checkpoints as cp
from galenic.audit.chain import GENESIS, SEP, canonical_json, format_ts, hash_payload, seal
from galenic.audit.models import AuditEvent
from galenic.core import context, idempotency
from galenic.core.errors import ValidationFailed
from galenic.core.rows import first_row, release, run
from galenic.core.timefmt import utcnow

log = logging.getLogger(__name__)

AUDIT_LOCK_KEY = 0x6A1E_A0D1  # advisory lock id for the chain head
TABLE = AuditEvent._meta.db_table
COLUMNS = (
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
_ROWS_PER_INSERT = 500  # 18 parameters a row stays far below SQLite's variable limit
_LIMITS = {"action": 100, "object_type": 100, "object_id": 64, "category": 16}


class AuditError(RuntimeError):
    pass


class AuditAppendError(DatabaseError):
    """Appending at commit failed for a reason outside the database; the transaction rolls back."""


# --- keys -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _keys_at(path: str) -> cp.AuditKeys:
    return cp.load_keys(Path(path), create=True)


def audit_keys() -> cp.AuditKeys:
    """The Ed25519 checkpoint key and the derived sealing key (created 0600 on first use)."""
    return _keys_at(str(settings.AUDIT_SIGNING_KEY_FILE))


# --- pending events (collected during the transaction, appended at commit) ---------------------


class PendingEvent:
    """An event waiting for its transaction to commit.

    It rides in ``connection.run_on_commit`` so Django's own savepoint bookkeeping drops it when
    the savepoint it was recorded in rolls back. The commit hook takes it out before committing.
    """

    __slots__ = ("event",)

    def __init__(self, event: AuditEvent) -> None:
        self.event = event

    def __call__(self) -> None:
        # Only reached if the engine lacks the commit hook, which record() never allows.
        raise AuditError(f"audit event {self.event.action!r} was never appended")


def _defers(connection: BaseDatabaseWrapper) -> bool:
    """Can this transaction append at commit? Only with Galenic's engine, and not at the level of
    a test case's own wrapping transaction (which never commits)."""
    if not getattr(connection, "galenic_deferred_audit", False):
        return False
    return not all(getattr(b, "_from_testcase", False) for b in connection.atomic_blocks)


def _hooks(connection: BaseDatabaseWrapper) -> list[tuple[set[str], Any, bool]]:
    # (savepoint ids, callable, robust), as Django keeps them; the stubs still say 2-tuples.
    return cast(list[tuple[set[str], Any, bool]], connection.run_on_commit)


def pending_events(connection: BaseDatabaseWrapper) -> list[AuditEvent]:
    return [f.event for _, f, _ in _hooks(connection) if isinstance(f, PendingEvent)]


def flush_pending(connection: BaseDatabaseWrapper, *, commit: bool = False) -> None:
    """Append this transaction's collected events now (called just before commit).

    With ``commit`` the caller is about to commit anyway and lets the append commit too."""
    hooks = _hooks(connection)
    if not any(isinstance(f, PendingEvent) for _, f, _ in hooks):
        return
    events = pending_events(connection)
    hooks[:] = [entry for entry in hooks if not isinstance(entry[1], PendingEvent)]
    try:
        _append(connection, events, commit=commit)
    except DatabaseError:
        raise
    except Exception as exc:  # keep Atomic's rollback path: it only catches DatabaseError
        raise AuditAppendError(f"audit events could not be appended: {exc}") from exc


# --- appending ----------------------------------------------------------------------------------


_HEAD_SQL = f"SELECT seq, hash FROM {TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608


def _head_of(row: Any) -> tuple[int, str]:
    """(seq, hash) of the chain head from a row read of it; (0, GENESIS) for an empty trail."""
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def _head(cursor: Any) -> tuple[int, str]:
    cursor.execute(_HEAD_SQL)
    return _head_of(cursor.fetchone())


class _Prepared:
    """What can be computed before taking the lock: everything but seq, prev_hash, hash, seal."""

    __slots__ = ("event", "tail", "values")

    def __init__(self, connection: BaseDatabaseWrapper, event: AuditEvent) -> None:
        self.event = event
        # The hashed payload after its first field (seq), and the row's other column values.
        self.tail = SEP + SEP.join(hashed_fields(event)[1:])
        self.values = (
            _TS_FIELD.get_db_prep_value(event.occurred_at, connection),
            event.actor_id,
            event.actor_username,
            event.actor_name,
            event.category,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.old_values,
            event.new_values,
            event.reason,
            event.request_id,
            event.source,
        )


_TS_FIELD = AuditEvent._meta.get_field("occurred_at")


def _prepare(connection: BaseDatabaseWrapper, events: Sequence[AuditEvent]) -> list[_Prepared]:
    return [_Prepared(connection, event) for event in events]


def _chain(prepared: Sequence[_Prepared], seq: int, prev: str) -> list[tuple[Any, ...]]:
    """Under the lock: give the events their seq, prev_hash, hash and seal after the head."""
    seal_key = audit_keys().seal_key
    rows = []
    for item in prepared:
        seq += 1
        digest = hash_payload(prev, f"{seq}{item.tail}")
        event = item.event
        event.seq, event.prev_hash, event.hash = seq, prev, digest
        event.seal = seal(seal_key, digest)
        rows.append((seq, *item.values, prev, digest, event.seal))
        prev = digest
    return rows


def _insert_sql(rows: int) -> str:
    placeholder = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    return f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES " + ", ".join(  # noqa: S608
        [placeholder] * rows
    )


# Foreign keys are DEFERRABLE INITIALLY DEFERRED (Django's): checked at COMMIT, where each check
# takes a key-share lock on the row referred to. The function (migration 0004) checks them first,
# before it takes the chain-head lock: a check that waits for a row lock while holding the
# chain-head lock would deadlock against the holder of that row lock waiting for the chain head.
# Then it reads the head, in a statement of its own (a fresh snapshot, taken under the lock).
_PG_LOCK_AND_HEAD = f"SELECT head_seq, head_hash FROM audit_lock_chain_head({AUDIT_LOCK_KEY})"  # noqa: S608


_PG_HEAD_MOVED = "GA001"  # audit_lock_chain_head_at: the head is not the one expected


class _KnownHead:
    """Per connection: the head this connection committed last, and whether, last time it
    looked, nobody else had appended since (then it expects to find that head again)."""

    __slots__ = ("alone", "hash", "seq")

    def __init__(self, seq: int, hash: str, *, alone: bool) -> None:
        self.seq, self.hash, self.alone = seq, hash, alone


def _append_postgresql(
    connection: BaseDatabaseWrapper, events: Sequence[AuditEvent], *, commit: bool
) -> None:
    """Usually two messages: (1) check the transaction's deferred foreign keys, take the lock
    and read the head (one function call, whose statements the server planned once per session;
    the transaction's BEGIN rides along when nothing came before), (2) insert the chained events,
    and with ``commit`` the COMMIT in the same message. The lock is held from (1) to the end of
    the transaction, so the time it is held is about one and a half round trips, the hashing,
    and the commit's WAL flush; and it waits for no row lock while held (the audit table has no
    foreign key constraint). After our COMMIT psycopg's own commit (Django's, right after) finds
    the connection idle and does nothing.

    One message when this connection is the only one appending (a single writer, or a quiet
    site): the events are chained after the head it committed last, and the function checks,
    under the lock, that this is still the head before the INSERT and COMMIT in the same message
    run. When someone else appended meanwhile it refuses; the transaction rolls back to a
    savepoint taken just before and appends as above. So the chain is the same either way."""
    import psycopg

    # Client-side binding (several statements per message); BEGIN rides in the first one.
    from galenic.audit.db.postgresql.base import Cursor

    connection.ensure_connection()
    known: _KnownHead | None = getattr(connection, "_galenic_audit_head", None)
    connection._galenic_audit_head = None  # type: ignore[attr-defined]  # set again on success
    with connection.wrap_database_errors, Cursor(connection.connection) as cursor:
        prepared = _prepare(connection, events)
        if commit and known is not None and known.alone and len(events) <= _ROWS_PER_INSERT:
            rows = _chain(prepared, known.seq, known.hash)
            try:
                cursor.execute(
                    "SAVEPOINT galenic_audit_append; "
                    f"SELECT audit_lock_chain_head_at({AUDIT_LOCK_KEY}, %s, %s); "
                    f"{_insert_sql(len(rows))}; COMMIT",
                    [known.seq, known.hash, *(value for row in rows for value in row)],
                )
            except psycopg.Error as exc:
                if exc.sqlstate != _PG_HEAD_MOVED:
                    raise
                cursor.execute("ROLLBACK TO SAVEPOINT galenic_audit_append")
            else:
                last = events[-1]
                connection._galenic_audit_head = _KnownHead(last.seq, last.hash, alone=True)  # type: ignore[attr-defined]
                return
        cursor.execute(_PG_LOCK_AND_HEAD)
        seq, prev = _head_of(cursor.fetchone())
        rows = _chain(prepared, seq, prev)
        chunks = [rows[i : i + _ROWS_PER_INSERT] for i in range(0, len(rows), _ROWS_PER_INSERT)]
        for number, chunk in enumerate(chunks, start=1):
            sql = _insert_sql(len(chunk))
            if number == len(chunks):
                # Without commit the transaction goes on: its later rows are checked at commit.
                sql += "; COMMIT" if commit else "; SET CONSTRAINTS ALL DEFERRED"
            cursor.execute(sql, [value for row in chunk for value in row])
    if commit:
        last = events[-1]
        alone = known is not None and (known.seq, known.hash) == (seq, prev)
        connection._galenic_audit_head = _KnownHead(last.seq, last.hash, alone=alone)  # type: ignore[attr-defined]


def _append_sqlite(connection: BaseDatabaseWrapper, events: Sequence[AuditEvent]) -> None:
    # The write lock was taken at BEGIN IMMEDIATE (settings transaction_mode).
    prepared = _prepare(connection, events)
    seq, prev = _head_of(first_row(connection, _HEAD_SQL, ()))
    chained = _chain(prepared, seq, prev)
    for start in range(0, len(chained), _ROWS_PER_INSERT):
        chunk = chained[start : start + _ROWS_PER_INSERT]
        release(run(connection, _insert_sql(len(chunk)), [value for row in chunk for value in row]))


def _append(
    connection: BaseDatabaseWrapper, events: Sequence[AuditEvent], *, commit: bool = False
) -> None:
    """Chain and insert ``events`` in order under the chain-head lock (held until commit).

    ``commit``: this is the end of the transaction; on PostgreSQL the COMMIT rides along with
    the INSERT, saving a round trip while the lock is held.
    """
    if not events:
        return
    # An API request sent with an Idempotency-Key: the key commits with this transaction, or
    # this transaction does not commit (core.idempotency). Before the events: on PostgreSQL
    # the COMMIT rides on their last INSERT.
    idempotency.claim(connection)
    connection.galenic_appended = True  # type: ignore[attr-defined]
    if connection.vendor == "postgresql":
        _append_postgresql(connection, events, commit=commit)
    else:
        _append_sqlite(connection, events)
    first_seq_floor = events[0].seq - 1
    last = events[-1]
    for event in events:
        event._state.adding = False
        event._state.db = connection.alias
    every = settings.AUDIT_CHECKPOINT_EVERY
    if every and last.seq // every > first_seq_floor // every:
        callback = functools.partial(
            _checkpoint_after_commit, connection.alias, last.seq, last.hash
        )
        # As connection.on_commit does, but also valid inside commit() itself, where Django has
        # already left the atomic block: hooks run once autocommit is restored.
        _hooks(connection).append((set(connection.savepoint_ids), callback, True))


def object_label(obj: models.Model) -> str:
    return obj._meta.label_lower


def record(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    object_repr: str = "",
    old: dict[str, Any] | None = None,
    new: dict[str, Any] | None = None,
    reason: str = "",
    category: str = "gmp",
    immediate: bool = False,
    reason_required: bool = False,
) -> AuditEvent:
    """Record one event. Call inside ``transaction.atomic()`` together with the change itself.

    The event is appended to the chain when the transaction commits (one lock, one INSERT for
    all of the transaction's events); ``immediate=True`` appends it now so ``seq``/``hash`` are
    set on return. Either way it commits or rolls back with the change.
    ``reason_required``: refuse (ValidationFailed on ``reason``) when no reason is given.
    """
    if reason_required and not reason.strip():
        # Annex 11 §9: a change that needs a reason is refused without one.
        raise ValidationFailed("Give a reason for this change.", field="reason")
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise AuditError(
            "audit.record must be called inside the transaction of the change it records"
        )
    if obj is not None:
        object_type = object_type or object_label(obj)
        object_id = object_id or str(obj.pk)
        object_repr = object_repr or str(obj)
    ctx = context.current()
    actor_obj = actor if getattr(actor, "pk", None) is not None else None
    event = AuditEvent(
        occurred_at=utcnow(),
        actor=actor_obj,
        actor_username=getattr(actor_obj, "username", "") if actor_obj else "",
        actor_name=getattr(actor_obj, "full_name", "") if actor_obj else "",
        category=category,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_repr=object_repr[:300],
        old_values=canonical_json(old),
        new_values=canonical_json(new),
        reason=reason,
        request_id=ctx.request_id,
        source=ctx.source,
    )
    _check_text(event)
    audit_keys()  # fail here, not at commit, if the key cannot be read or created
    if immediate or not _defers(connection):
        # Earlier deferred events of this transaction stay pending: appending them here would
        # put their rows inside the current savepoint, and its rollback would lose them.
        _append(connection, [event])
    else:
        connection.on_commit(PendingEvent(event))
    return event


def _check_text(event: AuditEvent) -> None:
    for name, limit in _LIMITS.items():
        if len(getattr(event, name)) > limit:
            raise ValueError(f"audit {name} is longer than {limit} characters")
    for name in ("object_type", "object_id", "object_repr", "reason", "action", "category"):
        if SEP in getattr(event, name):
            raise ValidationFailed(
                "Control character U+001F is not allowed in the audit trail.", field=name
            )


def hashed_fields(event: AuditEvent) -> tuple[str, ...]:
    return (
        str(event.seq),
        format_ts(event.occurred_at),
        "" if event.actor_id is None else str(event.actor_id),
        event.actor_username,
        event.actor_name,
        event.category,
        event.action,
        event.object_type,
        event.object_id,
        event.object_repr,
        event.old_values,
        event.new_values,
        event.reason,
        event.request_id,
        event.source,
    )


def record_export(*, actor: Any, filters: dict[str, str], fmt: str) -> AuditEvent:
    """Who exported which part of the audit trail, and how (2025 draft Annex 11: exports are
    audited too). Written before the export streams, in its own transaction."""
    require(actor, "audit.view")
    with transaction.atomic():
        return record(
            actor=actor,
            action="audit.export",
            object_type="audit.trail",
            object_id=fmt,
            object_repr=f"audit trail export ({fmt})",
            new={"format": fmt, "filters": filters},
            category="system",
        )


def record_standalone(**kwargs: Any) -> AuditEvent:
    """For security events that stand alone (e.g. a failed login): its own transaction."""
    with transaction.atomic():
        return record(**kwargs)


# --- checkpoints ---------------------------------------------------------------------------------


def database_identity(alias: str = "default") -> str:
    """Where the trail lives, for people reading a checkpoint (matching uses the chain id)."""
    connection = connections[alias]
    conf = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:{conf['NAME']}"
    identity = (
        f"{connection.vendor}:{conf.get('HOST') or 'local'}:{conf.get('PORT') or ''}/{conf['NAME']}"
    )
    if connection.vendor == "postgresql":
        try:
            with transaction.atomic(using=alias), connection.cursor() as cursor:
                cursor.execute("SELECT system_identifier FROM pg_control_system()")
                row = cursor.fetchone()
            if row:
                identity += f" system={row[0]}"
        except DatabaseError:
            pass  # a role without access to pg_control_system still gets a readable identity
    return identity


def chain_id(alias: str = "default") -> str:
    """The hash of event #1: it names one audit trail, wherever its database is restored."""
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT hash FROM {TABLE} WHERE seq = 1")  # noqa: S608
        row = cursor.fetchone()
    return str(row[0]) if row else ""


def write_checkpoint(
    *,
    seq: int | None = None,
    head: str | None = None,
    kind: str = "manual",
    alias: str = "default",
    directory: Path | None = None,
) -> cp.Checkpoint | None:
    """Sign (seq, head hash, time, database identity) and append it to the checkpoint file.

    Without ``seq``/``head``, checkpoints the current head. Returns None for an empty trail.
    """
    if seq is None or head is None:
        with connections[alias].cursor() as cursor:
            seq, head = _head(cursor)
    if seq == 0:
        return None
    keys = audit_keys()
    target = Path(directory or settings.AUDIT_CHECKPOINT_DIR)
    checkpoint = cp.sign(
        cp.Checkpoint(
            seq=seq,
            head=head,
            chain=head if seq == 1 else chain_id(alias),
            database=database_identity(alias),
            at=format_ts(utcnow()),
            key=keys.fingerprint,
            kind=kind,
        ),
        keys,
    )
    cp.write_public_key(target, keys)
    cp.append(target, checkpoint)
    return checkpoint


def _checkpoint_after_commit(alias: str, seq: int, head: str) -> None:
    try:
        write_checkpoint(seq=seq, head=head, kind="periodic", alias=alias)
    except Exception:
        # The events are committed; a missed checkpoint only delays rollback detection.
        log.exception("audit checkpoint at #%s could not be written", seq)
        raise
