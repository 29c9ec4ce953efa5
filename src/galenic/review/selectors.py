"""Reads for review by exception: the exception report's candidates, the summary of what was
verified automatically, who executed a batch, and what a review signature covers."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from django.db.models import Count, Q, QuerySet

from galenic.audit.models import AuditEvent
from galenic.core.errors import NotFound
from galenic.execution.models import (
    Attachment,
    Batch,
    BatchException,
    Comment,
    Entry,
    ExceptionKind,
    StepExecution,
    StepStatus,
)
from galenic.quality.models import Deviation
from galenic.review import rules
from galenic.review.models import BatchReview, ItemSource, ReviewItem

REVIEWABLE = ("completed", "in_review", "released", "rejected")
_CHUNK = 900


def get_batch(number: str) -> Batch:
    batch = Batch.objects.filter(number=number).first()
    if batch is None:
        raise NotFound(f"No batch {number}.", field="batch")
    return batch


def review_of(batch: Batch) -> BatchReview | None:
    return BatchReview.objects.filter(batch=batch).first()


def items_of(review: BatchReview) -> QuerySet[ReviewItem]:
    return review.items.select_related("step", "entry", "acknowledged_by").order_by(
        "occurred_at", "id"
    )


def reviews(*, status: str | None = None) -> QuerySet[Batch]:
    """Batches that can be reviewed, newest first, with their review (if built)."""
    batches = Batch.objects.filter(status__in=REVIEWABLE).select_related("review")
    if status:
        batches = batches.filter(status=status)
    return batches.order_by("-completed_at", "-id")


# --- who executed the batch ------------------------------------------------------------------


def executors(batch: Batch) -> set[int]:
    """Everyone who started, performed, verified, approved or recorded anything in the batch."""
    people: set[int] = {pk for pk in (batch.started_by_id, batch.completed_by_id) if pk}
    for row in StepExecution.objects.filter(batch=batch).values_list(
        "started_by_id", "performed_by_id", "verified_by_id", "approved_by_id"
    ):
        people.update(pk for pk in row if pk)
    people.update(
        Entry.objects.filter(batch=batch).values_list("recorded_by_id", flat=True).distinct()
    )
    return people


# --- the exception report ------------------------------------------------------------------------


def _label(kind: str) -> str:
    try:
        return str(ExceptionKind(kind).label)
    except ValueError:
        return kind.replace("_", " ").capitalize()


def _step_label(step: StepExecution | None) -> str:
    if step is None:
        return ""
    return step.step_key if step.iteration == 1 else f"{step.step_key} (run {step.iteration})"


def completion_event(batch: Batch) -> tuple[int, str]:
    """(seq, request id) of the batch's completion in the audit trail; (0, "") if none."""
    event = (
        AuditEvent.objects.filter(
            object_type="execution.batch",
            object_id=str(batch.pk),
            action="execution.batch.complete",
        )
        .order_by("-seq")
        .values_list("seq", "request_id")
        .first()
    )
    return (int(event[0]), str(event[1])) if event else (0, "")


def batch_objects(batch: Batch) -> dict[str, list[Any]]:
    """The batch's records by audit object type (what its audit trail is made of)."""
    return {
        # Refused attempts are recorded against the batch number, everything else its id.
        "execution.batch": [batch.pk, batch.number],
        "execution.stepexecution": list(
            StepExecution.objects.filter(batch=batch).values_list("pk", flat=True)
        ),
        "execution.entry": list(Entry.objects.filter(batch=batch).values_list("pk", flat=True)),
        "execution.batchexception": list(
            BatchException.objects.filter(batch=batch).values_list("pk", flat=True)
        ),
        "execution.comment": list(Comment.objects.filter(batch=batch).values_list("pk", flat=True)),
        "execution.attachment": list(
            Attachment.objects.filter(batch=batch).values_list("pk", flat=True)
        ),
    }


def events_after_completion(batch: Batch) -> list[AuditEvent]:
    completion_seq, completion_request = completion_event(batch)
    if not completion_seq:
        return []
    found: list[AuditEvent] = []
    for object_type, ids in batch_objects(batch).items():
        id_list = [str(i) for i in ids]
        for start in range(0, len(id_list), _CHUNK):
            found += list(
                AuditEvent.objects.filter(
                    object_type=object_type,
                    object_id__in=id_list[start : start + _CHUNK],
                    seq__gt=completion_seq,
                )
            )
    return sorted(
        (
            e
            for e in found
            if rules.needs_a_look(
                action=e.action,
                seq=e.seq,
                request_id=e.request_id,
                completion_seq=completion_seq,
                completion_request=completion_request,
            )
        ),
        key=lambda e: e.seq,
    )


