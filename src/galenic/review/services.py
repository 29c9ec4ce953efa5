"""Review by exception and disposition of batches: the only writers of ``galenic.review``.

- ``refresh_report``: build (when a batch completes) or bring up to date the exception report:
  items are only added, never changed or dropped; the batch moves to "in review".
- ``acknowledge``: the reviewer's comment on one exception (set once, audited).
- ``sign_review``: the signed review ("reviewed"), once every exception is acknowledged.
- ``release`` / ``reject``: the separate signed disposition by someone with release authority,
  blocked while a major or critical deviation is open, an exception is unacknowledged, or the
  review is unsigned or changed since it was signed (211.192, Annex 11 §15).

Whether the reviewer must differ from everyone who executed the batch, and the releaser from
the reviewer, is configured with GALENIC_REVIEW_INDEPENDENT_REVIEWER and
GALENIC_REVIEW_RELEASER_NOT_REVIEWER (both on by default; settings of the same names win).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from galenic.accounts.permissions import require
from galenic.audit import services as audit
from galenic.core.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.env import env_bool
from galenic.execution.models import Batch, BatchStatus
from galenic.review import rules, selectors
from galenic.review.models import BatchReview, ReviewItem, ReviewStatus
from galenic.signatures import services as signatures
from galenic.signatures.models import Meaning
from galenic.signatures.selectors import signatures_for_object
from galenic.signatures.services import SignerAuthority

MAX_COMMENT = 4000


def independent_reviewer() -> bool:
    value = getattr(settings, "REVIEW_INDEPENDENT_REVIEWER", None)
    return env_bool("GALENIC_REVIEW_INDEPENDENT_REVIEWER", True) if value is None else bool(value)


def releaser_not_reviewer() -> bool:
    value = getattr(settings, "REVIEW_RELEASER_NOT_REVIEWER", None)
    return env_bool("GALENIC_REVIEW_RELEASER_NOT_REVIEWER", True) if value is None else bool(value)


PERSONAL = frozenset({"reviewer", "approver"})  # blockers about who acts, not about the record


def _refuse(found: list[tuple[str, str]]) -> None:
    """Refuse with every reason at once: 403 when it is about the person, else 409."""
    if not found:
        return
    error = PermissionDenied if any(field in PERSONAL for field, _ in found) else Conflict
    raise error(
        " ".join(reason for _, reason in found),
        errors=[FieldError(field, reason) for field, reason in found],
    )


def _set_batch_status(*, actor: Any, batch: Batch, status: str, action: str) -> None:
    old = batch.status
    if old == status:
        return
    batch.status = status
    batch.row_version += 1
    batch.save(update_fields=["status", "row_version"])
    audit.record(actor=actor, action=action, obj=batch, old={"status": old}, new={"status": status})


def _lock_batch(number: str) -> Batch:
    batch = Batch.objects.select_for_update(no_key=True).filter(number=number).first()
    if batch is None:
        raise NotFound(f"No batch {number}.", field="batch")
    return batch


def _add_items(*, actor: Any, batch: Batch, review: BatchReview, created: bool) -> list[ReviewItem]:
    """Add the report's new items and refresh the summary (inside the caller's transaction)."""
    known = set(review.items.values_list("key", flat=True))
    new = [item for item in selectors.candidates(batch, review) if item.key not in known]
    if new:
        ReviewItem.objects.bulk_create(new)
    if new or created:
        now = utcnow()
        review.summary = json.dumps(selectors.summary(batch, review))
        review.refreshed_at = now
        review.row_version += 1
        review.save(update_fields=["summary", "refreshed_at", "row_version"])
        keys = [item.key for item in new]
        audit.record(
            actor=actor,
            action="review.report.build" if created else "review.report.refresh",
            obj=review,
            new={
                "batch": batch.number,
                "items_added": len(keys),
                "kinds": sorted({item.kind for item in new}),
                "keys_sha256": hashlib.sha256("\n".join(keys).encode()).hexdigest(),
                "summary": json.loads(review.summary),
            },
        )
    if batch.status == BatchStatus.COMPLETED:
        _set_batch_status(
            actor=actor, batch=batch, status=BatchStatus.IN_REVIEW, action="review.batch.in_review"
        )
    return new


def refresh_report(*, actor: Any, number: str) -> BatchReview:
    """Build the exception report of a completed batch, or add what is new since (e.g. an edit
    after completion). ``actor=None``: the system, when execution completes the batch."""
    if actor is not None:
        require(actor, "review.view")
    for attempt in range(2):
        try:
            with transaction.atomic():
                batch = _lock_batch(number)
                if batch.status not in selectors.REVIEWABLE:
                    raise Conflict(
                        f"Batch {number} is {batch.get_status_display().lower()}; it can be "
                        "reviewed once it is completed.",
                        field="status",
                    )
                review = (
                    BatchReview.objects.select_for_update(no_key=True).filter(batch=batch).first()
                )
                created = review is None
                if review is not None:
                    review.batch = batch
                if review is None:
                    now = utcnow()
                    review = BatchReview(batch=batch, built_at=now, refreshed_at=now)
                    review.save(force_insert=True)
                if review.status in (ReviewStatus.RELEASED, ReviewStatus.REJECTED):
                    return review
                _add_items(actor=actor, batch=batch, review=review, created=created)
                return review
        except IntegrityError:  # a concurrent first build won; take the report it made
            if attempt:
                raise
    raise AssertionError("unreachable")


def facts(*, actor: Any, batch: Batch, review: BatchReview) -> rules.Facts:
    counts = review.items.aggregate(
        total=Count("id"), unacknowledged=Count("id", filter=Q(acknowledged_at__isnull=True))
    )
    signature_valid = False
    if review.review_signature_id is not None:
        signature_valid = any(
            e.signature.pk == review.review_signature_id and e.ok
            for e in signatures_for_object(review)
        )
    return rules.Facts(
        status=review.status,
        items=counts["total"] or 0,
        unacknowledged=counts["unacknowledged"] or 0,
        open_deviations=selectors.open_deviations(batch),
        review_signed=review.review_signature_id is not None,
        review_signature_valid=signature_valid,
        actor_executed=getattr(actor, "pk", None) in selectors.executors(batch),
        actor_is_reviewer=review.reviewed_by_id is not None
        and review.reviewed_by_id == getattr(actor, "pk", None),
        independent_reviewer=independent_reviewer(),
        releaser_differs_from_reviewer=releaser_not_reviewer(),
    )


def _locked_review(number: str) -> tuple[Batch, BatchReview]:
    batch = _lock_batch(number)
    review = BatchReview.objects.select_for_update(no_key=True).filter(batch=batch).first()
    if review is None:
        raise Conflict(f"Batch {number} has no exception report yet.", field="review")
    review.batch = batch  # one instance, so a status change shows everywhere
    return batch, review


def acknowledge(*, actor: Any, number: str, item_id: int, comment: str) -> ReviewItem:
    """The reviewer's judgement on one exception, with a comment (set once)."""
    require(actor, "review.acknowledge")
    comment = (comment or "").strip()
    if not comment:
        raise ValidationFailed(
            "Say why this exception is acceptable (or what follows from it).", field="comment"
        )
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(f"Keep the comment under {MAX_COMMENT} characters.", field="comment")
    with transaction.atomic():
        batch, review = _locked_review(number)
        item = (
            ReviewItem.objects.select_for_update(no_key=True)
            .filter(review=review, pk=item_id)
            .first()
        )
        if item is None:
            raise NotFound(f"Batch {number} has no exception {item_id}.", field="item")
        _refuse(rules.acknowledge_blockers(facts(actor=actor, batch=batch, review=review)))
        if item.acknowledged_at is not None:
            raise Conflict(
                f"This exception was acknowledged by {item.acknowledged_by} already.", field="item"
            )
        item.acknowledged_at = utcnow()
        item.acknowledged_by = actor
        item.acknowledgement = comment
        item.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement"])
        # The stored summary counts acknowledgements too (derived; the event below records it).
        review.summary = json.dumps(selectors.summary(batch, review))
        review.row_version += 1
        review.save(update_fields=["summary", "row_version"])
        audit.record(
            actor=actor,
            action="review.item.acknowledge",
            obj=item,
            old={"acknowledgement": None},
            new={"key": item.key, "kind": item.kind, "acknowledgement": comment},
        )
    return item


