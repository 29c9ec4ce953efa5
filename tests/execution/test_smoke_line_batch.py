"""A line.yaml batch from creation to completion through the services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from galenic.core.context import action_context
from galenic.execution import services
from galenic.execution.models import BatchStatus

pytestmark = pytest.mark.django_db


def test_line_batch_runs_to_completion(floor):
    floor.start()
    assert floor.available() == ["clearance"]
    floor.run_line_to_count()
    assert floor.available() == ["count"]
    floor.record("count", "good_tablets", "980")
    floor.record("count", "rejected", "12")
    floor.perform("count")
    floor.approve("count")
    with action_context("test"):
        batch = services.complete_batch(actor=floor.supervisor, number=floor.number)
    assert batch.status == BatchStatus.COMPLETED
    assert batch.yield_percent == Decimal("98.0")
    assert batch.yield_within_limits is True
