"""When execution completes a batch, its exception report is built once the completion has
committed, by the system, and the batch moves to "in review"."""

from __future__ import annotations

from typing import Any

import pytest

from galenic.audit.models import AuditEvent
from galenic.execution.models import Batch
from galenic.review.models import BatchReview

pytestmark = pytest.mark.django_db


def test_report_built_after_completion_commits(
    run: Any, django_capture_on_commit_callbacks: Any
) -> None:
    r = run()
    r.check(temperature="23.5")
    r.dry()
    r.count()
    with django_capture_on_commit_callbacks(execute=True):
        r.complete()
    review = BatchReview.objects.get(batch__number=r.number)
    assert list(review.items.values_list("kind", flat=True)) == ["limit_excursion_alert"]
    assert Batch.objects.get(number=r.number).status == "in_review"
    event = AuditEvent.objects.get(action="review.report.build")
    assert event.actor_username == ""  # the system
    assert event.source == "system"
