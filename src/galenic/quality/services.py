"""Deviation services: open, classify, investigate, close (signed). Every change is audited.

``raise_deviation`` is for other contexts (execution) that open a deviation as a consequence of
an action they have already authorised (an action-limit excursion recorded by an operator): it
runs inside their transaction and checks no permission of its own. People open deviations by
hand through ``open_deviation``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from galenic.accounts.permissions import require
from galenic.audit import services as audit
from galenic.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.quality.models import (
    Classification,
    Deviation,
    DeviationSource,
    DeviationStatus,
)
from galenic.signatures import services as signatures
from galenic.signatures.models import Meaning
from galenic.signatures.services import SignerAuthority

MAX_TITLE = 200
MAX_TEXT = 20000


def _text(value: str, field: str, *, limit: int = MAX_TEXT, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationFailed(f"{field.replace('_', ' ').capitalize()} is required.", field=field)
    if len(value) > limit:
        raise ValidationFailed(f"At most {limit} characters.", field=field)
    return value


def _classification(value: str) -> str:
    if value not in Classification.values:
        raise ValidationFailed(
            f"Classification must be one of: {', '.join(Classification.values)}.",
            field="classification",
        )
    return value


def _values(d: Deviation) -> dict[str, Any]:
    return {
        "number": d.number,
        "batch": d.batch.number if d.batch_id and d.batch else None,
        "step": d.step.step_key if d.step_id and d.step else None,
        "entry": d.entry_id,
        "source": d.source,
        "classification": d.classification,
        "status": d.status,
        "title": d.title,
        "description": d.description,
    }


def raise_deviation(
    *,
    actor: Any,
    title: str,
    description: str,
    source: str,
    classification: str = Classification.MAJOR,
    batch: Any = None,
    step: Any = None,
    entry: Any = None,
    exception: Any = None,
) -> Deviation:
    """Open a deviation inside the caller's transaction (the caller has checked permission).

    Opened automatically as *major* until QA classifies it: an excursion nobody has judged yet
    must block release, not slip through as minor.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("raise_deviation must run inside the caller's transaction")
    now = utcnow()
    deviation = Deviation(
        batch=batch,
        step=step,
        entry=entry,
        exception=exception,
        source=source,
        classification=_classification(classification),
        title=title[:MAX_TITLE],
        description=description,
        opened_at=now,
        opened_by=actor,
    )
    deviation.save(force_insert=True)
    # The number follows the row id, so concurrent openings never collide.
    deviation.number = f"DEV-{now:%Y}-{deviation.pk:05d}"
    deviation.save(update_fields=["number"])
    audit.record(
        actor=actor, action="quality.deviation.open", obj=deviation, new=_values(deviation)
    )
    return deviation


def open_deviation(
    *,
    actor: Any,
    title: str,
    description: str,
    classification: str = Classification.MAJOR,
    batch_number: str | None = None,
    step_key: str | None = None,
    entry_id: int | None = None,
) -> Deviation:
    """A person reports a deviation, optionally on a batch, step or entry."""
    require(actor, "quality.open")
    title = _text(title, "title", limit=MAX_TITLE)
    description = _text(description, "description")
    classification = _classification(classification)
    from galenic.execution import services as execution

    with transaction.atomic():
        batch = step = entry = None
        if batch_number:
            batch, step, entry = execution.locate(
                number=batch_number, step_key=step_key, entry_id=entry_id
            )
        elif step_key or entry_id:
            raise ValidationFailed("Name the batch of the step or entry.", field="batch")
        exception = None
        if batch is not None:
            exception = execution.note_exception(
                actor=actor,
                batch=batch,
                step=step,
                entry=entry,
                kind="deviation",
                severity="action",
                message=f"Deviation reported: {title}",
                context={"title": title, "classification": classification},
            )
        return raise_deviation(
            actor=actor,
            title=title,
            description=description,
            source=DeviationSource.MANUAL,
            classification=classification,
            batch=batch,
            step=step,
            entry=entry,
            exception=exception,
        )


