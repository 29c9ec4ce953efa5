"""Signature verification (21 CFR 11.70): is each signature still bound to what was signed?

For each signature, in order:

1. its own fields still hash to its binding hash, and its stored content still hashes to its
   content hash; otherwise someone edited the signature row or moved it to another record;
2. the hash-chained audit trail holds the signing event with the same binding hash and record;
   otherwise the row was forged, or edited and re-hashed (the audit trail is verified on its own
   by ``galenic audit verify``);
3. the signed record still exists;
4. the record's content, recomputed *now* through the registry, hashes to the signed content
   hash; otherwise the record was changed after signing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from django.db import transaction
from django.db.models import Q

from galenic.audit import services as audit_services
from galenic.audit.models import AuditEvent
from galenic.signatures import registry
from galenic.signatures.binding import (
    binding_sha256,
    canonical_content,
    changed_keys,
    sha256_text,
)
from galenic.signatures.models import Signature

SIGN_ACTION = "signatures.sign"  # the action services.sign records


class SignatureStatus(StrEnum):
    VALID = "valid"
    CHANGED = "changed_after_signing"
    BINDING_BROKEN = "binding_broken"
    RECORD_MISSING = "record_missing"
    UNVERIFIABLE = "unverifiable"

    @property
    def ok(self) -> bool:
        return self is SignatureStatus.VALID

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    SignatureStatus.VALID: "Valid",
    SignatureStatus.CHANGED: "Changed after signing: the record differs from what was signed",
    SignatureStatus.BINDING_BROKEN: "Changed after signing: the signature was altered or moved "
    "to another record",
    SignatureStatus.RECORD_MISSING: "Changed after signing: the signed record no longer exists",
    SignatureStatus.UNVERIFIABLE: "Cannot be verified: this kind of record is not registered "
    "as signable",
}


@dataclass(frozen=True)
class SignatureCheck:
    signature: Signature
    status: SignatureStatus
    changed_fields: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status.ok

    def describe(self) -> str:
        s = self.signature
        text = (
            f"signature #{s.pk} ({s.uid}) on {s.object_type}:{s.object_id}, "
            f"{s.meaning} by {s.signer_user_id}: {self.status.label}"
        )
        if self.changed_fields:
            text += f" (changed: {', '.join(self.changed_fields)})"
        return text


@dataclass(frozen=True)
class AuditedSigning:
    """A signing as the audit trail recorded it."""

    uid: str
    binding_sha256: str
    object_type: str
    object_id: str
    signer_user_id: str
    meaning: str
    signed_at: str

    def matches(self, signature: Signature) -> bool:
        return (self.binding_sha256, self.object_type, self.object_id) == (
            signature.binding_sha256,
            signature.object_type,
            signature.object_id,
        )

    def describe(self) -> str:
        return (
            f"signature {self.uid} on {self.object_type}:{self.object_id}, {self.meaning} by "
            f"{self.signer_user_id} at {self.signed_at}: in the audit trail but no longer in "
            "the signature table (excised)"
        )


AuditIndex = dict[str, AuditedSigning]


def _parse_values(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        value = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def audit_index(objects: Iterable[tuple[str, str]] | None = None) -> AuditIndex:
    """Signature uid → binding recorded in the audit trail (for some objects, or all)."""
    events = AuditEvent.objects.filter(action=SIGN_ACTION)
    if objects is not None:
        keys = set(objects)
        if not keys:
            return {}
        condition = Q()
        for object_type, object_id in keys:
            condition |= Q(object_type=object_type, object_id=object_id)
        events = events.filter(condition)
    index: AuditIndex = {}
    rows = events.values_list("object_type", "object_id", "new_values").iterator(chunk_size=5000)
    for object_type, object_id, new_values in [*rows, *_pending_sign_events()]:
        values = _parse_values(new_values)
        uid = values.get("signature_uid")
        if uid:
            index[str(uid)] = AuditedSigning(
                uid=str(uid),
                binding_sha256=str(values.get("binding_sha256", "")),
                object_type=object_type,
                object_id=object_id,
                signer_user_id=str(values.get("signer_user_id", "")),
                meaning=str(values.get("meaning", "")),
                signed_at=str(values.get("signed_at", "")),
            )
    return index


def _pending_sign_events() -> list[tuple[str, str, Any]]:
    """Signing events of the current transaction that the audit trail appends only at commit."""
    pending = getattr(audit_services, "pending_events", None)
    if pending is None or not transaction.get_connection().in_atomic_block:
        return []
    return [
        (e.object_type, e.object_id, e.new_values)
        for e in pending(transaction.get_connection())
        if e.action == SIGN_ACTION
    ]


class _ContentCache:
    """Current content per signed record, computed once however many signatures it carries."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], tuple[str, Any] | None] = {}

    def get(self, object_type: str, object_id: str) -> tuple[str, Any] | None:
        key = (object_type, object_id)
        if key not in self._cache:
            obj = registry.load(object_type, object_id)
            if obj is None:
                self._cache[key] = None
            else:
                content = registry.content_of(obj)
                self._cache[key] = (sha256_text(canonical_content(content)), content)
        return self._cache[key]