def sign_review(
    *,
    actor: Any,
    number: str,
    authority: SignerAuthority,
    reason: str = "",
    expected_content_sha256: str = "",
) -> BatchReview:
    """Sign the review ("reviewed") once every exception is acknowledged; again after new
    exceptions changed a signed review."""
    require(actor, "review.sign")
    with transaction.atomic():
        batch, review = _locked_review(number)
        if review.status in (ReviewStatus.RELEASED, ReviewStatus.REJECTED):
            raise Conflict("The batch has been dispositioned already.", field="status")
        _add_items(actor=actor, batch=batch, review=review, created=False)
        _refuse(rules.review_blockers(facts(actor=actor, batch=batch, review=review)))
        signature = signatures.sign(
            authority=authority,
            obj=review,
            meaning=Meaning.REVIEWED,
            reason=reason,
            expected_content_sha256=expected_content_sha256,
            actor=actor,
        )
        old = {"status": review.status}
        review.status = ReviewStatus.REVIEWED
        review.reviewed_at = signature.signed_at
        review.reviewed_by = actor
        review.review_signature = signature
        review.row_version += 1
        review.save(
            update_fields=[
                "status",
                "reviewed_at",
                "reviewed_by",
                "review_signature",
                "row_version",
            ]
        )
        audit.record(
            actor=actor,
            action="review.sign",
            obj=review,
            old=old,
            new={"status": review.status, "signature": str(signature.uid)},
            reason=reason,
        )
    return review


