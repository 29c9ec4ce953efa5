"""Review by exception API under /api/v1/review."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from galenic.accounts.permissions import require
from galenic.review import selectors, services
from galenic.review.models import BatchReview, ReviewItem
from galenic.signatures.api import SignatureIn, authenticate
from galenic.signatures.schemas import SignatureOut
from galenic.signatures.selectors import signatures_for_object

router = Router(tags=["review"])


class AcknowledgementOut(Schema):
    comment: str
    by: str
    at: str


class ItemOut(Schema):
    id: int
    key: str
    source: str
    kind: str
    kind_label: str
    severity: str
    message: str
    details: Any = None
    step: str | None = Field(None, description="step key (and run) the exception belongs to")
    step_id: int | None = None
    entry_id: int | None = None
    audit_seq: int | None = None
    occurred_at: str
    actor: str
    acknowledgement: AcknowledgementOut | None = None

    @staticmethod
    def of(item: ReviewItem) -> ItemOut:
        try:
            details = json.loads(item.details) if item.details else None
        except ValueError:
            details = item.details
        step = None
        if item.step is not None:
            step = item.step.step_key + (
                f" (run {item.step.iteration})" if item.step.iteration > 1 else ""
            )
        return ItemOut(
            id=item.pk,
            key=item.key,
            source=item.source,
            kind=item.kind,
            kind_label=item.kind_label,
            severity=item.severity,
            message=item.message,
            details=details,
            step=step,
            step_id=item.step_id,
            entry_id=item.entry_id,
            audit_seq=item.audit_seq,
            occurred_at=item.occurred_at.isoformat(),
            actor=item.actor_username,
            acknowledgement=AcknowledgementOut(
                comment=item.acknowledgement,
                by=item.acknowledged_by.username if item.acknowledged_by else "",
                at=item.acknowledged_at.isoformat(),
            )
            if item.acknowledged_at
            else None,
        )


class ReviewOut(Schema):
    batch: str
    batch_status: str
    status: str
    status_label: str
    summary: dict[str, int]
    items: list[ItemOut]
    signatures: list[SignatureOut]
    blockers: list[dict[str, str]] = Field(
        ..., description="What stops the release now ({field, message}); empty when none"
    )

    @staticmethod
    def of(review: BatchReview, actor: Any) -> ReviewOut:
        batch = review.batch
        facts = services.facts(actor=actor, batch=batch, review=review)
        return ReviewOut(
            batch=batch.number,
            batch_status=batch.status,
            status=review.status,
            status_label=review.get_status_display(),
            summary=json.loads(review.summary or "{}"),
            items=[ItemOut.of(i) for i in selectors.items_of(review)],
            signatures=[SignatureOut.of(e) for e in signatures_for_object(review)],
            blockers=[
                {"field": f, "message": m} for f, m in services.rules.disposition_blockers(facts)
            ],
        )


class AcknowledgeIn(Schema):
    comment: str


@router.get(
    "/batches/{number}",
    response=ReviewOut,
    summary="The exception report of a batch (built or brought up to date)",
)
def get_review(request: HttpRequest, number: str) -> ReviewOut:
    review = services.refresh_report(actor=request.user, number=number)
    return ReviewOut.of(review, request.user)


@router.post(
    "/batches/{number}/items/{item_id}/acknowledge",
    response=ItemOut,
    summary="Acknowledge one exception with a comment",
)
def acknowledge(request: HttpRequest, number: str, item_id: int, payload: AcknowledgeIn) -> ItemOut:
    item = services.acknowledge(
        actor=request.user, number=number, item_id=item_id, comment=payload.comment
    )
    return ItemOut.of(item)


@router.post(
    "/batches/{number}/sign", response=ReviewOut, summary="Sign the review (meaning: reviewed)"
)
def sign(request: HttpRequest, number: str, payload: SignatureIn) -> ReviewOut:
    require(request.user, "review.sign")
    review = services.sign_review(
        actor=request.user,
        number=number,
        authority=authenticate(request, payload),
        reason=payload.reason,
        expected_content_sha256=payload.content_sha256,
    )
    return ReviewOut.of(review, request.user)


@router.post("/batches/{number}/release", response=ReviewOut, summary="Release the batch (signed)")
def release(request: HttpRequest, number: str, payload: SignatureIn) -> ReviewOut:
    require(request.user, "review.release")
    review = services.release(
        actor=request.user,
        number=number,
        authority=authenticate(request, payload),
        reason=payload.reason,
        expected_content_sha256=payload.content_sha256,
    )
    return ReviewOut.of(review, request.user)


@router.post(
    "/batches/{number}/reject",
    response=ReviewOut,
    summary="Reject the batch (signed, with the reason)",
)
def reject(request: HttpRequest, number: str, payload: SignatureIn) -> ReviewOut:
    require(request.user, "review.release")
    review = services.reject(
        actor=request.user,
        number=number,
        authority=authenticate(request, payload, reason_required=True),
        reason=payload.reason,
        expected_content_sha256=payload.content_sha256,
    )
    return ReviewOut.of(review, request.user)
