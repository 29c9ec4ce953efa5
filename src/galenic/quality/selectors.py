from __future__ import annotations

from django.db.models import QuerySet

from galenic.core.errors import NotFound
from galenic.quality.models import Deviation, DeviationStatus


def deviations(
    *,
    status: str | None = None,
    batch: str | None = None,
    classification: str | None = None,
    open_only: bool = False,
) -> QuerySet[Deviation]:
    found = Deviation.objects.select_related(
        "batch", "step", "entry", "opened_by", "closed_by", "exception"
    )
    if status:
        found = found.filter(status=status)
    if open_only:
        found = found.exclude(status=DeviationStatus.CLOSED)
    if batch:
        found = found.filter(batch__number=batch)
    if classification:
        found = found.filter(classification=classification)
    return found.order_by("-opened_at", "-id")


def get_deviation(number: str) -> Deviation:
    found = deviations().filter(number=number).first()
    if found is None:
        raise NotFound(f"There is no deviation {number!r}.", field="number")
    return found


def open_deviations_of_batch(batch_number: str) -> QuerySet[Deviation]:
    """For release gates (review by exception): what is still open on a batch."""
    return deviations(batch=batch_number, open_only=True)
