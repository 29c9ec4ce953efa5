"""Reads for exports: a record, its signatures and its audit events as plain, JSON-able data."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db.models import Q

from galenic.audit.chain import format_ts
from galenic.audit.models import AuditEvent
from galenic.core.errors import NotFound
from galenic.core.timefmt import format_datetime
from galenic.exports.records import EXPORT_ACTION_PREFIX, AuditData, SignatureData
from galenic.recipes.document.io import to_data
from galenic.recipes.models import MasterRecordVersion
from galenic.signatures.manifestation import manifestation
from galenic.signatures.models import Signature
from galenic.signatures.selectors import SignatureEntry, signatures_for
from galenic.signatures.verify import AuditIndex, audit_index, check_many

# Keeps each IN (...) list well below SQLite's and PostgreSQL's parameter limits.
_CHUNK = 900


def display_time(iso: str) -> str:
    """ISO 8601 UTC text (as exported) → local date-time with zone and offset."""
    if not iso:
        return ""
    return format_datetime(datetime.fromisoformat(iso.replace("Z", "+00:00")))


def iso(value: datetime | None) -> str | None:
    return format_ts(value) if value is not None else None


# --- signatures -------------------------------------------------------------------------


def signature_data(entry: SignatureEntry) -> SignatureData:
    s, m = entry.signature, entry.manifestation
    return SignatureData(
        uid=str(s.uid),
        object_type=s.object_type,
        object_id=s.object_id,
        meaning=s.meaning,
        meaning_label=m.meaning_label,
        printed_name=m.printed_name,
        user_id=m.user_id,
        signed_at=m.signed_at_utc,
        signed_at_text=m.signed_at_text,
        time_zone=m.time_zone,
        reason=m.reason,
        credentials=s.credentials,
        content_sha256=s.content_sha256,
        binding_sha256=s.binding_sha256,
        request_id=s.request_id,
        signer_pk=str(s.signer_id),
        text=m.as_text(),
        status=entry.status.value,
        status_label=entry.status.label,
    )


def signatures_of(object_type: str, object_id: str) -> list[SignatureData]:
    return [signature_data(e) for e in signatures_for(object_type, str(object_id))]


def signatures_of_many(
    objects: Mapping[str, Iterable[Any]],
    *,
    contents: Mapping[tuple[str, str], Mapping[str, Any]] | None = None,
) -> dict[tuple[str, str], list[SignatureData]]:
    """Signatures of many records at once ({object_type: ids}), each verified now, grouped by
    (object_type, object_id) in signing order. ``contents``: the current signed content of
    records the caller has already read (see ``signature_check``), so it is not read again."""
    found: list[Signature] = []
    for object_type, ids in objects.items():
        id_list = [str(i) for i in ids]
        for start in range(0, len(id_list), _CHUNK):
            found += list(
                Signature.objects.filter(
                    object_type=object_type.lower(), object_id__in=id_list[start : start + _CHUNK]
                )
            )
    found.sort(key=lambda s: (s.signed_at, s.pk))
    # signatures.verify.audit_index ORs one condition per record; in slices, SQLite's
    # expression depth limit (1000) is never reached however many steps a batch has.
    keys = sorted({(s.object_type, s.object_id) for s in found})
    index: AuditIndex = {}
    for start in range(0, len(keys), 200):
        index.update(audit_index(keys[start : start + 200]))
    grouped: dict[tuple[str, str], list[SignatureData]] = {}
    if contents:
        from galenic.exports.signature_check import check_signatures

        checks = check_signatures(found, index=index, contents=contents)
    else:
        checks = list(check_many(found, index=index))
    for check in checks:
        entry = SignatureEntry(
            check.signature, check.status, check.changed_fields, manifestation(check.signature)
        )
        key = (check.signature.object_type, check.signature.object_id)
        grouped.setdefault(key, []).append(signature_data(entry))
    return grouped


# --- audit events ---------------------------------------------------------------------------


def audit_data(event: AuditEvent) -> AuditData:
    return AuditData(
        seq=event.seq,
        occurred_at=format_ts(event.occurred_at),
        actor_id="" if event.actor_id is None else str(event.actor_id),
        actor_username=event.actor_username,
        actor_name=event.actor_name,
        category=event.category,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        object_repr=event.object_repr,
        old_values=event.old_values,
        new_values=event.new_values,
        reason=event.reason,
        request_id=event.request_id,
        source=event.source,
        prev_hash=event.prev_hash,
        hash=event.hash,
    )


def audit_events_for(objects: Mapping[str, Iterable[Any]]) -> list[AuditData]:
    """Audit events of the given records ({object_type: ids}) in chain order, without the
    events of exporting them (see ``records.EXPORT_ACTION_PREFIX``)."""
    events: dict[int, AuditEvent] = {}
    for object_type, ids in objects.items():
        id_list = [str(i) for i in ids]
        for start in range(0, len(id_list), _CHUNK):
            query = AuditEvent.objects.filter(
                object_type=object_type, object_id__in=id_list[start : start + _CHUNK]
            ).exclude(action__startswith=EXPORT_ACTION_PREFIX)
            for event in query:
                events[event.seq] = event
    return [audit_data(events[seq]) for seq in sorted(events)]


def audit_events_by_seq(seqs: Sequence[int]) -> dict[int, AuditEvent]:
    found: dict[int, AuditEvent] = {}
    for start in range(0, len(seqs), _CHUNK):
        for event in AuditEvent.objects.filter(seq__in=list(seqs[start : start + _CHUNK])):
            found[event.seq] = event
    return found


def signatures_by_uid(uids: Sequence[str]) -> dict[str, Signature]:
    found: dict[str, Signature] = {}
    for start in range(0, len(uids), _CHUNK):
        for s in Signature.objects.filter(uid__in=list(uids[start : start + _CHUNK])):
            found[str(s.uid)] = s
    return found


# --- master batch records ------------------------------------------------------------------------


def mbr_version(version_id: int) -> MasterRecordVersion:
    version = (
        MasterRecordVersion.objects.select_related("master", "created_by", "based_on")
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise NotFound(f"No master record version {version_id}.", field="version")
    return version


def mbr_version_by_code(code: str, number: int) -> MasterRecordVersion:
    version = (
        MasterRecordVersion.objects.select_related("master", "created_by", "based_on")
        .filter(master__code=code, version=number)
        .first()
    )
    if version is None:
        raise NotFound(f"MBR {code!r} has no version {number}.", field="version")
    return version


def mbr_record(version: MasterRecordVersion) -> dict[str, Any]:
    """Everything an MBR export shows, as plain data (the hashed record of ``mbr.mbr_report``)."""
    master = version.master
    version_label = version._meta.label_lower
    return {
        "format": "galenic.mbr-record/1",
        "master": {"code": master.code, "name": master.name},
        "version": {
            "id": version.pk,
            "version": version.version,
            "status": version.status,
            "status_label": str(version.get_status_display()),
            "content_hash": version.content_hash,
            "created_at": iso(version.created_at),
            "created_by": version.created_by.username,
            "created_by_name": version.created_by.full_name,
            "effective_at": iso(version.effective_at),
            "retired_at": iso(version.retired_at),
            "based_on": version.based_on.version if version.based_on else None,
            "change_reason": version.change_reason,
        },
        "document": to_data(version.document()),
        "signatures": [s.as_dict() for s in signatures_of(version_label, str(version.pk))],
        "audit": [
            e.as_dict()
            for e in audit_events_for(
                {version_label: [version.pk], master._meta.label_lower: [master.pk]}
            )
        ],
    }


def exports_of(object_type: str, object_id: str) -> list[AuditEvent]:
    """Who exported this record, when, in which format (the export audit events)."""
    return list(
        AuditEvent.objects.filter(
            Q(object_type=object_type, object_id=str(object_id)),
            action__startswith=EXPORT_ACTION_PREFIX,
        ).order_by("seq")
    )
