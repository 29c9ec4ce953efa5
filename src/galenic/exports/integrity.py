"""Checks on an exported record that need nothing but the file (no database, no Django).

An export file (``galenic.export/1``) holds the record's data and its SHA-256, the audit events
of the record with the fields their chain hashes cover, and every signature with the fields its
binding hash covers. From the file alone we can tell:

- whether the record data still hashes to the hash printed on the PDF and stored in the file;
- whether each audit event still hashes to its chain hash, and consecutive events still link;
- whether each signature's fields still hash to its binding hash, and agree with the signing
  event the audit trail recorded for it.

``galenic.exports.verify`` adds the checks against the live system (same events, same
signatures, and a field-by-field comparison with the record as the database holds it now).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from galenic.audit.chain import event_hash
from galenic.exports.records import AuditData, SignatureData, record_sha256
from galenic.signatures.binding import BindingFields, binding_sha256

ENVELOPE_FORMAT = "galenic.export/1"
KINDS = ("batch-record", "mbr-record")


@dataclass(frozen=True)
class Finding:
    """One difference: where (a JSON path in the record, or an audit seq/signature uid) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class ExportUnreadable(ValueError):
    """The file is not an export this version of Galenic can read."""


def envelope(
    *,
    kind: str,
    record: Mapping[str, Any],
    exported_at: str,
    exported_by: str,
    system: Mapping[str, Any],
) -> dict[str, Any]:
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}")
    return {
        "format": ENVELOPE_FORMAT,
        "kind": kind,
        "exported_at": exported_at,
        "exported_by": exported_by,
        "system": dict(system),
        "record_sha256": record_sha256(record),
        "record": record,
    }


def dumps(data: Mapping[str, Any]) -> str:
    """The export's JSON text: readable (indented), Decimals and datetimes as text."""

    def default(value: Any) -> str:
        if isinstance(value, datetime):
            from galenic.audit.chain import format_ts

            return format_ts(value)
        if isinstance(value, Decimal):
            return str(value)
        raise TypeError(f"cannot export {type(value).__name__}")

    return json.dumps(data, indent=1, ensure_ascii=False, default=default) + "\n"


def loads(text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ExportUnreadable(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("format") != ENVELOPE_FORMAT:
        raise ExportUnreadable(f"not a Galenic export (expected format {ENVELOPE_FORMAT!r})")
    if data.get("kind") not in KINDS:
        raise ExportUnreadable(f"unknown export kind {data.get('kind')!r}")
    if not isinstance(data.get("record"), dict):
        raise ExportUnreadable("the export has no record")
    return data


def _audit_events(record: Mapping[str, Any]) -> Iterator[tuple[str, AuditData]]:
    for n, raw in enumerate(record.get("audit") or []):
        yield f"audit[{n}]", AuditData.from_dict(raw)


def signatures_in(record: Any, path: str = "") -> Iterator[tuple[str, SignatureData]]:
    """Every signature anywhere in the record (lists under a key named "signatures")."""
    if isinstance(record, Mapping):
        for key, value in record.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "signatures" and isinstance(value, list):
                for n, raw in enumerate(value):
                    if isinstance(raw, Mapping):
                        yield f"{here}[{n}]", SignatureData.from_dict(raw)
            else:
                yield from signatures_in(value, here)
    elif isinstance(record, list):
        for n, value in enumerate(record):
            yield from signatures_in(value, f"{path}[{n}]")


def signature_binding(sig: SignatureData) -> str:
    return binding_sha256(
        BindingFields(
            uid=sig.uid,
            signer_pk=sig.signer_pk,
            signer_user_id=sig.user_id,
            signer_name=sig.printed_name,
            meaning=sig.meaning,
            signed_at=datetime.fromisoformat(sig.signed_at.replace("Z", "+00:00")),
            time_zone=sig.time_zone,
            object_type=sig.object_type,
            object_id=sig.object_id,
            content_sha256=sig.content_sha256,
            reason=sig.reason,
            request_id=sig.request_id,
            credentials=sig.credentials,
        )
    )


def file_checks(data: Mapping[str, Any]) -> list[Finding]:
    """Everything that can be checked from the file alone."""
    findings: list[Finding] = []
    record = data["record"]
    if record_sha256(record) != data.get("record_sha256"):
        findings.append(
            Finding(
                "record",
                "the record data no longer hashes to the export's record_sha256 (the file was "
                "changed after export)",
            )
        )
    previous: AuditData | None = None
    signings: dict[str, dict[str, Any]] = {}
    for where, event in _audit_events(record):
        if event_hash(event.prev_hash, event.hashed_fields()) != event.hash:
            findings.append(
                Finding(
                    f"{where} (audit event #{event.seq})",
                    "its fields no longer match its chain hash",
                )
            )
        if (
            previous is not None
            and event.seq == previous.seq + 1
            and event.prev_hash != previous.hash
        ):
            findings.append(
                Finding(f"{where} (audit event #{event.seq})", "does not link to event before it")
            )
        if event.action == "signatures.sign":
            try:
                values = json.loads(event.new_values or "{}")
            except ValueError:
                values = {}
            if isinstance(values, dict) and values.get("signature_uid"):
                signings[str(values["signature_uid"])] = values
        previous = event
    for where, sig in signatures_in(record):
        try:
            binding = signature_binding(sig)
        except ValueError:
            findings.append(Finding(where, "the signature's date-time is not readable"))
            continue
        if binding != sig.binding_sha256:
            findings.append(
                Finding(
                    f"{where} (signature {sig.uid})",
                    "its fields no longer match its binding hash (name, meaning, time or record "
                    "changed)",
                )
            )
        audited = signings.get(sig.uid)
        if audited is not None and audited.get("binding_sha256") != sig.binding_sha256:
            findings.append(
                Finding(
                    f"{where} (signature {sig.uid})",
                    "differs from the signing recorded in the audit trail",
                )
            )
    return findings


def compare(file_value: Any, system_value: Any, path: str = "") -> Iterator[Finding]:
    """Every difference between the record in the file and the record as the system holds it."""
    if isinstance(file_value, Mapping) and isinstance(system_value, Mapping):
        for key in sorted(set(file_value) | set(system_value), key=str):
            here = f"{path}.{key}" if path else str(key)
            if key not in system_value:
                yield Finding(here, "in the file but not in the system")
            elif key not in file_value:
                yield Finding(here, "in the system but missing from the file")
            else:
                yield from compare(file_value[key], system_value[key], here)
    elif isinstance(file_value, list) and isinstance(system_value, list):
        for n in range(max(len(file_value), len(system_value))):
            here = f"{path}[{n}]"
            if n >= len(system_value):
                yield Finding(here, "in the file but not in the system")
            elif n >= len(file_value):
                yield Finding(here, "in the system but missing from the file")
            else:
                yield from compare(file_value[n], system_value[n], here)
    elif file_value != system_value:
        yield Finding(
            path or "record", f"file has {_show(file_value)}, system has {_show(system_value)}"
        )


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


__all__ = [
    "ENVELOPE_FORMAT",
    "KINDS",
    "ExportUnreadable",
    "Finding",
    "compare",
    "dumps",
    "envelope",
    "file_checks",
    "loads",
    "signatures_in",
]
