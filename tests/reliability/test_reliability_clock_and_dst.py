"""Clock skew and daylight-saving changes.

- The server's clock is the only clock: a client that claims a recording time, or sends a
  skewed Date header, changes nothing about the times recorded (entries, signatures, audit
  events); an observation time in the future is refused; an earlier one is a late entry that
  needs a reason and is flagged.
- A server clock stepped back (an NTP correction) leaves every recorded time as it was and the
  audit chain verifying: it chains by sequence, not by time.
- Durations across a DST change are real elapsed time (UTC), and times shown in Europe/Berlin
  carry their zone and offset, so the repeated hour of the autumn change is never ambiguous.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from rel_inprocess import DATA, ApiClient, Clock, running_batch

from galenic.audit.models import AuditEvent
from galenic.execution.models import BatchException, Entry, StepExecution
from galenic.signatures.models import Signature
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

VALUES = "/api/v1/batches/{}/steps/{}/values"


def _now() -> datetime:
    return datetime.now(UTC)


@pytest.mark.parametrize("skew", [timedelta(hours=-3), timedelta(days=2)])
def test_a_client_clock_changes_nothing_recorded(personas, skew):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    client_time = _now() + skew
    claimed = api.post(
        VALUES.format(number, "s1"),
        {"key": "a", "value": "21.0", "unit": "°C", "recorded_at": client_time.isoformat()},
    )
    assert claimed.status_code == 400
    assert claimed.json()["errors"][0]["field"] == "recorded_at"
    assert not Entry.objects.exists()
    # A skewed Date header is not a clock either.
    before = _now()
    api.client.defaults["HTTP_DATE"] = client_time.strftime("%a, %d %b %Y %H:%M:%S GMT")
    for key in ("a", "b", "c"):
        answer = api.post(VALUES.format(number, "s1"), {"key": key, "value": "21", "unit": "°C"})
        assert answer.status_code == 201
    signed = api.post(
        f"/api/v1/batches/{number}/steps/s1/perform", {"user_id": "olivia", "password": PASSWORD}
    )
    assert signed.status_code == 200
    after = _now()
    for entry in Entry.objects.all():
        assert before <= entry.recorded_at <= after
        assert entry.observed_at is None
        assert not entry.late
    [signature] = Signature.objects.filter(meaning="performed")
    assert before <= signature.signed_at <= after
    for event in AuditEvent.objects.filter(occurred_at__gte=before - timedelta(seconds=1)):
        assert event.occurred_at <= after


def test_observation_times_from_a_skewed_client(personas, monkeypatch):
    clock = Clock(_now() - timedelta(minutes=30)).install(monkeypatch)
    number = running_batch(personas)
    clock.advance(minutes=30)
    api = ApiClient(personas["operator"])
    path = VALUES.format(number, "s1")
    ahead = api.post(
        path,
        {
            "key": "a",
            "value": "21",
            "unit": "°C",
            "observed_at": (_now() + timedelta(minutes=5)).isoformat(),
            "reason": "x",
        },
    )
    assert ahead.status_code == 400
    assert "future" in ahead.json()["message"]
    earlier = (_now() - timedelta(minutes=10)).isoformat()
    no_reason = api.post(path, {"key": "a", "value": "21", "unit": "°C", "observed_at": earlier})
    assert no_reason.status_code == 400
    assert no_reason.json()["errors"][0]["field"] == "reason"
    assert not Entry.objects.exists()
    late = api.post(
        path,
        {
            "key": "a",
            "value": "21",
            "unit": "°C",
            "observed_at": earlier,
            "reason": "paper record PR-9",
        },
    )
    assert late.status_code == 201
    entry = Entry.objects.get()
    assert entry.late
    assert entry.observed_at < entry.recorded_at
    assert BatchException.objects.filter(kind="late_entry", entry=entry).exists()


def test_a_server_clock_stepped_back_keeps_records_and_chain(
    personas, monkeypatch, settings, tmp_path
):
    from galenic.audit.verify import verify_chain

    settings.AUDIT_CHECKPOINT_DIR = tmp_path / "checkpoints"  # this trail's own
    clock = Clock(_now()).install(monkeypatch)
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    assert (
        api.post(VALUES.format(number, "s1"), {"key": "a", "value": "21", "unit": "°C"}).status_code
        == 201
    )
    first = Entry.objects.get(key="a").recorded_at
    clock.advance(minutes=-7)  # NTP steps the server's clock back
    assert (
        api.post(VALUES.format(number, "s1"), {"key": "b", "value": "21", "unit": "°C"}).status_code
        == 201
    )
    assert Entry.objects.get(key="a").recorded_at == first
    assert Entry.objects.get(key="b").recorded_at == first - timedelta(minutes=7)
    result = verify_chain()
    assert result.ok, result.problem


DST_MBR = (
    (DATA / "reliability.yaml")
    .read_text()
    .replace(
        "            title: Step one\n",
        "            title: Step one\n            duration:\n              min: 50 min\n              max: 70 min\n",
    )
)


@pytest.mark.parametrize(
    ("start_utc", "start_local", "end_local"),
    [
        # 29 March 2026: 02:00 CET becomes 03:00 CEST. One hour passes; the wall clock moves two.
        (
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "01:30:00 CET (UTC+01:00)",
            "03:30:00 CEST (UTC+02:00)",
        ),
        # 25 October 2026: 03:00 CEST becomes 02:00 CET. One hour passes; the wall clock stands still.
        (
            datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
            "02:30:00 CEST (UTC+02:00)",
            "02:30:00 CET (UTC+01:00)",
        ),
    ],
)
def test_durations_across_a_dst_change(
    personas, monkeypatch, settings, start_utc, start_local, end_local
):
    from galenic.core.timefmt import format_datetime

    settings.DISPLAY_TIME_ZONE = "Europe/Berlin"
    clock = Clock(start_utc - timedelta(minutes=5)).install(monkeypatch)
    number = running_batch(personas, text=DST_MBR)
    api = ApiClient(personas["operator"])
    clock.now = start_utc
    assert (
        api.post(VALUES.format(number, "s1"), {"key": "a", "value": "21", "unit": "°C"}).status_code
        == 201
    )
    clock.advance(minutes=30)
    assert (
        api.post(VALUES.format(number, "s1"), {"key": "b", "value": "21", "unit": "°C"}).status_code
        == 201
    )
    assert (
        api.post(VALUES.format(number, "s1"), {"key": "c", "value": "21", "unit": "°C"}).status_code
        == 201
    )
    clock.advance(minutes=30)
    signed = api.post(
        f"/api/v1/batches/{number}/steps/s1/perform", {"user_id": "olivia", "password": PASSWORD}
    )
    assert signed.status_code == 200
    step = StepExecution.objects.get(step_key="s1")
    assert step.performed_at - step.started_at == timedelta(hours=1)
    # Within the expected 50..70 min: no duration exception, whatever the wall clock did.
    assert not BatchException.objects.filter(kind="duration_out_of_range").exists()
    assert format_datetime(step.started_at).endswith(start_local)
    assert format_datetime(step.performed_at).endswith(end_local)
    page = api.client.get(f"/batches/{number}/")
    assert end_local.split(" (")[0] in page.content.decode()
    [signature] = Signature.objects.filter(meaning="performed")
    assert signature.signed_at == step.performed_at


def test_a_step_too_long_by_the_clock_is_flagged_across_dst(personas, monkeypatch):
    """The check runs on elapsed time: 80 min across the spring change is 80 min, not 140."""
    clock = Clock(datetime(2026, 3, 29, 0, 20, tzinfo=UTC)).install(monkeypatch)
    number = running_batch(personas, text=DST_MBR)
    api = ApiClient(personas["operator"])
    for key in ("a", "b", "c"):
        assert (
            api.post(
                VALUES.format(number, "s1"), {"key": key, "value": "21", "unit": "°C"}
            ).status_code
            == 201
        )
    clock.advance(minutes=80)
    api.post(
        f"/api/v1/batches/{number}/steps/s1/perform", {"user_id": "olivia", "password": PASSWORD}
    )
    [flagged] = BatchException.objects.filter(kind="duration_out_of_range")
    assert "took 80.0 min" in flagged.message