def _locked(number: str, row_version: int | None) -> Deviation:
    deviation = (
        Deviation.objects.select_for_update(no_key=True, of=("self",))
        .select_related("batch", "step")
        .filter(number=number)
        .first()
    )
    if deviation is None:
        raise NotFound(f"There is no deviation {number!r}.", field="number")
    if row_version is not None and row_version != deviation.row_version:
        raise Conflict(
            f"Deviation {number} changed since you loaded it; reload and try again.",
            field="row_version",
        )
    return deviation


def classify_deviation(
    *, actor: Any, number: str, classification: str, reason: str, row_version: int | None = None
) -> Deviation:
    require(actor, "quality.classify")
    classification = _classification(classification)
    reason = _text(reason, "reason")
    with transaction.atomic():
        deviation = _locked(number, row_version)
        if deviation.status == DeviationStatus.CLOSED:
            raise Conflict(f"Deviation {number} is closed.", field="status")
        old = deviation.classification
        if old == classification:
            raise Conflict(
                f"Deviation {number} is already {classification}.", field="classification"
            )
        deviation.classification = classification
        deviation.row_version += 1
        deviation.save(update_fields=["classification", "row_version"])
        audit.record(
            actor=actor,
            action="quality.deviation.classify",
            obj=deviation,
            old={"classification": old},
            new={"classification": classification},
            reason=reason,
        )
    return deviation


def investigate_deviation(
    *, actor: Any, number: str, investigation: str, row_version: int | None = None
) -> Deviation:
    """Record the investigation (211.192); the deviation is then under investigation."""
    require(actor, "quality.investigate")
    investigation = _text(investigation, "investigation")
    with transaction.atomic():
        deviation = _locked(number, row_version)
        if deviation.status == DeviationStatus.CLOSED:
            raise Conflict(f"Deviation {number} is closed.", field="status")
        old = {"status": deviation.status, "investigation": deviation.investigation}
        deviation.status = DeviationStatus.UNDER_INVESTIGATION
        deviation.investigation = investigation
        deviation.row_version += 1
        deviation.save(update_fields=["status", "investigation", "row_version"])
        audit.record(
            actor=actor,
            action="quality.deviation.investigate",
            obj=deviation,
            old=old,
            new={"status": deviation.status, "investigation": investigation},
        )
    return deviation


def close_deviation(
    *,
    actor: Any,
    authority: SignerAuthority,
    number: str,
    conclusion: str,
    row_version: int | None = None,
) -> Deviation:
    """Close with a conclusion, signed (meaning: approved)."""
    require(actor, "quality.close")
    conclusion = _text(conclusion, "conclusion")
    with transaction.atomic():
        deviation = _locked(number, row_version)
        if deviation.status == DeviationStatus.CLOSED:
            raise Conflict(f"Deviation {number} is already closed.", field="status")
        if deviation.opened_by_id == getattr(actor, "pk", None):
            raise PermissionDenied(
                "Nobody closes a deviation they opened themselves.", field="user_id"
            )
        old = {"status": deviation.status}
        deviation.status = DeviationStatus.CLOSED
        deviation.conclusion = conclusion
        deviation.closed_at = utcnow()
        deviation.closed_by = actor
        deviation.row_version += 1
        deviation.save(
            update_fields=["status", "conclusion", "closed_at", "closed_by", "row_version"]
        )
        audit.record(
            actor=actor,
            action="quality.deviation.close",
            obj=deviation,
            old=old,
            new={"status": deviation.status, "conclusion": conclusion},
        )
        signatures.sign(authority=authority, obj=deviation, meaning=Meaning.APPROVED, actor=actor)
    return deviation


def deviation_content(deviation: Deviation) -> dict[str, Any]:
    """What the closing signature covers."""
    return {
        "number": deviation.number,
        "batch": deviation.batch.number if deviation.batch else None,
        "step": deviation.step.step_key if deviation.step else None,
        "entry": deviation.entry_id,
        "source": deviation.source,
        "classification": deviation.classification,
        "title": deviation.title,
        "description": deviation.description,
        "investigation": deviation.investigation,
        "conclusion": deviation.conclusion,
    }
