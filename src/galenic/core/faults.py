"""Infrastructure faults a user must be told about plainly: the database is down, the disk is full.

``classify(exc)`` turns such an exception (however deep in its chain) into a GalenicError with a
status and a message that says what happened to the request: 503 when the database cannot be
reached (nothing was saved; try again), 507 when storage is full (refused; earlier work is safe).
Anything else is left alone (None). The API handlers, the UI middleware and the 500 handler all
use it, so a fault reads the same wherever it surfaces (docs/reliability.md).
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from collections.abc import Iterator
from contextvars import ContextVar
from pathlib import Path

from galenic.core.errors import GalenicError, InsufficientStorage, ServiceUnavailable

UNAVAILABLE_MESSAGE = (
    "The database cannot be reached right now, so nothing was saved by this request. "
    "Try again in a moment; if it keeps happening, tell the system administrator."
)
STORAGE_FULL_MESSAGE = (
    "The server's storage is full, so this request was refused and nothing was saved. "
    "Work recorded before is safe. Tell the system administrator to free space, then try again."
)
SAVED_MESSAGE = (
    "This request had saved its work when the database became unreachable (or its storage "
    "full), so the answer could not be completed. Look at the record before doing it again "
    "(an API request retried with the same Idempotency-Key is never carried out twice)."
)
READ_UNAVAILABLE_MESSAGE = (
    "The database cannot be reached right now, so this cannot be shown. "
    "Try again in a moment; if it keeps happening, tell the system administrator."
)
IN_DOUBT_MESSAGE = (
    "The connection to the database broke while this was being saved, so it may or may not "
    "have been saved. Look at the record before entering it again (an API request retried with "
    "the same Idempotency-Key is never carried out twice)."
)
BUSY_MESSAGE = (
    "The database is busy with other work, so nothing was saved by this request. Try again."
)

# PostgreSQL SQLSTATE 53100: disk_full. Every other operational error (connection refused or
# lost, server shutting down or starting, too many connections) means "not reachable now".
_PG_FULL = {"53100"}


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _sqlstate(exc: BaseException) -> str:
    return str(
        getattr(exc, "sqlstate", "") or getattr(getattr(exc, "diag", None), "sqlstate", "") or ""
    )


# Below this much free space on the SQLite database's file system, an I/O error is taken to be
# the disk running full (SQLite reports a full disk as SQLITE_FULL when the WAL cannot grow, but
# as an I/O error when the shared-memory file cannot).
LOW_SPACE_BYTES = 1024 * 1024


def _sqlite_storage_full(exc: sqlite3.Error, text: str) -> bool:
    name = str(getattr(exc, "sqlite_errorname", ""))
    if name == "SQLITE_FULL" or "disk is full" in text:
        return True
    if not (name.startswith("SQLITE_IOERR") or "disk i/o error" in text):
        return False
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "sqlite" not in database["ENGINE"]:
        return False
    try:
        free = shutil.disk_usage(Path(database["NAME"]).parent).free
    except OSError:
        return False
    return free < LOW_SPACE_BYTES


# Whether the current request has committed audited work (set by the database engine's commit).
_committed: ContextVar[bool] = ContextVar("galenic_request_committed", default=False)


def begin_request() -> None:
    _committed.set(False)


def note_committed() -> None:
    _committed.set(True)


def mark_commit_in_doubt(exc: BaseException) -> None:
    """The connection failed while a COMMIT may have reached the server (PostgreSQL)."""
    exc.galenic_commit_in_doubt = True  # type: ignore[attr-defined]


def classify(exc: BaseException, *, writing: bool = True) -> GalenicError | None:
    """The user-facing error for a database or storage fault, or None for anything else
    (a constraint violation or a programming error stays a 500: it is a bug, not a fault).

    ``writing``: the request meant to change something (the message says what became of it).
    A fault after the request committed its work says so instead of "nothing was saved"."""
    error = _classify(exc, writing=writing)
    if error is not None and _committed.get():
        return type(error)(SAVED_MESSAGE)
    return error


def _classify(exc: BaseException, *, writing: bool) -> GalenicError | None:
    import psycopg
    from django.db import InterfaceError, OperationalError

    unavailable: GalenicError | None = None
    for item in _chain(exc):
        if isinstance(item, GalenicError):
            return None  # already a user-facing error
        if isinstance(item, OSError) and item.errno in (errno.ENOSPC, errno.EDQUOT):
            return InsufficientStorage(STORAGE_FULL_MESSAGE)
        state = _sqlstate(item)
        if state in _PG_FULL:
            return InsufficientStorage(STORAGE_FULL_MESSAGE)
        text = str(item).lower()
        if isinstance(item, sqlite3.Error) and _sqlite_storage_full(item, text):
            return InsufficientStorage(STORAGE_FULL_MESSAGE)
        if unavailable is not None:
            continue
        if getattr(item, "galenic_commit_in_doubt", False):
            unavailable = ServiceUnavailable(IN_DOUBT_MESSAGE)
        elif isinstance(item, sqlite3.OperationalError) and (
            "database is locked" in text or "database is busy" in text
        ):
            unavailable = ServiceUnavailable(BUSY_MESSAGE)
        elif state.startswith(("40", "55P03", "57014")):
            unavailable = ServiceUnavailable(BUSY_MESSAGE)  # serialization, lock, timeout
        elif isinstance(
            item,
            (
                OperationalError,
                InterfaceError,
                sqlite3.OperationalError,
                psycopg.OperationalError,
                psycopg.InterfaceError,
            ),
        ):
            unavailable = ServiceUnavailable(
                UNAVAILABLE_MESSAGE if writing else READ_UNAVAILABLE_MESSAGE
            )
    return unavailable
