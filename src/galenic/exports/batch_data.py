"""Read a batch record (eBR) from the database into its export data (``galenic.batch-record/1``,
docs/exports.md): what the PDF shows, the JSON holds and the CSV lists, from one read."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from galenic.execution import selectors as execution
from galenic.execution.models import (
    Attachment,
    Batch,
    BatchException,
    Comment,
    Entry,
    EntryKind,
    ExceptionKind,
    StepExecution,
)
from galenic.exports.mbr import instructions_text, limits_text, numeric_limits_text
from galenic.exports.selectors import audit_events_for, iso, signatures_of_many
from galenic.exports.signature_check import step_contents
from galenic.quality.models import Deviation
from galenic.recipes.document.model import DataType
from galenic.review.models import BatchReview, ReviewItem
from galenic.review.selectors import summary as review_summary
from galenic.rules.numbers import plain

FORMAT = "galenic.batch-record/1"


def _user(user: Any) -> tuple[str | None, str | None]:
    return (user.username, user.full_name) if user is not None else (None, None)


def _json_or_text(text: str) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Limits:
    """The limits that applied to each entry in this batch (scaled to its size), as text."""

    def __init__(self, batch: Batch) -> None:
        self.flow = execution.flow_of(batch)
        self.doc = self.flow.doc
        self.steps = {ref.step.key: ref.step for ref in self.doc.walk_steps()}
        self.cache: dict[tuple[str, str, str], str] = {}
        self.names: dict[tuple[str, str, str], str] = {}

    def of(self, step_key: str, kind: str, key: str) -> str:
        cache_key = (step_key, kind, key)
        found = self.cache.get(cache_key)
        if found is None:
            found = self.cache[cache_key] = self._text(step_key, kind, key)
        return found

    def _text(self, step_key: str, kind: str, key: str) -> str:
        step = self.steps.get(step_key)
        if step is None:
            return ""
        if kind == EntryKind.MATERIAL:
            for target in self.flow.materials(step_key):
                if target.material == key:
                    quantity = f"{plain(target.quantity.magnitude)} {target.quantity.unit}"
                    limits = numeric_limits_text(target.limits) if target.limits else ""
                    return f"{quantity}" + (f" ({limits})" if limits else "")
            return ""
        param = step.parameter(key)
        if param is None:
            return ""
        if param.type is DataType.NUMBER:
            text = numeric_limits_text(self.flow.limits(step_key, key))
            return text + ("; calculated: " + param.expression if param.expression else "")
        return limits_text(param)

    def name(self, step_key: str, kind: str, key: str) -> str:
        cache_key = (step_key, kind, key)
        found = self.names.get(cache_key)
        if found is None:
            found = self.names[cache_key] = self._name(step_key, kind, key)
        return found

    def _name(self, step_key: str, kind: str, key: str) -> str:
        step = self.steps.get(step_key)
        if step is None:
            return key
        if kind == EntryKind.MATERIAL:
            component = self.doc.component(key)
            return component.name if component and component.name else key
        param = step.parameter(key)
        return (param.name or key) if param else key


def _places(batch: Batch) -> dict[str, tuple[str, str, str, str]]:
    """step key → (path "u.o.s", unit procedure title, operation title, instructions)."""
    doc = execution.document_of(batch)
    found = {}
    for ref in doc.walk_steps():
        u, o, s = ref.index
        found[ref.step.key] = (
            f"{u + 1}.{o + 1}.{s + 1}",
            ref.unit_procedure.title or ref.unit_procedure.key,
            ref.operation.title or ref.operation.key,
            instructions_text(ref.step.instructions),
        )
    return found


def _entry(
    entry: Entry, superseded_by: dict[int, int], limits: _Limits, step_key: str
) -> dict[str, Any]:
    by, by_name = _user(entry.recorded_by)
    return {
        "id": entry.pk,
        "kind": entry.kind,
        "key": entry.key,
        "name": limits.name(step_key, entry.kind, entry.key),
        "value": entry.value,
        "unit": entry.unit,
        "value_type": entry.value_type,
        "raw_value": entry.raw_value,
        "raw_unit": entry.raw_unit,
        "source": entry.source,
        "instrument_code": entry.instrument_code,
        "instrument_serial": entry.instrument_serial,
        "reading": _json_or_text(entry.reading),
        "limits": limits.of(step_key, entry.kind, entry.key),
        "outcome": entry.outcome,
        "severity": entry.severity,
        "evaluation": entry.evaluation,
        "limit_name": entry.limit_name,
        "limit_value": entry.limit_value,
        "calculation": _json_or_text(entry.calculation),
        "recorded_at": iso(entry.recorded_at),
        "recorded_by": by,
        "recorded_by_name": by_name,
        "observed_at": iso(entry.observed_at),
        "late": entry.late,
        "reason": entry.reason,
        "comment": entry.comment,
        "supersedes": entry.supersedes_id,
        "superseded_by": superseded_by.get(entry.pk),
        # Annex 11 §8.2: a value with more than one version (corrected, or a correction).
        "changed_after_first_entry": entry.supersedes_id is not None or entry.pk in superseded_by,
    }


def _comment(c: Comment) -> dict[str, Any]:
    by, name = _user(c.created_by)
    return {
        "id": c.pk,
        "entry": c.entry_id,
        "text": c.text,
        "created_at": iso(c.created_at),
        "created_by": by,
        "created_by_name": name,
    }


def _attachment(a: Attachment) -> dict[str, Any]:
    by, name = _user(a.created_by)
    return {
        "id": a.pk,
        "entry": a.entry_id,
        "filename": a.filename,
        "content_type": a.content_type,
        "size": a.size,
        "sha256": a.sha256,
        "description": a.description,
        "created_at": iso(a.created_at),
        "created_by": by,
        "created_by_name": name,
    }


def _step_label(step: StepExecution | None) -> str:
    if step is None:
        return ""
    return step.step_key if step.iteration == 1 else f"{step.step_key} (run {step.iteration})"


def _exceptions(
    batch: Batch, review: BatchReview | None, steps: dict[int, StepExecution]
) -> list[dict[str, Any]]:
    if review is not None:
        items = list(
            ReviewItem.objects.filter(review=review)
            .select_related("acknowledged_by")
            .order_by("occurred_at", "id")
        )
        result = []
        for i in items:
            by, name = _user(i.acknowledged_by)
            result.append(
                {
                    "id": i.pk,
                    "key": i.key,
                    "source": i.source,
                    "kind": i.kind,
                    "kind_label": i.kind_label,
                    "severity": i.severity,
                    "message": i.message,
                    "details": _json_or_text(i.details),
                    "where": _step_label(steps.get(i.step_id)) if i.step_id else "batch",
                    "step_id": i.step_id,
                    "entry_id": i.entry_id,
                    "audit_seq": i.audit_seq,
                    "occurred_at": iso(i.occurred_at),
                    "actor": i.actor_username or None,
                    "actor_name": i.actor_name or None,
                    "acknowledgement": {
                        "comment": i.acknowledgement,
                        "by": by,
                        "by_name": name,
                        "at": iso(i.acknowledged_at),
                    }
                    if i.acknowledged_at
                    else None,
                }
            )
        return result
    result = []
    for e in BatchException.objects.filter(batch=batch).select_related("actor").order_by("id"):
        actor, actor_name = _user(e.actor)
        try:
            label = str(ExceptionKind(e.kind).label)
        except ValueError:
            label = e.kind
        result.append(
            {
                "id": e.pk,
                "key": f"exception:{e.pk}",
                "source": "exception",
                "kind": e.kind,
                "kind_label": label,
                "severity": e.severity,
                "message": e.message,
                "details": _json_or_text(e.context),
                "where": _step_label(steps.get(e.step_id)) if e.step_id else "batch",
                "step_id": e.step_id,
                "entry_id": e.entry_id,
                "audit_seq": None,
                "occurred_at": iso(e.occurred_at),
                "actor": actor,
                "actor_name": actor_name,
                "acknowledgement": None,
            }
        )
    return result


def _deviation(d: Deviation) -> dict[str, Any]:
    by, name = _user(d.opened_by)
    closed_by, closed_name = _user(d.closed_by)
    return {
        "id": d.pk,
        "number": d.number,
        "source": d.source,
        "classification": d.classification,
        "classification_label": d.get_classification_display(),
        "status": d.status,
        "status_label": d.get_status_display(),
        "title": d.title,
        "description": d.description,
        "step_id": d.step_id,
        "entry_id": d.entry_id,
        "exception_id": d.exception_id,
        "opened_at": iso(d.opened_at),
        "opened_by": by,
        "opened_by_name": name,
        "investigation": d.investigation,
        "conclusion": d.conclusion,
        "closed_at": iso(d.closed_at),
        "closed_by": closed_by,
        "closed_by_name": closed_name,
    }


def batch_record(batch: Batch) -> dict[str, Any]:
    """The complete batch record as export data (JSON-able; the hashed record)."""
    batch = Batch.objects.select_related(
        "created_by", "started_by", "completed_by", "released_to_floor_by"
    ).get(pk=batch.pk)
    doc = execution.document_of(batch)
    limits = _Limits(batch)
    places = _places(batch)
    steps = list(
        StepExecution.objects.filter(batch=batch)
        .select_related("started_by", "performed_by", "verified_by", "approved_by")
        .order_by("position", "iteration", "id")
    )
    by_id = {s.pk: s for s in steps}
    entries = list(Entry.objects.filter(batch=batch).select_related("recorded_by").order_by("id"))
    superseded_by = {e.supersedes_id: e.pk for e in entries if e.supersedes_id}
    entries_of: dict[int, list[Entry]] = defaultdict(list)
    for e in entries:
        entries_of[e.step_id].append(e)
    comments_of: dict[int | None, list[Comment]] = defaultdict(list)
    for c in Comment.objects.filter(batch=batch).select_related("created_by").order_by("id"):
        comments_of[c.step_id].append(c)
    attachments_of: dict[int | None, list[Attachment]] = defaultdict(list)
    for a in Attachment.objects.filter(batch=batch).select_related("created_by").order_by("id"):
        attachments_of[a.step_id].append(a)
    review = (
        BatchReview.objects.filter(batch=batch)
        .select_related("reviewed_by", "disposition_by")
        .first()
    )
    deviations = list(
        Deviation.objects.filter(batch=batch)
        .select_related("opened_by", "closed_by")
        .order_by("id")
    )
    items = (
        list(ReviewItem.objects.filter(review=review).values_list("pk", flat=True))
        if review
        else []
    )
    signed = signatures_of_many(
        {
            "execution.batch": [batch.pk],
            "execution.stepexecution": list(by_id),
            "review.batchreview": [review.pk] if review else [],
            "quality.deviation": [d.pk for d in deviations],
        },
        contents=step_contents(batch, steps, entries),
    )

    def sigs(object_type: str, pk: Any) -> list[dict[str, str]]:
        return [s.as_dict() for s in signed.get((object_type, str(pk)), [])]

    step_rows = []
    for step in steps:
        path, up, op, instructions = places.get(step.step_key, ("", "", "", ""))
        duration = ""
        if step.started_at and step.performed_at:
            seconds = int((step.performed_at - step.started_at).total_seconds())
            duration = f"{seconds // 60} min {seconds % 60} s"
        row: dict[str, Any] = {
            "id": step.pk,
            "key": step.step_key,
            "iteration": step.iteration,
            "position": step.position,
            "path": path,
            "title": step.title,
            "unit_procedure": up,
            "operation": op,
            "instructions": instructions,
            "status": step.status,
            "status_label": step.get_status_display(),
            "reason": step.reason,
            "opened_at": iso(step.opened_at),
            "completed_at": iso(step.completed_at),
            "duration": duration,
            "verification_required": step.verification_required,
            "approval_required": step.approval_required,
        }
        for name in ("started", "performed", "verified", "approved"):
            user, full = _user(getattr(step, f"{name}_by"))
            row[f"{name}_at"] = iso(getattr(step, f"{name}_at"))
            row[f"{name}_by"] = user
            row[f"{name}_by_name"] = full
        row["entries"] = [
            _entry(e, superseded_by, limits, step.step_key) for e in entries_of.get(step.pk, [])
        ]
        row["comments"] = [_comment(c) for c in comments_of.get(step.pk, [])]
        row["attachments"] = [_attachment(a) for a in attachments_of.get(step.pk, [])]
        row["signatures"] = sigs("execution.stepexecution", step.pk)
        step_rows.append(row)

    deviation_rows = []
    for d in deviations:
        data = _deviation(d)
        data["signatures"] = sigs("quality.deviation", d.pk)
        deviation_rows.append(data)
    exceptions = _exceptions(batch, review, by_id)
    review_data: dict[str, Any] = {}
    if review is not None:
        reviewer, reviewer_name = _user(review.reviewed_by)
        approver, approver_name = _user(review.disposition_by)
        review_data = {
            "status": review.status,
            "status_label": review.get_status_display(),
            "disposition_label": {
                "released": "RELEASED",
                "rejected": "REJECTED",
            }.get(review.status, "pending QA disposition"),
            "summary": review_summary(batch, review),
            "built_at": iso(review.built_at),
            "reviewed_at": iso(review.reviewed_at),
            "reviewed_by": reviewer,
            "reviewed_by_name": reviewer_name,
            "disposition_at": iso(review.disposition_at),
            "disposition_by": approver,
            "disposition_by_name": approver_name,
            "disposition_reason": review.disposition_reason,
            "signatures": sigs("review.batchreview", review.pk),
        }
    created, created_name = _user(batch.created_by)
    started, started_name = _user(batch.started_by)
    completed, completed_name = _user(batch.completed_by)
    floor, floor_name = _user(batch.released_to_floor_by)
    audit = audit_events_for(
        {
            "execution.batch": [batch.pk, batch.number],  # refusals name the batch by number
            "execution.stepexecution": list(by_id),
            "execution.entry": [e.pk for e in entries],
            "execution.batchexception": list(
                BatchException.objects.filter(batch=batch).values_list("pk", flat=True)
            ),
            "execution.comment": [c.pk for cs in comments_of.values() for c in cs],
            "execution.attachment": [a.pk for as_ in attachments_of.values() for a in as_],
            "quality.deviation": [d.pk for d in deviations],
            "review.batchreview": [review.pk] if review else [],
            "review.reviewitem": items,
        }
    )
    record = {
        "format": FORMAT,
        "batch": {
            "id": batch.pk,
            "number": batch.number,
            "status": batch.status,
            "status_label": batch.get_status_display(),
            "product_name": batch.product_name,
            "mbr_code": batch.mbr_code,
            "mbr_version": batch.mbr_version,
            "document_hash": batch.document_hash,
            "batch_size": batch.batch_size,
            "created_at": iso(batch.created_at),
            "created_by": created,
            "created_by_name": created_name,
            "released_to_floor_at": iso(batch.released_to_floor_at),
            "released_to_floor_by": floor,
            "released_to_floor_by_name": floor_name,
            "started_at": iso(batch.started_at),
            "started_by": started,
            "started_by_name": started_name,
            "completed_at": iso(batch.completed_at),
            "completed_by": completed,
            "completed_by_name": completed_name,
            "hold_reason": batch.hold_reason,
            "yield": {
                "actual": batch.actual_yield,
                "theoretical": batch.theoretical_yield,
                "percent": None if batch.yield_percent is None else plain(batch.yield_percent),
                "within_limits": batch.yield_within_limits,
            },
        },
        "product": {
            "name": doc.product.name,
            "strength": doc.product.strength,
            "dosage_form": doc.product.dosage_form,
        },
        "signatures": sigs("execution.batch", batch.pk),
        "review": review_data,
        "exceptions": exceptions,
        "deviations": deviation_rows,
        "steps": step_rows,
        "comments": [_comment(c) for c in comments_of.get(None, [])],
        "attachments": [_attachment(a) for a in attachments_of.get(None, [])],
        "audit": [e.as_dict() for e in audit],
    }
    record["counts"] = {
        "steps": len(step_rows),
        "entries": len(entries),
        "exceptions": len(exceptions),
        "deviations": len(deviation_rows),
        "signatures": sum(len(v) for v in signed.values()),
        "audit_events": len(audit),
    }
    return record


CSV_COLUMNS = (
    "batch",
    "step_path",
    "step_key",
    "iteration",
    "step_title",
    "entry_id",
    "kind",
    "key",
    "name",
    "value",
    "unit",
    "raw_value",
    "raw_unit",
    "source",
    "instrument_code",
    "instrument_serial",
    "limits",
    "outcome",
    "severity",
    "evaluation",
    "recorded_at",
    "recorded_by",
    "recorded_by_name",
    "late",
    "observed_at",
    "supersedes",
    "superseded_by",
    "changed_after_first_entry",
    "reason",
    "comment",
)


def csv_rows(record: dict[str, Any]) -> list[list[Any]]:
    """One row per entry (CSV_COLUMNS), from the export data."""
    rows = []
    number = record["batch"]["number"]
    for step in record["steps"]:
        for e in step["entries"]:
            rows.append(
                [
                    number,
                    step["path"],
                    step["key"],
                    step["iteration"],
                    step["title"],
                    e["id"],
                    e["kind"],
                    e["key"],
                    e["name"],
                    e["value"],
                    e["unit"],
                    e["raw_value"],
                    e["raw_unit"],
                    e["source"],
                    e["instrument_code"],
                    e["instrument_serial"],
                    e["limits"],
                    e["outcome"],
                    e["severity"],
                    e["evaluation"],
                    e["recorded_at"],
                    e["recorded_by"],
                    e["recorded_by_name"],
                    "yes" if e["late"] else "no",
                    e["observed_at"] or "",
                    e["supersedes"] or "",
                    e["superseded_by"] or "",
                    "yes" if e["changed_after_first_entry"] else "no",
                    e["reason"],
                    e["comment"],
                ]
            )
    return rows