def _disposition(
    *,
    actor: Any,
    number: str,
    authority: SignerAuthority,
    reason: str,
    expected_content_sha256: str,
    release: bool,
) -> BatchReview:
    require(actor, "review.release")
    reason = (reason or "").strip()
    if not release and not reason:
        raise ValidationFailed("Give the reason for rejecting the batch.", field="reason")
    with transaction.atomic():
        batch, review = _locked_review(number)
        _add_items(actor=actor, batch=batch, review=review, created=False)
        _refuse(rules.disposition_blockers(facts(actor=actor, batch=batch, review=review)))
        signature = signatures.sign(
            authority=authority,
            obj=review,
            meaning=Meaning.RELEASED if release else Meaning.REJECTED,
            reason=reason,
            expected_content_sha256=expected_content_sha256,
            actor=actor,
        )
        old = {"status": review.status}
        review.status = ReviewStatus.RELEASED if release else ReviewStatus.REJECTED
        review.disposition_at = signature.signed_at
        review.disposition_by = actor
        review.disposition_reason = reason
        review.disposition_signature = signature
        review.row_version += 1
        review.save(
            update_fields=[
                "status",
                "disposition_at",
                "disposition_by",
                "disposition_reason",
                "disposition_signature",
                "row_version",
            ]
        )
        audit.record(
            actor=actor,
            action="review.release" if release else "review.reject",
            obj=review,
            old=old,
            new={"status": review.status, "signature": str(signature.uid)},
            reason=reason,
        )
        _set_batch_status(
            actor=actor,
            batch=batch,
            status=BatchStatus.RELEASED if release else BatchStatus.REJECTED,
            action="review.batch.release" if release else "review.batch.reject",
        )
    return review


def release(
    *,
    actor: Any,
    number: str,
    authority: SignerAuthority,
    reason: str = "",
    expected_content_sha256: str = "",
) -> BatchReview:
    """Release the batch: a signed act of a QA approver, after the signed review."""
    return _disposition(
        actor=actor,
        number=number,
        authority=authority,
        reason=reason,
        expected_content_sha256=expected_content_sha256,
        release=True,
    )


def reject(
    *,
    actor: Any,
    number: str,
    authority: SignerAuthority,
    reason: str,
    expected_content_sha256: str = "",
) -> BatchReview:
    """Reject the batch (with the reason): a signed act of a QA approver, after the review."""
    return _disposition(
        actor=actor,
        number=number,
        authority=authority,
        reason=reason,
        expected_content_sha256=expected_content_sha256,
        release=False,
    )
