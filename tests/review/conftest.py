"""Fixtures for review tests: ``run`` starts a batch of data/review.yaml (personas have signed
the policy); ``review`` builds its exception report; ``signer`` signs through the services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from review_helpers import Run, authority, start


@pytest.fixture
def run(personas: dict[str, Any]) -> Callable[..., Run]:
    def _run(number: str = "R001") -> Run:
        return start(personas, number)

    return _run


@pytest.fixture
def report() -> Callable[..., Any]:
    """report(number, user=None) → the BatchReview, built or refreshed."""
    from galenic.core.context import action_context
    from galenic.review import services

    def _report(number: str, user: Any = None) -> Any:
        with action_context("test"):
            return services.refresh_report(actor=user, number=number)

    return _report


@pytest.fixture
def ack_all(personas: dict[str, Any]) -> Callable[..., None]:
    from galenic.core.context import action_context
    from galenic.review import services

    def _ack(review: Any, user: Any = None) -> None:
        user = user or personas["reviewer"]
        for item in review.items.filter(acknowledged_at__isnull=True):
            with action_context("test"):
                services.acknowledge(
                    actor=user,
                    number=review.batch.number,
                    item_id=item.pk,
                    comment=f"judged {item.kind}",
                )

    return _ack


@pytest.fixture
def sign_review(personas: dict[str, Any]) -> Callable[..., Any]:
    from galenic.core.context import action_context
    from galenic.review import services

    def _sign(number: str, user: Any = None) -> Any:
        user = user or personas["reviewer"]
        granted = authority(user)
        with action_context("test"):
            return services.sign_review(actor=user, number=number, authority=granted, reason="")

    return _sign


@pytest.fixture
def dispose(personas: dict[str, Any]) -> Callable[..., Any]:
    from galenic.core.context import action_context
    from galenic.review import services

    def _dispose(number: str, *, release: bool = True, user: Any = None, reason: str = "") -> Any:
        user = user or personas["approver"]
        granted = authority(user)
        with action_context("test"):
            if release:
                return services.release(actor=user, number=number, authority=granted, reason=reason)
            return services.reject(actor=user, number=number, authority=granted, reason=reason)

    return _dispose
