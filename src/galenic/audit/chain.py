"""Hash chain over audit events. Pure: no Django import, shared by the writer and `audit verify`.

Each event's ``hash`` is ``sha256(prev_hash ‖ payload)`` where the payload is the event's
HASHED_FIELDS as text joined by the unit separator (US, 0x1f). No field may contain US, so the
join is unambiguous: the writer refuses such text and the verifier counts separators.

Each event also carries a ``seal``: HMAC-SHA256 of its hash under a key kept outside the
database. Anyone can recompute a hash chain; only the holder of the key can seal a row, so a
forged row with the chain recomputed after it is named exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
SEP = "\x1f"

# The columns, in order, whose text goes into each event's hash.
HASHED_FIELDS = (
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
)
PAYLOAD_SEPARATORS = len(HASHED_FIELDS) - 1


def canonical_json(value: Any) -> str:
    """Stable JSON: sorted keys, no whitespace, non-ASCII kept, Decimals and datetimes as strings.

    Control characters (including US) are escaped by JSON, so values never contain a raw SEP.
    """
    if value is None:
        return ""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_default
    )


def _default(value: Any) -> str:
    if isinstance(value, datetime):
        return format_ts(value)
    return str(value)


def format_ts(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def payload(fields: tuple[str, ...]) -> str:
    """The hashed text of one event: ``fields`` in HASHED_FIELDS order, joined by SEP."""
    return SEP.join(fields)


def hash_payload(prev_hash: str, text: str) -> str:
    return hashlib.sha256((prev_hash + text).encode("utf-8")).hexdigest()


def event_hash(prev_hash: str, fields: tuple[str, ...]) -> str:
    """sha256(prev_hash ‖ fields joined by US). ``fields`` are in HASHED_FIELDS order, as text."""
    return hash_payload(prev_hash, payload(fields))


def seal(key: bytes, event_hash_hex: str) -> str:
    """HMAC-SHA256 of an event's hash under the sealing key (kept outside the database)."""
    return hmac.digest(key, event_hash_hex.encode("ascii"), "sha256").hex()


def seal_matches(key: bytes, event_hash_hex: str, stored: str) -> bool:
    return hmac.compare_digest(seal(key, event_hash_hex), stored)


def field_with_separator(fields: tuple[str, ...]) -> int | None:
    """Index of the first field containing SEP (which would make the payload ambiguous)."""
    for index, text in enumerate(fields):
        if SEP in text:
            return index
    return None
