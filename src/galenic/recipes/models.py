"""Master batch records as stored: one MasterRecord, many versions, one document per version.

The document itself is the database-free model in ``galenic.recipes.document`` kept as its
canonical JSON text; ``content_hash`` is what authoring, checking and approval signatures bind to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q

from galenic.audit.models import AuditedModel

if TYPE_CHECKING:
    from galenic.recipes.document.model import MasterBatchRecord


class MasterRecord(AuditedModel):
    """A product's master batch record across all its versions (21 CFR 211.186)."""

    code = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    EFFECTIVE = "effective", "Effective"
    SUPERSEDED = "superseded", "Superseded"
    RETIRED = "retired", "Retired"


class MasterRecordVersion(AuditedModel):
    master = models.ForeignKey(MasterRecord, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    status = models.CharField(
        max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    document_json = models.TextField(help_text="canonical JSON of the MBR document")
    content_hash = models.CharField(max_length=80, help_text="SHA-256 (hex) of the canonical JSON")
    based_on = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    change_reason = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField()
    effective_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    # Optimistic concurrency: every write bumps it; a stale writer gets a conflict.
    row_version = models.PositiveIntegerField(default=1)
    # The signatures of the current review round (211.186: prepared by one, checked by a
    # second; approved by QA). Cleared when the version goes back to draft; the signatures
    # themselves stay, and show "changed after signing" once the draft is edited.
    authored_signature = models.ForeignKey(
        "signatures.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    checked_signature = models.ForeignKey(
        "signatures.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_signature = models.ForeignKey(
        "signatures.Signature", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["master__code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["master", "version"], name="uniq_mbr_version"),
            # Only one version of an MBR is effective at a time.
            models.UniqueConstraint(
                fields=["master"], condition=Q(status="effective"), name="one_effective_mbr_version"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.master.code} v{self.version} ({self.get_status_display()})"

    def document(self) -> MasterBatchRecord:
        """The parsed document (cached on the instance)."""
        cached = getattr(self, "_document_cache", None)
        if cached is None:
            from galenic.recipes.document import io

            cached = io.load_json(self.document_json)
            self._document_cache = cached
        return cached


class MasterRecordAttachment(AuditedModel):
    """The bytes of a file an MBR document names by SHA-256 (label specimens, step images).

    Content-addressed and never changed: documents refer to it by ``sha256``, so the same file
    serves every version that names it.
    """

    sha256 = models.CharField(max_length=64, unique=True)
    filename = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    content = models.BinaryField()
    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"
