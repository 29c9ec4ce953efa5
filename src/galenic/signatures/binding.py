"""How a signature is bound to what was signed (21 CFR 11.70). Pure: no Django import.

Two hashes:

- ``content_sha256``: sha256 of the canonical JSON of exactly what the signer vouched for.
  Recomputing it from the record *now* and comparing tells whether the record changed after
  signing.
- ``binding_sha256``: sha256 over every field of the signature row, including the signed
  record's type and id and the content hash. Editing any of them, or moving the row to
  another record, breaks it.

The binding hash is deliberately unkeyed (a rotated key would invalidate every signature ever
made); what stops someone with write access to the database from simply recomputing it is that
each signature's binding hash is also written into the hash-chained audit trail, which
``verify`` cross-checks.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from galenic.audit.chain import canonical_json, format_ts

BINDING_VERSION = "galenic-signature-v1"
SEP = "\x1f"


def canonical_content(content: Mapping[str, Any]) -> str:
    """Canonical JSON of the signed content: sorted keys, no whitespace, Decimals/datetimes as text."""
    if not isinstance(content, Mapping):
        raise TypeError("signed content must be a mapping")
    return canonical_json(dict(content))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_sha256(content: Mapping[str, Any]) -> str:
    return sha256_text(canonical_content(content))


@dataclass(frozen=True)
class BindingFields:
    """The signature's fields, in the order they are hashed."""

    uid: str
    signer_pk: str
    signer_user_id: str
    signer_name: str
    meaning: str
    signed_at: datetime
    time_zone: str
    object_type: str
    object_id: str
    content_sha256: str
    reason: str
    request_id: str
    credentials: str

    def as_text(self) -> tuple[str, ...]:
        return (
            BINDING_VERSION,
            self.uid,
            self.signer_pk,
            self.signer_user_id,
            self.signer_name,
            self.meaning,
            format_ts(self.signed_at),
            self.time_zone,
            self.object_type,
            self.object_id,
            self.content_sha256,
            self.reason,
            self.request_id,
            self.credentials,
        )


def binding_sha256(fields: BindingFields) -> str:
    # Each field is length-prefixed as well as separated, so no choice of field values can make
    # two different signatures hash the same text.
    parts = [f"{len(text)}:{text}" for text in fields.as_text()]
    return sha256_text(SEP.join(parts))


def changed_keys(signed: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """Top-level keys whose canonical value differs (for showing *what* changed after signing)."""
    keys = set(signed) | set(current)
    return sorted(
        k
        for k in keys
        if k not in signed
        or k not in current
        or canonical_json(signed[k]) != canonical_json(current[k])
    )
