"""Release (or rejection) is a separate signed act of a QA approver, blocked while a major or
critical deviation is open, an exception is unacknowledged, or the review is unsigned or has
changed since it was signed (211.192, Annex 11 §15)."""

from __future__ import annotations

from typing import Any

import pytest

from galenic.core.context import action_context
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.execution.models import Batch
from galenic.signatures.selectors import signatures_for_object

pytestmark = pytest.mark.django_db


def fields(exc: pytest.ExceptionInfo[Any]) -> set[str]:
    return {e.field for e in exc.value.errors}


def excursion_batch(run: Any) -> Any:
    r = run()
    r.record("check", "temperature", "26.0", comment="air conditioning failed")
    r.record("check", "extra_mixing", False)
    r.perform("check")
    r.dry()
    r.count()
    r.complete()
    return r


def close_deviations(batch_number: str, personas: dict[str, Any]) -> None:
    """Set the batch's deviations closed, as QA's signed closing would leave them.

    Set directly: quality.services.close_deviation locks the row with select_related on nullable
    foreign keys, which PostgreSQL refuses (FOR UPDATE on the nullable side of an outer join);
    the closing itself is quality's to test, the gate on its outcome is ours."""
    from galenic.core.timefmt import utcnow
    from galenic.quality.models import Deviation

    for d in Deviation.objects.filter(batch__number=batch_number):
        d.status = "closed"
        d.conclusion = "Room cooled; no impact."
        d.closed_at = utcnow()
        d.closed_by = personas["approver"]
        d.save(update_fields=["status", "conclusion", "closed_at", "closed_by"])


def test_release_needs_acknowledgements_signed_review_and_closed_deviations(
    run: Any, report: Any, ack_all: Any, sign_review: Any, dispose: Any, personas: dict[str, Any]
) -> None:
    r = excursion_batch(run)
    review = report(r.number)
    with pytest.raises(Conflict) as refused:
        dispose(r.number)
    assert fields(refused) == {"review", "items", "deviations"}

    with pytest.raises(Conflict) as refused:
        sign_review(r.number)
    assert fields(refused) == {"items"}

    ack_all(review)
    sign_review(r.number)
    with pytest.raises(Conflict) as refused:
        dispose(r.number)
    assert fields(refused) == {"deviations"}  # the action excursion's deviation (major) is open

    close_deviations(r.number, personas)
    review = dispose(r.number, reason="conforms")
    assert review.status == "released"
    assert Batch.objects.get(number=r.number).status == "released"
    meanings = [e.signature.meaning for e in signatures_for_object(review)]
    assert meanings == ["reviewed", "released"]
    assert all(e.ok for e in signatures_for_object(review))


def test_minor_deviation_does_not_block(
    run: Any, report: Any, ack_all: Any, sign_review: Any, dispose: Any, personas: dict[str, Any]
) -> None:
    from galenic.quality.models import Deviation

    r = excursion_batch(run)
    deviation = Deviation.objects.get(batch__number=r.number)
    deviation.classification = "minor"  # as QA's classification would (see close_deviations)
    deviation.save(update_fields=["classification"])
    ack_all(report(r.number))
    sign_review(r.number)
    assert dispose(r.number).status == "released"


def test_data_changed_after_the_review_needs_a_new_review(
    run: Any, report: Any, ack_all: Any, sign_review: Any, dispose: Any
) -> None:
    from galenic.core.errors import Conflict as Refused

    r = run()
    r.clean()
    report(r.number)
    sign_review(r.number)
    with pytest.raises(Refused):  # the attempt is refused, and audited
        r.record("count", "good_tablets", "995")
    with pytest.raises(Conflict) as refused:
        dispose(r.number)
    assert "items" in fields(refused)
    ack_all(report(r.number))  # the refresh adds the attempt after completion
    with pytest.raises(Conflict) as refused:
        dispose(r.number)
    assert fields(refused) == {"review"}  # the signed review changed: sign again
    sign_review(r.number)
    assert dispose(r.number).status == "released"


def test_rejection_needs_a_reason_and_is_signed(
    run: Any, report: Any, sign_review: Any, dispose: Any
) -> None:
    r = run()
    r.clean()
    report(r.number)
    sign_review(r.number)
    with pytest.raises(ValidationFailed) as refused:
        dispose(r.number, release=False)
    assert fields(refused) == {"reason"}
    review = dispose(r.number, release=False, reason="Tablet hardness out of trend.")
    assert review.status == "rejected"
    assert Batch.objects.get(number=r.number).status == "rejected"
    assert [e.signature.meaning for e in signatures_for_object(review)][-1] == "rejected"
    with pytest.raises(Conflict):
        dispose(r.number)  # dispositioned once


def test_only_qa_approvers_release(
    run: Any, report: Any, sign_review: Any, personas: dict[str, Any]
) -> None:
    from galenic.review import services

    r = run()
    r.clean()
    report(r.number)
    sign_review(r.number)
    for role in ("operator", "supervisor", "reviewer", "inspector"):
        with pytest.raises(PermissionDenied), action_context("test"):
            services.release(actor=personas[role], number=r.number, authority=None)  # type: ignore[arg-type]
