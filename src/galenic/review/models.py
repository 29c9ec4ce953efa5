"""Review by exception and batch disposition (21 CFR 211.192; Annex 11 §15; FDA DI Q&A Q7/Q8).

* ``BatchReview``: one per completed batch. Holds the exception report's summary, the reviewer's
  signed review and the separate, signed release or rejection.
* ``ReviewItem``: one thing the reviewer must judge (an exception raised during execution, a
  deviation, an audit event that needs a look), linked to its step, entry and audit trail, with
  the reviewer's acknowledgement. Items are only ever added; an acknowledgement is set once.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from galenic.audit.models import AuditedModel


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Awaiting review"
    REVIEWED = "reviewed", "Reviewed (signed)"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


class BatchReview(AuditedModel):
    batch = models.OneToOneField("execution.Batch", on_delete=models.PROTECT, related_name="review")
    status = models.CharField(
        max_length=12, choices=ReviewStatus.choices, default=ReviewStatus.OPEN, db_index=True
    )
    built_at = models.DateTimeField()
    refreshed_at = models.DateTimeField()
    # What was verified automatically against specification, at the last refresh (JSON).
    summary = models.TextField(blank=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    review_signature = models.ForeignKey(
        "signatures.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disposition_at = models.DateTimeField(null=True, blank=True)
    disposition_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    disposition_reason = models.TextField(blank=True)
    disposition_signature = models.ForeignKey(
        "signatures.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-built_at", "-id"]

    def __str__(self) -> str:
        return f"Review of batch {self.batch.number}"


class ItemSource(models.TextChoices):
    EXCEPTION = "exception", "Raised during execution"
    DEVIATION = "deviation", "Deviation"
    AUDIT = "audit", "Audit trail"


class ReviewItem(AuditedModel):
    review = models.ForeignKey(BatchReview, on_delete=models.PROTECT, related_name="items")
    # Stable identity within the review ("exception:12", "deviation:3", "audit:481"), so a
    # refresh adds what is new and never duplicates or drops an item.
    key = models.CharField(max_length=64)
    source = models.CharField(max_length=12, choices=ItemSource.choices)
    kind = models.CharField(max_length=40, db_index=True)
    kind_label = models.CharField(max_length=100)
    severity = models.CharField(max_length=10, blank=True)
    message = models.TextField()
    details = models.TextField(blank=True, help_text="context for the reviewer (JSON)")
    step = models.ForeignKey(
        "execution.StepExecution", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    entry = models.ForeignKey(
        "execution.Entry", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    exception = models.ForeignKey(
        "execution.BatchException",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    deviation = models.ForeignKey(
        "quality.Deviation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    audit_seq = models.BigIntegerField(null=True, blank=True)
    occurred_at = models.DateTimeField()
    actor_username = models.CharField(max_length=63, blank=True)
    actor_name = models.CharField(max_length=200, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    acknowledgement = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "key"], name="uniq_review_item_key"),
        ]

    def __str__(self) -> str:
        return f"{self.kind_label}: {self.message[:60]}"

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None
