"""Old Idempotency-Key records are forgotten by `galenic prune-idempotency-keys` (operational
data; a week by default): recent ones stay and keep refusing replays, the pruning is recorded in
the audit trail, and a request sent again after its key was forgotten is still refused by the
record's own state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rel_inprocess import ApiClient, running_batch
from typer.testing import CliRunner

from galenic.audit.models import AuditEvent
from galenic.cli import app
from galenic.core.errors import ValidationFailed
from galenic.core.idempotency import prune
from galenic.core.models import IdempotentRequest
from galenic.core.timefmt import utcnow
from galenic.execution.models import Entry

pytestmark = pytest.mark.django_db

VALUE = {"key": "a", "value": "21.0", "unit": "°C"}


def _values(number: str) -> str:
    return f"/api/v1/batches/{number}/steps/s1/values"


def _age(key: str, hours: int) -> None:
    IdempotentRequest.objects.filter(key=key).update(created_at=utcnow() - timedelta(hours=hours))


def test_old_keys_are_forgotten_and_recent_ones_kept(personas):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    assert api.post(_values(number), VALUE, key="old-1").status_code == 201
    assert api.post(_values(number), {**VALUE, "key": "b"}, key="new-1").status_code == 201
    _age("old-1", 200)
    assert prune(older_than_hours=168) == 1
    assert list(IdempotentRequest.objects.values_list("key", flat=True)) == ["new-1"]
    [event] = AuditEvent.objects.filter(action="system.idempotency.prune")
    assert event.category == "system"
    assert '"removed":1' in event.new_values
    # The recent key still refuses its replay.
    assert api.post(_values(number), {**VALUE, "key": "b"}, key="new-1").status_code == 409
    # The forgotten one no longer can, but the record's state refuses the value given twice.
    again = api.post(_values(number), VALUE, key="old-1")
    assert again.status_code == 409
    assert again.json()["code"] != "replayed"
    assert Entry.objects.count() == 2


def test_pruning_keeps_at_least_an_hour():
    with pytest.raises(ValidationFailed) as refused:
        prune(older_than_hours=0)
    assert refused.value.errors[0].field == "older_than_hours"


def test_prune_command_reports_the_count_and_refuses_a_bad_retention(personas):
    number = running_batch(personas)
    ApiClient(personas["operator"]).post(_values(number), VALUE, key="old-2")
    _age("old-2", 48)
    runner = CliRunner()
    done = runner.invoke(app, ["prune-idempotency-keys", "--older-than-hours", "24"])
    assert done.exit_code == 0, done.output
    assert "Removed 1 idempotency keys older than 24 hours." in done.output
    bad = runner.invoke(app, ["prune-idempotency-keys", "--older-than-hours", "0"])
    assert bad.exit_code != 0
    assert "--older-than-hours" in bad.output
