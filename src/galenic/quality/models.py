"""Quality events (21 CFR 211.100(b), 211.192): deviations linked to batch, step and data.

A deviation opened by execution (an action-limit excursion, a yield outside its limits, a manual
entry replacing an instrument reading) carries the batch, the step execution, the entry and the
exception that raised it. QA classifies, investigates and closes it (closing is signed).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from galenic.audit.models import AuditedModel


class Classification(models.TextChoices):
    MINOR = "minor", "Minor"
    MAJOR = "major", "Major"
    CRITICAL = "critical", "Critical"


class DeviationStatus(models.TextChoices):
    OPEN = "open", "Open"
    UNDER_INVESTIGATION = "under_investigation", "Under investigation"
    CLOSED = "closed", "Closed"


class DeviationSource(models.TextChoices):
    LIMIT_EXCURSION = "limit_excursion", "Action-limit excursion"
    YIELD = "yield", "Yield outside limits"
    INSTRUMENT_VALUE_CHANGED = "instrument_value_changed", "Instrument value replaced by hand"
    FLOW = "flow", "Batch flow"
    MANUAL = "manual", "Reported by a person"


class Deviation(AuditedModel):
    number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    batch = models.ForeignKey(
        "execution.Batch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
    )
    step = models.ForeignKey(
        "execution.StepExecution",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
    )
    entry = models.ForeignKey(
        "execution.Entry",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
    )
    exception = models.ForeignKey(
        "execution.BatchException",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
    )
    source = models.CharField(max_length=32, choices=DeviationSource.choices)
    classification = models.CharField(max_length=10, choices=Classification.choices)
    status = models.CharField(
        max_length=24, choices=DeviationStatus.choices, default=DeviationStatus.OPEN, db_index=True
    )
    title = models.CharField(max_length=200)
    description = models.TextField()
    opened_at = models.DateTimeField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    investigation = models.TextField(blank=True)
    conclusion = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    row_version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at", "-id"]

    def __str__(self) -> str:
        return f"Deviation {self.number or '(new)'}"

    @property
    def is_open(self) -> bool:
        return self.status != DeviationStatus.CLOSED
