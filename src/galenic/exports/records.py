"""Shared pieces of every exported record, as plain data (no Django import).

An export is built in two steps: the Django side reads the record into plain, JSON-able data
(``selectors``), and pure builders turn that data into a PDF ``Report`` (``mbr.py``,
``batch.py``) or write it as JSON/CSV. The PDF and the JSON therefore show the same data, and
the same ``record_sha256`` (SHA-256 of the data's canonical JSON) is printed on every PDF page
and stored in the JSON envelope: a printout, a file and the live system can be matched.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from galenic.audit.chain import canonical_json
from galenic.exports.pdf.layout import Column, Row, SignatureLine, Signatures, Table

# Audit events of exporting are recorded, but kept out of the exported data: otherwise every
# export would change the record it exports (and its hash).
EXPORT_ACTION_PREFIX = "exports."
MAX_AUDIT_VALUE_CHARS = 1500

TimeText = Callable[[str], str]


def identity(value: str) -> str:
    return value


def record_sha256(data: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of an exported record's data."""
    return hashlib.sha256(canonical_json(dict(data)).encode("utf-8")).hexdigest()


def to_jsonable(value: Any) -> Any:
    """The data as JSON would hold it (Decimals and datetimes as text), for comparing a record
    read from a file with one built from the database."""
    return json.loads(canonical_json(value)) if value is not None else None


@dataclass(frozen=True)
class SignatureData:
    """A signature as exported: the manifestation (11.50) plus what binds it (11.70)."""

    uid: str
    object_type: str
    object_id: str
    meaning: str
    meaning_label: str
    printed_name: str
    user_id: str
    signed_at: str  # ISO 8601 UTC
    signed_at_text: str  # local, with zone and offset, as recorded at signing
    time_zone: str
    reason: str
    credentials: str
    content_sha256: str
    binding_sha256: str
    request_id: str
    signer_pk: str
    text: str  # the manifestation as the signatures app renders it
    status: str  # valid | changed_after_signing | ...
    status_label: str

    def as_dict(self) -> dict[str, str]:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SignatureData:
        return cls(**{k: str(data.get(k, "")) for k in cls.__dataclass_fields__})

    def line(self) -> SignatureLine:
        status = "" if self.status == "valid" else f"⚠ {self.status_label}"
        return SignatureLine(self.text, status)


@dataclass(frozen=True)
class AuditData:
    """One audit event as exported, with the fields its chain hash covers."""

    seq: int
    occurred_at: str  # ISO 8601 UTC as hashed
    actor_id: str
    actor_username: str
    actor_name: str
    category: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    old_values: str
    new_values: str
    reason: str
    request_id: str
    source: str
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)  # flat fields: faster than asdict() for 20,000 events

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditData:
        text = {k: str(data.get(k, "")) for k in cls.__dataclass_fields__ if k != "seq"}
        return cls(seq=int(data.get("seq") or 0), **text)

    def hashed_fields(self) -> tuple[str, ...]:
        """In ``galenic.audit.chain.HASHED_FIELDS`` order."""
        return (
            str(self.seq),
            self.occurred_at,
            self.actor_id,
            self.actor_username,
            self.actor_name,
            self.category,
            self.action,
            self.object_type,
            self.object_id,
            self.object_repr,
            self.old_values,
            self.new_values,
            self.reason,
            self.request_id,
            self.source,
        )


def signatures_block(signatures: Sequence[SignatureData], title: str = "Signatures") -> Signatures:
    return Signatures([s.line() for s in signatures], title=title)


def _short(text: str) -> str:
    if len(text) <= MAX_AUDIT_VALUE_CHARS:
        return text
    return (
        text[:MAX_AUDIT_VALUE_CHARS]
        + f" … ({len(text)} characters; complete in the JSON export and the audit trail)"
    )


def describe_change(old_values: str, new_values: str) -> str:
    """Old → new, field by field where both are JSON objects."""
    try:
        old = json.loads(old_values) if old_values else None
        new = json.loads(new_values) if new_values else None
    except ValueError:
        return _short(" → ".join(v for v in (old_values, new_values) if v))
    if isinstance(old, dict) or isinstance(new, dict):
        old_d = old if isinstance(old, dict) else {}
        new_d = new if isinstance(new, dict) else {}
        parts = []
        for key in sorted(set(old_d) | set(new_d)):
            before = _compact(old_d.get(key)) if key in old_d else None
            after = _compact(new_d.get(key)) if key in new_d else None
            if before is not None and after is not None:
                parts.append(f"{key}: {before} → {after}")
            elif after is not None:
                parts.append(f"{key}: {after}")
            else:
                parts.append(f"{key}: {before} → (removed)")
        return _short("\n".join(parts))
    return _short(" → ".join(_compact(v) for v in (old, new) if v is not None))


def _compact(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


AUDIT_COLUMNS = (
    Column("#", 0.5),
    Column("When", 1.45),
    Column("Who", 1.0),
    Column("Action", 2.1),
    Column("Record", 1.6),
    Column("Change (old → new)", 3.3),
    Column("Reason", 1.2),
)


def audit_table(events: Iterable[AuditData], when: TimeText = identity) -> Table:
    rows = [
        Row(
            [
                str(e.seq),
                when(e.occurred_at),
                e.actor_username or "system",
                e.action,
                e.object_repr or f"{e.object_type}:{e.object_id}",
                describe_change(e.old_values, e.new_values),
                e.reason,
            ]
        )
        for e in events
    ]
    return Table(AUDIT_COLUMNS, rows)


__all__ = [
    "EXPORT_ACTION_PREFIX",
    "AuditData",
    "SignatureData",
    "TimeText",
    "audit_table",
    "describe_change",
    "identity",
    "record_sha256",
    "signatures_block",
    "to_jsonable",
]
