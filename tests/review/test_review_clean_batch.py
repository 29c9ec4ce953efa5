"""A batch with nothing to judge: the report is empty, everything counts as verified
automatically, and the batch can be reviewed, signed and released."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def test_clean_batch_has_no_exceptions(run: Any, report: Any) -> None:
    batch = run().clean()
    review = report(batch.number)
    assert list(review.items.values_list("kind", flat=True)) == []
    batch.refresh_from_db()
    assert batch.status == "in_review"
    import json

    summary = json.loads(review.summary)
    assert summary["exceptions"] == 0
    assert summary["values"] == summary["values_verified"] > 0
    assert summary["steps_verified"] == summary["steps"] > 0
