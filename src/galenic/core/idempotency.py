"""Idempotency keys for API writes: a request is carried out once, however often it arrives.

A client sends ``Idempotency-Key: <its own unique text>`` with a POST/PUT/PATCH/DELETE under
/api/. ``IdempotencyMiddleware`` (core.middleware) then:

1. refuses a key it has seen from the same user: 409 ``replayed`` quoting the first answer (or
   saying it was lost), or 422 ``idempotency_key_reused`` when the key came with a different
   request; each refusal is a security event in the audit trail;
2. otherwise lets the request run with the key *pending*: the first transaction of the request
   that commits audit events inserts the key (``claim``, called by the audit append just before
   the events, inside that transaction). The work and the key commit together or not at all, so
   a retry after the server died between COMMIT and answer is refused, and a retry of a request
   that never committed is carried out. Two copies racing each other: the second insert finds
   the first's key (on PostgreSQL it waits for the first to commit) and its whole transaction
   rolls back with ``ReplayedRequest``;
3. stores the answer on the key for later refusals to quote.

Without the header nothing changes: state checks still refuse a repeated value or signature
(409), but a client cannot tell a lost answer from a refusal as precisely.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.http import HttpRequest, JsonResponse

from galenic.core.timefmt import format_datetime, utcnow

HEADER = "Idempotency-Key"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
MAX_STORED_ANSWER = 64 * 1024
TABLE = "core_idempotentrequest"


class ReplayedRequest(DatabaseError):
    """The key was claimed by another request first: this transaction must not commit.

    A DatabaseError so that Django's atomic() rolls back when it is raised at COMMIT."""

    def __init__(self, user_id: int, key: str) -> None:
        super().__init__(f"idempotency key {key!r} was already used")
        self.user_id = user_id
        self.key = key


@dataclass(frozen=True)
class PendingKey:
    user_id: int
    key: str
    fingerprint: str
    method: str
    path: str
    request_id: str


_pending: ContextVar[PendingKey | None] = ContextVar("galenic_idempotency", default=None)


def fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256(f"{request.method}\n{request.path}\n".encode())
    if request.content_type == "multipart/form-data":
        # Reading a large upload here would defeat the upload limits: its length stands in.
        digest.update(str(request.META.get("CONTENT_LENGTH", "")).encode())
    else:
        digest.update(request.body)
    return digest.hexdigest()


@contextmanager
def pending(key: PendingKey | None) -> Iterator[None]:
    token = _pending.set(key)
    try:
        yield
    finally:
        _pending.reset(token)


def claim(connection: BaseDatabaseWrapper) -> None:
    """Inside a transaction that is about to commit audit events: insert the pending key.

    Idempotent within one request (a second transaction of it finds its own key)."""
    key = _pending.get()
    if key is None or connection.alias != "default":
        return
    from galenic.core.models import IdempotentRequest

    created = IdempotentRequest._meta.get_field("created_at")
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {TABLE} (user_id, key, fingerprint, method, path, request_id, "  # noqa: S608
            "created_at, response) VALUES (%s, %s, %s, %s, %s, %s, %s, '') "
            "ON CONFLICT (user_id, key) DO NOTHING",
            [
                key.user_id,
                key.key,
                key.fingerprint,
                key.method,
                key.path[:300],
                key.request_id,
                created.get_db_prep_value(utcnow(), connection),
            ],
        )
        if cursor.rowcount == 1:
            return
        cursor.execute(
            f"SELECT request_id FROM {TABLE} WHERE user_id = %s AND key = %s",  # noqa: S608
            [key.user_id, key.key],
        )
        row = cursor.fetchone()
    if row is not None and row[0] == key.request_id:
        return
    raise ReplayedRequest(key.user_id, key.key)


def find(user_id: int, key: str) -> Any:
    from galenic.core.models import IdempotentRequest

    return IdempotentRequest.objects.filter(user_id=user_id, key=key).first()


def store_answer(key: PendingKey, status: int, content_type: str, body: bytes) -> None:
    """Keep the answer of the request that claimed ``key`` (best effort: the key itself is what
    prevents a second run; a lost answer is reported as lost)."""
    from galenic.core.models import IdempotentRequest

    text = ""
    if content_type.startswith("application/json") and len(body) <= MAX_STORED_ANSWER:
        text = body.decode("utf-8", "replace")
    # If the database went away after the work committed, the key still stands: no answer.
    with suppress(DatabaseError):
        IdempotentRequest.objects.filter(
            user_id=key.user_id, key=key.key, request_id=key.request_id, status__isnull=True
        ).update(status=status, response=text)


def refusal(request: HttpRequest, user: Any, key: str, request_fingerprint: str) -> JsonResponse:
    """409 (a replay) or 422 (the key reused for another request), logged as a security event."""
    from galenic.audit import services as audit

    first = find(user.pk, key)
    if first is None:  # claimed by a transaction that then rolled back: nothing to quote
        return JsonResponse(
            {
                "code": "replayed",
                "message": "This request is being carried out by another copy of it right now; "
                "it is not done twice.",
                "errors": [{"field": HEADER, "message": "already in use"}],
            },
            status=409,
        )
    when = format_datetime(first.created_at)
    same = first.fingerprint == request_fingerprint
    with pending(None):  # the refusal's own audit event claims nothing
        audit.record_standalone(
            actor=user,
            action="api.request.replayed" if same else "api.idempotency_key.reused",
            category="security",
            object_type="api.request",
            object_id=str(first.pk),
            object_repr=f"{request.method} {request.path}"[:300],
            new={
                "idempotency_key": key,
                "first_request_id": first.request_id,
                "first_at": first.created_at,
                "first": f"{first.method} {first.path}",
                "same_request": same,
            },
            reason="refused: an Idempotency-Key is carried out once",
        )
    if not same:
        return JsonResponse(
            {
                "code": "idempotency_key_reused",
                "message": f"This Idempotency-Key was used at {when} for another request "
                f"({first.method} {first.path}); use a new key for a new request.",
                "errors": [{"field": HEADER, "message": "used for another request"}],
            },
            status=422,
        )
    original: dict[str, Any] | None = None
    if first.status is not None:
        try:
            body = json.loads(first.response) if first.response else None
        except ValueError:
            body = None
        original = {"status": first.status, "body": body}
        told = f"it answered {first.status}"
    else:
        told = (
            "its answer was lost (the connection or the server failed before it was sent); "
            f"the audit trail shows what it did under request id {first.request_id}"
        )
    return JsonResponse(
        {
            "code": "replayed",
            "message": f"This request was already received at {when} and carried out once; "
            f"it is not done again ({told}).",
            "errors": [{"field": HEADER, "message": "already used"}],
            "first_request_id": first.request_id,
            "original": original,
        },
        status=409,
    )


def prune(*, older_than_hours: int) -> int:
    """Forget the keys of requests older than ``older_than_hours``: a client retrying after that
    long would have its request carried out again (state checks still refuse a value or a
    signature given twice). Recorded in the audit trail with the count. Returns the count."""
    from datetime import timedelta

    from django.db import transaction

    from galenic.audit import services as audit
    from galenic.core.errors import ValidationFailed
    from galenic.core.models import IdempotentRequest

    if older_than_hours < 1:
        raise ValidationFailed("Keep idempotency keys at least one hour.", field="older_than_hours")
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    with transaction.atomic():
        removed, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
        audit.record(
            actor=None,
            action="system.idempotency.prune",
            category="system",
            object_type="core.idempotentrequest",
            object_repr=f"idempotency keys older than {older_than_hours} h",
            new={"removed": removed, "before": cutoff, "older_than_hours": older_than_hours},
        )
    return removed
