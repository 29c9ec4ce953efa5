"""The electronic batch record (21 CFR 211.188).

* ``Batch``: one execution of an effective MBR version, with a frozen copy of its document.
* ``StepExecution``: one iteration of one step of the document, from the moment the flow makes
  it available until it is performed, verified and approved (or skipped by a condition).
* ``Entry``: one captured value (or a weighed material, or a value the system calculated), with
  who, server time, source and its limit evaluation. Append-only: a correction is a new entry
  that ``supersedes`` the old one, which stays visible.
* ``BatchException``: anything a reviewer must judge (issue "review by exception" reads these).
* ``Comment`` and ``Attachment``: on a batch, a step or an entry. Append-only.

``Batch`` and ``StepExecution`` carry state and change through services only, each change
audited; ``row_version`` makes concurrent writers fail cleanly instead of overwriting.
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q

from galenic.audit.models import AuditedModel


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Batch record rows are never changed or removed, not even in bulk."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: update() is refused")

    def delete(self) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: delete() is refused")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: bulk_update() is refused")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    save_only_guards = True  # core.rows.insert may insert new rows without calling save()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(f"{self._meta.label} is append-only: a row cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self._meta.label} is append-only: a row cannot be deleted")


class BatchStatus(models.TextChoices):
    CREATED = "created", "Created"
    RELEASED_TO_FLOOR = "released_to_floor", "Released to floor"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    # Set by the review and release issue (QA): kept here so the states are one list.
    IN_REVIEW = "in_review", "In review"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


class Batch(AuditedModel):
    number = models.CharField(max_length=40, unique=True)
    master_version = models.ForeignKey(
        "recipes.MasterRecordVersion", on_delete=models.PROTECT, related_name="batches"
    )
    mbr_code = models.CharField(max_length=64)
    mbr_version = models.PositiveIntegerField()
    # The frozen copy of the master record (211.188(a)); its hash binds the batch to the version.
    document_json = models.TextField()
    document_hash = models.CharField(max_length=80)
    product_name = models.CharField(max_length=200, blank=True)
    batch_size = models.CharField(max_length=80, help_text="quantity text, e.g. '150000 tablet'")
    planned_start = models.DateTimeField(null=True, blank=True)
    planned_end = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=BatchStatus.choices, default=BatchStatus.CREATED, db_index=True
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    released_to_floor_at = models.DateTimeField(null=True, blank=True)
    released_to_floor_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    hold_reason = models.TextField(blank=True)
    # Yield (211.188(b)(7)), computed in Decimal at completion; never typed.
    actual_yield = models.CharField(max_length=80, blank=True)
    theoretical_yield = models.CharField(max_length=80, blank=True)
    yield_percent = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    yield_within_limits = models.BooleanField(null=True, blank=True)
    # Order of step completions, for replaying the flow.
    completions = models.PositiveIntegerField(default=0)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Batch {self.number}"


class StepStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    IN_PROGRESS = "in_progress", "In progress"
    PERFORMED = "performed", "Performed"  # signed by the performer; verification/approval due
    COMPLETED = "completed", "Completed"
    SKIPPED = "skipped", "Skipped"


OPEN_STEP = (StepStatus.AVAILABLE, StepStatus.IN_PROGRESS)


class StepExecution(AuditedModel):
    """One iteration of one step. Rows exist only for steps the flow has reached."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="steps")
    step_key = models.CharField(max_length=64)
    iteration = models.PositiveIntegerField(default=1)
    position = models.PositiveIntegerField(help_text="the step's place in document order")
    title = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=16, choices=StepStatus.choices, db_index=True)
    reason = models.TextField(blank=True, help_text="why the flow skipped or repeats the step")
    opened_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signature_required = models.BooleanField(default=True)
    verification_required = models.BooleanField(default=False)
    approval_required = models.BooleanField(default=False)
    performed_at = models.DateTimeField(null=True, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completion_seq = models.PositiveIntegerField(null=True, blank=True)
    # The values the flow completed this iteration with (for replay), as values.encode_map.
    flow_values = models.TextField(blank=True)
    # A correction after verification voided it: the step needs verifying again.
    needs_reverification = models.BooleanField(default=False)
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["batch", "position", "iteration"]
        constraints = [
            models.UniqueConstraint(
                fields=["batch", "step_key", "iteration"], name="uniq_step_iteration"
            ),
            models.UniqueConstraint(
                fields=["batch", "completion_seq"],
                condition=Q(completion_seq__isnull=False),
                name="uniq_step_completion_seq",
            ),
        ]

    def __str__(self) -> str:
        suffix = f" (run {self.iteration})" if self.iteration > 1 else ""
        return f"{self.batch.number} {self.step_key}{suffix}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STEP

    def flow_values_dict(self) -> dict[str, Any]:
        return json.loads(self.flow_values) if self.flow_values else {}


class EntryKind(models.TextChoices):
    PARAMETER = "parameter", "Parameter value"
    MATERIAL = "material", "Material weighed"
    CALCULATED = "calculated", "Calculated by the system"


class EntrySource(models.TextChoices):
    MANUAL = "manual", "Manual"
    INSTRUMENT = "instrument", "Instrument"
    CALCULATED = "calculated", "Calculated"


class Entry(AppendOnlyModel):
    """One captured value with its provenance and its limit evaluation at capture."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="entries")
    step = models.ForeignKey(StepExecution, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    key = models.CharField(max_length=64, help_text="parameter key, or material code")
    recorded_at = models.DateTimeField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=12, choices=EntrySource.choices)
    instrument_code = models.CharField(max_length=80, blank=True)
    instrument_serial = models.CharField(max_length=64, blank=True)
    reading = models.TextField(blank=True, help_text="device provenance (JSON)")
    raw_value = models.TextField(help_text="exactly what was given")
    raw_unit = models.CharField(max_length=32, blank=True)
    value_type = models.CharField(max_length=12)
    value = models.TextField(help_text="normalised, in the parameter's unit")
    unit = models.CharField(max_length=32, blank=True)
    outcome = models.CharField(max_length=16)
    severity = models.CharField(max_length=8)
    evaluation = models.TextField(blank=True, help_text="the evaluation message")
    limit_name = models.CharField(max_length=32, blank=True)
    limit_value = models.CharField(max_length=120, blank=True)
    calculation = models.TextField(blank=True, help_text="expression and inputs (JSON)")
    observed_at = models.DateTimeField(
        null=True, blank=True, help_text="claimed observation time of a late entry"
    )
    late = models.BooleanField(default=False)
    reason = models.TextField(blank=True)
    comment = models.TextField(blank=True)
    supersedes = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["step", "key"], name="entry_step_key_idx")]
        constraints = [
            # A value is recorded once; a second one is a correction that supersedes it.
            models.UniqueConstraint(
                fields=["step", "kind", "key"],
                condition=Q(supersedes__isnull=True),
                name="uniq_first_entry",
            )
        ]

    def __str__(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.key} = {self.value}{unit}"

    @property
    def is_correction(self) -> bool:
        return self.supersedes_id is not None


class ExceptionKind(models.TextChoices):
    LIMIT_EXCURSION_ALERT = "limit_excursion_alert", "Alert-limit excursion"
    LIMIT_EXCURSION_ACTION = "limit_excursion_action", "Action-limit excursion"
    DEVIATION = "deviation", "Deviation"
    CORRECTION = "correction", "Correction"
    LATE_ENTRY = "late_entry", "Late entry"
    MANUAL_ENTRY_INSTRUMENT_EXPECTED = (
        "manual_entry_instrument_expected",
        "Manual entry where an instrument was expected",
    )
    OVERRIDE = "override", "Override"
    REPEATED_ATTEMPT = "repeated_attempt", "Repeated attempt"
    LOOP_EXHAUSTED = "loop_exhausted", "Repeat loop past its usual count"
    FLOW_BLOCKED = "flow_blocked", "Condition could not be decided"
    FLOW_DECISION_CHANGED = "flow_decision_changed", "Correction changes a flow decision"
    DURATION_OUT_OF_RANGE = "duration_out_of_range", "Step duration out of range"
    COMMENT = "comment", "Comment"
    ATTACHMENT = "attachment", "Attachment"
    REFUSED_OUT_OF_TURN = "refused_out_of_turn", "Refused: out of turn"
    VERIFICATION_VOIDED = "verification_voided", "Verification voided by a correction"
    YIELD_OUT_OF_LIMITS = "yield_out_of_limits", "Yield outside limits"


class BatchException(AppendOnlyModel):
    """Something a reviewer must judge, linked to where it happened. Never removed."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="exceptions")
    step = models.ForeignKey(
        StepExecution, on_delete=models.PROTECT, null=True, blank=True, related_name="exceptions"
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="exceptions"
    )
    kind = models.CharField(max_length=40, choices=ExceptionKind.choices, db_index=True)
    severity = models.CharField(max_length=8, default="info")  # info | alert | action
    message = models.TextField()
    context = models.TextField(blank=True, help_text="what the reviewer needs (JSON)")
    occurred_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.batch.number}: {self.get_kind_display()}"

    def context_dict(self) -> dict[str, Any]:
        return json.loads(self.context) if self.context else {}


class Comment(AppendOnlyModel):
    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="comments")
    step = models.ForeignKey(
        StepExecution, on_delete=models.PROTECT, null=True, blank=True, related_name="comments"
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="comments"
    )
    text = models.TextField()
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]


class Attachment(AppendOnlyModel):
    """A file (photo, printout, paper record) kept with its SHA-256 under MEDIA_ROOT."""

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="attachments")
    step = models.ForeignKey(
        StepExecution, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    entry = models.ForeignKey(
        Entry, on_delete=models.PROTECT, null=True, blank=True, related_name="attachments"
    )
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    path = models.CharField(max_length=300, help_text="relative to MEDIA_ROOT")
    description = models.TextField(blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["id"]
