"""Verify an exported record (``galenic export verify FILE.json``).

First what the file alone can show (``integrity.file_checks``: record hash, audit-event chain
hashes, signature binding hashes), then, against this system:

- each audit event in the file is the event the system's hash-chained trail holds at that
  sequence number (same hash); the trail itself is checked by ``galenic audit verify``;
- each signature in the file is a signature the system holds (same binding hash);
- the record rebuilt from the database now equals the record in the file, field by field; every
  difference is named by its path (e.g. ``steps[3].entries[1].value: file has "12.5", system
  has "12.4"``). Audit events recorded after the export are reported as such.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from galenic.exports import integrity, selectors
from galenic.exports.integrity import Finding
from galenic.exports.records import AuditData, to_jsonable

Rebuild = Callable[[Mapping[str, Any]], dict[str, Any]]


def _rebuild_mbr(record: Mapping[str, Any]) -> dict[str, Any]:
    return selectors.mbr_record(selectors.mbr_version(int(record["version"]["id"])))


def _rebuild_batch(record: Mapping[str, Any]) -> dict[str, Any]:
    from galenic.execution.models import Batch
    from galenic.exports.batch_data import batch_record

    return batch_record(Batch.objects.get(pk=int(record["batch"]["id"])))


REBUILDERS: dict[str, Rebuild] = {"mbr-record": _rebuild_mbr, "batch-record": _rebuild_batch}


def register_rebuilder(kind: str, rebuild: Rebuild) -> None:
    REBUILDERS[kind] = rebuild


@dataclass
class Verification:
    kind: str
    record_sha256: str
    against_system: bool
    findings: list[Finding] = field(default_factory=list)
    audit_events: int = 0
    signatures: int = 0

    @property
    def ok(self) -> bool:
        return not self.findings


def verify(data: Mapping[str, Any], *, against_system: bool = True) -> Verification:
    """Check an export envelope (as read by ``integrity.loads``)."""
    record = data["record"]
    events = [AuditData.from_dict(e) for e in record.get("audit") or []]
    signatures = list(integrity.signatures_in(record))
    result = Verification(
        kind=str(data["kind"]),
        record_sha256=str(data.get("record_sha256", "")),
        against_system=against_system,
        audit_events=len(events),
        signatures=len(signatures),
    )
    result.findings += integrity.file_checks(data)
    if not against_system:
        return result

    stored = selectors.audit_events_by_seq([e.seq for e in events])
    for n, event in enumerate(events):
        row = stored.get(event.seq)
        if row is None:
            result.findings.append(
                Finding(
                    f"audit[{n}] (audit event #{event.seq})", "not in this system's audit trail"
                )
            )
        elif row.hash != event.hash:
            result.findings.append(
                Finding(
                    f"audit[{n}] (audit event #{event.seq})",
                    "differs from the event this system's audit trail holds at that number",
                )
            )
    held = selectors.signatures_by_uid([s.uid for _, s in signatures])
    for where, sig in signatures:
        signature = held.get(sig.uid)
        if signature is None:
            result.findings.append(
                Finding(f"{where} (signature {sig.uid})", "not held by this system")
            )
        elif signature.binding_sha256 != sig.binding_sha256:
            result.findings.append(
                Finding(
                    f"{where} (signature {sig.uid})", "differs from the signature this system holds"
                )
            )

    rebuild = REBUILDERS.get(result.kind)
    if rebuild is None:
        result.findings.append(
            Finding("kind", f"this system cannot rebuild a {result.kind!r} record")
        )
        return result
    try:
        current = to_jsonable(rebuild(record))
    except Exception as exc:  # the record is gone, or the file names one that never existed
        message = getattr(exc, "message", None) or str(exc)
        result.findings.append(Finding("record", f"cannot be read from this system: {message}"))
        return result
    file_audit = len(record.get("audit") or [])
    for finding in integrity.compare(record, current):
        if finding.where.startswith("audit[") and finding.message.startswith("in the system"):
            index = int(finding.where[6 : finding.where.index("]")])
            if index >= file_audit:
                later = current["audit"][index]
                finding = Finding(
                    finding.where,
                    f"audit event #{later['seq']} ({later['action']}) was recorded after this export",
                )
        result.findings.append(finding)
    return result


__all__ = ["REBUILDERS", "Verification", "register_rebuilder", "verify"]
