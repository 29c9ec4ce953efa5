"""`galenic seed-demo` issues and starts a batch of each demo MBR; seeding again changes nothing."""

from __future__ import annotations

import pytest

from galenic.core.demo import seed_all
from galenic.execution.models import Batch, StepExecution

pytestmark = pytest.mark.django_db


def test_demo_batches_are_issued_once():
    lines = list(seed_all())
    assert any("PCM-DEMO-001" in line for line in lines), lines
    batches = {b.number: b for b in Batch.objects.all()}
    assert set(batches) == {"PCM-DEMO-001", "DXM-DEMO-001"}
    assert {b.status for b in batches.values()} == {"in_progress"}
    assert batches["PCM-DEMO-001"].batch_size == "150000 tablet"
    assert StepExecution.objects.filter(batch__number="PCM-DEMO-001").exists()
    list(seed_all())
    assert Batch.objects.count() == 2