def candidates(batch: Batch, review: BatchReview) -> list[ReviewItem]:
    """Everything that needs judgement now, as unsaved items (the service adds the new ones)."""
    items: list[ReviewItem] = []
    for e in (
        BatchException.objects.filter(batch=batch).select_related("step", "actor").order_by("id")
    ):
        items.append(
            ReviewItem(
                review=review,
                key=f"exception:{e.pk}",
                source=ItemSource.EXCEPTION,
                kind=e.kind,
                kind_label=_label(e.kind),
                severity=e.severity,
                message=e.message,
                details=e.context,
                step_id=e.step_id,
                entry_id=e.entry_id,
                exception=e,
                occurred_at=e.occurred_at,
                actor_username=e.actor.username if e.actor else "",
                actor_name=e.actor.full_name if e.actor else "",
            )
        )
    for d in Deviation.objects.filter(batch=batch).select_related("opened_by").order_by("id"):
        items.append(
            ReviewItem(
                review=review,
                key=f"deviation:{d.pk}",
                source=ItemSource.DEVIATION,
                kind="deviation",
                kind_label="Deviation",
                severity=d.classification,
                message=f"{d.number or 'Deviation'}: {d.title}",
                details=json.dumps(
                    {
                        "classification": d.classification,
                        "source": d.source,
                        "description": d.description,
                    },
                    ensure_ascii=False,
                ),
                step_id=d.step_id,
                entry_id=d.entry_id,
                deviation=d,
                occurred_at=d.opened_at,
                actor_username=d.opened_by.username,
                actor_name=d.opened_by.full_name,
            )
        )
    steps = {}
    entries = {}
    for event in events_after_completion(batch):
        if event.object_type == "execution.stepexecution":
            steps[event.seq] = int(event.object_id)
        elif event.object_type == "execution.entry":
            entries[event.seq] = int(event.object_id)
        items.append(
            ReviewItem(
                review=review,
                key=f"audit:{event.seq}",
                source=ItemSource.AUDIT,
                kind="changed_after_completion",
                kind_label="Recorded after the batch was completed",
                severity="info",
                message=f"{event.action} on {event.object_repr or event.object_type + ':' + event.object_id}"
                + (f" (reason: {event.reason})" if event.reason else ""),
                details=json.dumps(
                    {
                        "old": event.old_values,
                        "new": event.new_values,
                        "object_type": event.object_type,
                        "object_id": event.object_id,
                    },
                    ensure_ascii=False,
                ),
                step_id=steps.get(event.seq),
                entry_id=entries.get(event.seq),
                audit_seq=event.seq,
                occurred_at=event.occurred_at,
                actor_username=event.actor_username,
                actor_name=event.actor_name,
            )
        )
    if entries:  # an audit event on an entry: link its step too
        step_of = dict(
            Entry.objects.filter(pk__in=set(entries.values())).values_list("pk", "step_id")
        )
        for item in items:
            if item.entry_id and not item.step_id:
                item.step_id = step_of.get(item.entry_id)
    return items


def summary(batch: Batch, review: BatchReview | None = None) -> dict[str, int]:
    """What was verified automatically against specification, and what needed judgement."""
    current = Entry.objects.filter(batch=batch, superseded_by__isnull=True)
    counts = current.aggregate(
        values=Count("id"),
        in_spec=Count("id", filter=Q(severity="none")),
    )
    steps = StepExecution.objects.filter(batch=batch)
    ended = steps.filter(status__in=[StepStatus.COMPLETED, StepStatus.SKIPPED])
    flagged_steps: set[int] = set()
    item_count = acknowledged = 0
    if review is not None:
        for step_id, ack in review.items.values_list("step_id", "acknowledged_at"):
            item_count += 1
            acknowledged += ack is not None
            if step_id:
                flagged_steps.add(step_id)
    else:
        flagged_steps = set(
            BatchException.objects.filter(batch=batch, step__isnull=False).values_list(
                "step_id", flat=True
            )
        )
    step_ids = set(ended.values_list("pk", flat=True))
    return {
        "steps": steps.count(),
        "steps_verified": len(step_ids - flagged_steps),
        "steps_with_exceptions": len(step_ids & flagged_steps),
        "values": counts["values"] or 0,
        "values_verified": counts["in_spec"] or 0,
        "exceptions": item_count,
        "acknowledged": acknowledged,
    }


def open_deviations(batch: Batch) -> list[rules.OpenDeviation]:
    return [
        rules.OpenDeviation(
            number=d.number or f"(id {d.pk})", classification=d.classification, status=d.status
        )
        for d in Deviation.objects.filter(batch=batch).exclude(status="closed")
    ]


# --- what a review signature covers -----------------------------------------------------------


def entries_digest(batch: Batch) -> str:
    """SHA-256 over every entry of the batch (id, value, unit, what it corrects): a value changed
    after the review shows the review signature as changed after signing."""
    digest = hashlib.sha256()
    for row in (
        Entry.objects.filter(batch=batch)
        .order_by("id")
        .values_list("id", "key", "value", "unit", "supersedes_id")
    ):
        digest.update(json.dumps(row, default=str).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def review_content(review: BatchReview) -> dict[str, Any]:
    """What the reviewer (and the releaser) vouch for: the batch, every exception with its
    acknowledgement, and the batch's data. Not the review's status, which moves on legitimately."""
    batch = review.batch
    return {
        "batch": batch.number,
        "document_hash": batch.document_hash,
        "items": [
            [
                i.key,
                i.kind,
                i.acknowledged_by.username if i.acknowledged_by else None,
                i.acknowledgement,
            ]
            for i in review.items.select_related("acknowledged_by").order_by("key")
        ],
        "entries_sha256": entries_digest(batch),
    }


def audit_trail_of_item(item: ReviewItem) -> list[AuditEvent]:
    """The audit events of an item's records: its step, its entry, the exception or deviation."""
    condition = Q(pk__in=[])
    pairs: Iterable[tuple[str, Any]] = (
        ("execution.stepexecution", item.step_id),
        ("execution.entry", item.entry_id),
        ("execution.batchexception", item.exception_id),
        ("quality.deviation", item.deviation_id),
        ("review.reviewitem", item.pk),
    )
    for object_type, object_id in pairs:
        if object_id:
            condition |= Q(object_type=object_type, object_id=str(object_id))
    if item.audit_seq:
        condition |= Q(seq=item.audit_seq)
    return list(AuditEvent.objects.filter(condition).order_by("seq"))
