"""Who may review and release: never someone who executed the batch (configurable for the
reviewer), and the release by someone other than the reviewer (configurable)."""

from __future__ import annotations

from typing import Any

import pytest
from review_helpers import acknowledge_policy

from galenic.core.errors import PermissionDenied

pytestmark = pytest.mark.django_db


def fields(exc: pytest.ExceptionInfo[Any]) -> set[str]:
    return {e.field for e in exc.value.errors}


@pytest.fixture
def dual(make_user: Any) -> Any:
    """Someone who is both an operator and a QA reviewer/approver."""
    user = make_user("dana", ["operator", "qa_reviewer", "qa_approver"], "Dana Dual")
    acknowledge_policy(user)
    return user


def batch_executed_by(run: Any, user: Any) -> Any:
    r = run()
    r.record("check", "temperature", "23.5", user=user)  # alert excursion, recorded by ``user``
    r.record("check", "extra_mixing", False)
    r.perform("check")
    r.dry()
    r.count()
    r.complete()
    return r


def test_reviewer_who_executed_the_batch_is_refused(
    run: Any, report: Any, dual: Any, ack_all: Any, sign_review: Any
) -> None:
    r = batch_executed_by(run, dual)
    review = report(r.number)
    with pytest.raises(PermissionDenied) as refused:
        ack_all(review, dual)
    assert fields(refused) == {"reviewer"}
    ack_all(review)  # quinn did not execute it
    with pytest.raises(PermissionDenied) as refused:
        sign_review(r.number, dual)
    assert fields(refused) == {"reviewer"}


def test_independent_reviewer_can_be_switched_off(
    run: Any, report: Any, dual: Any, ack_all: Any, sign_review: Any, settings: Any
) -> None:
    settings.REVIEW_INDEPENDENT_REVIEWER = False
    r = batch_executed_by(run, dual)
    ack_all(report(r.number), dual)
    assert sign_review(r.number, dual).status == "reviewed"


def test_executor_never_releases(
    run: Any, report: Any, dual: Any, ack_all: Any, sign_review: Any, dispose: Any, settings: Any
) -> None:
    settings.REVIEW_INDEPENDENT_REVIEWER = False
    settings.REVIEW_RELEASER_NOT_REVIEWER = False
    r = batch_executed_by(run, dual)
    ack_all(report(r.number))
    sign_review(r.number)
    with pytest.raises(PermissionDenied) as refused:
        dispose(r.number, user=dual)
    assert fields(refused) == {"approver"}


def test_releaser_differs_from_reviewer_unless_configured(
    run: Any,
    report: Any,
    ack_all: Any,
    sign_review: Any,
    dispose: Any,
    personas: dict[str, Any],
    settings: Any,
) -> None:
    approver = personas["approver"]
    r = run()
    r.clean()
    report(r.number)
    sign_review(r.number, approver)
    with pytest.raises(PermissionDenied) as refused:
        dispose(r.number, user=approver)
    assert fields(refused) == {"approver"}
    settings.REVIEW_RELEASER_NOT_REVIEWER = False
    assert dispose(r.number, user=approver).status == "released"