def _binding_intact(signature: Signature) -> bool:
    return signature.content_sha256 == sha256_text(
        signature.content_json
    ) and signature.binding_sha256 == binding_sha256(signature.binding_fields())


def _check(signature: Signature, index: AuditIndex, contents: _ContentCache) -> SignatureCheck:
    if not _binding_intact(signature):
        return SignatureCheck(signature, SignatureStatus.BINDING_BROKEN)
    audited = index.get(str(signature.uid))
    if audited is None or not audited.matches(signature):
        return SignatureCheck(signature, SignatureStatus.BINDING_BROKEN)
    if not registry.is_registered(signature.object_type):
        return SignatureCheck(signature, SignatureStatus.UNVERIFIABLE)
    try:
        current = contents.get(signature.object_type, signature.object_id)
    except LookupError:  # the model itself is gone
        return SignatureCheck(signature, SignatureStatus.UNVERIFIABLE)
    if current is None:
        return SignatureCheck(signature, SignatureStatus.RECORD_MISSING)
    digest, content = current
    if digest != signature.content_sha256:
        signed = json.loads(signature.content_json)
        return SignatureCheck(
            signature, SignatureStatus.CHANGED, tuple(changed_keys(signed, content))
        )
    return SignatureCheck(signature, SignatureStatus.VALID)


def check_many(
    signatures: Iterable[Signature], *, index: AuditIndex | None = None
) -> Iterator[SignatureCheck]:
    """Check several signatures, sharing the audit look-up and each record's content."""
    items = list(signatures)
    if index is None:
        index = audit_index({(s.object_type, s.object_id) for s in items})
    contents = _ContentCache()
    for signature in items:
        yield _check(signature, index, contents)


def check(signature: Signature) -> SignatureCheck:
    return next(check_many([signature]))


def verify(signature: Signature) -> SignatureStatus:
    """Recompute everything a signature is bound to, now."""
    return check(signature).status


def excised(index: AuditIndex, present_uids: Iterable[str]) -> list[AuditedSigning]:
    """Signings the audit trail records whose signature row is gone (11.70: never excised)."""
    present = set(present_uids)
    return sorted(
        (a for uid, a in index.items() if uid not in present),
        key=lambda a: (a.object_type, a.object_id, a.signed_at),
    )


def excised_for(object_type: str, object_id: str) -> list[AuditedSigning]:
    """Signings recorded for this record whose signature is no longer on it."""
    index = audit_index({(object_type, object_id)})
    present = Signature.objects.filter(object_type=object_type, object_id=object_id).values_list(
        "uid", flat=True
    )
    return excised(
        {
            uid: a
            for uid, a in index.items()
            if (a.object_type, a.object_id) == (object_type, object_id)
        },
        (str(uid) for uid in present),
    )


def check_all(
    *, index: AuditIndex | None = None, chunk_size: int = 2000
) -> Iterator[SignatureCheck]:
    """Every signature, for ``galenic signatures verify``."""
    index = audit_index() if index is None else index
    contents = _ContentCache()
    last: tuple[str, str] | None = None
    for signature in Signature.objects.order_by("object_type", "object_id", "id").iterator(
        chunk_size=chunk_size
    ):
        key = (signature.object_type, signature.object_id)
        if key != last:  # ordered by record: keep only the current record's content
            contents = _ContentCache()
            last = key
        yield _check(signature, index, contents)
