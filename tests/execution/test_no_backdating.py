"""No backdating: the server's clock stamps every entry. An observation made earlier (a paper
record during an outage) is a late entry: it needs a reason and becomes an exception."""

from __future__ import annotations

from datetime import timedelta

import pytest

from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.execution.models import BatchException, Entry

pytestmark = pytest.mark.django_db


def _started_an_hour_ago(floor):
    batch = floor.batch()
    batch.started_at = utcnow() - timedelta(hours=1)
    batch.save(update_fields=["started_at"])


def test_a_client_time_is_refused(floor):
    floor.start()
    earlier = (utcnow() - timedelta(hours=1)).isoformat()
    with pytest.raises(ValidationFailed) as refused:
        floor.record("clearance", "temperature", "21", recorded_at=earlier)
    assert refused.value.field == "recorded_at"
    assert "observed_at" in refused.value.message
    assert not Entry.objects.exists()


def test_entries_carry_server_time(floor):
    floor.start()
    before = utcnow()
    entry = floor.record("clearance", "temperature", "21")
    assert before <= entry.recorded_at <= utcnow()
    assert entry.observed_at is None
    assert not entry.late


def test_a_late_entry_needs_a_reason(floor):
    floor.start()
    _started_an_hour_ago(floor)
    observed = utcnow() - timedelta(seconds=30)
    with pytest.raises(ValidationFailed) as refused:
        floor.record("clearance", "temperature", "21", observed_at=observed.isoformat())
    assert refused.value.field == "reason"
    assert not Entry.objects.exists()


def test_a_late_entry_with_a_reason_is_kept_and_flagged(floor):
    floor.start()
    _started_an_hour_ago(floor)
    observed = utcnow() - timedelta(seconds=30)
    entry = floor.record(
        "clearance",
        "temperature",
        "21",
        observed_at=observed.isoformat(),
        reason="transcribed from paper record PR-7 (tablet offline)",
    )
    assert entry.late
    assert entry.observed_at == observed
    assert entry.recorded_at > observed  # recorded now, observed earlier: both kept
    exception = BatchException.objects.get(kind="late_entry")
    assert exception.entry == entry
    assert "PR-7" in exception.message


@pytest.mark.parametrize(
    ("delta", "words"),
    [(timedelta(minutes=5), "future"), (-timedelta(days=3), "before the batch started")],
)
def test_impossible_observation_times_are_refused(floor, delta, words):
    floor.start()
    with pytest.raises(ValidationFailed) as refused:
        floor.record(
            "clearance",
            "temperature",
            "21",
            observed_at=(utcnow() + delta).isoformat(),
            reason="paper record",
        )
    assert refused.value.field == "observed_at"
    assert words in refused.value.message


def test_an_observation_time_without_zone_is_refused(floor):
    floor.start()
    with pytest.raises(ValidationFailed) as refused:
        floor.record(
            "clearance", "temperature", "21", observed_at="2026-01-01T10:00:00", reason="paper"
        )
    assert refused.value.field == "observed_at"
    assert "time zone" in refused.value.message
