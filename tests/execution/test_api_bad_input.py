"""Every bad request is refused with an error naming the field, and nothing recorded earlier
changes: wrong type, unknown unit, a value for a step that is not current, a missing reason, a
wrong password, and a few more."""

from __future__ import annotations

from typing import Any

import pytest

from galenic.audit.models import AuditEvent
from galenic.execution.models import Entry, StepExecution
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

B = "/api/v1/batches/B001"


def _snapshot() -> list[tuple[Any, ...]]:
    entries = list(Entry.objects.order_by("id").values_list("id", "key", "value", "unit"))
    steps = list(
        StepExecution.objects.order_by("id").values_list(
            "id", "status", "row_version", "performed_by_id", "verified_by_id"
        )
    )
    return [*entries, *steps]


@pytest.fixture
def running(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    floor.weigh("weigh", "API-L", "500", "g")
    return floor


CASES = [
    # (path, body, status, field, words)
    ("steps/weigh/values", {"key": "check_weight", "value": [1, 2]}, 400, "value", ""),
    ("steps/weigh/values", {"key": "check_weight", "value": "abc"}, 400, "value", "not"),
    (
        "steps/weigh/values",
        {"key": "check_weight", "value": "5", "unit": "zorkmid"},
        400,
        "unit",
        "unknown unit",
    ),
    (
        "steps/weigh/values",
        {"key": "check_weight", "value": "5", "unit": "mL"},
        400,
        "unit",
        "incompatible",
    ),
    ("steps/weigh/values", {"key": "nope", "value": "5"}, 400, "key", "no parameter"),
    (
        "steps/weigh/values",
        {"key": "check_weight", "value": "500", "source": "guess"},
        400,
        "source",
        "manual",
    ),
    ("steps/press/values", {"key": "force", "value": "12"}, 409, "step", "finish 'weigh'"),
    (
        "steps/weigh/values",
        {"material": "API-L", "value": "501", "unit": "g"},
        409,
        "key",
        "already recorded",
    ),
    (
        "steps/weigh/values",
        {"key": "check_weight", "value": "500", "row_version": 1},
        409,
        "row_version",
        "changed since you loaded it",
    ),
    (
        "steps/weigh/values",
        {"key": "check_weight", "value": "500", "recorded_at": "2020-01-01T00:00:00Z"},
        400,
        "recorded_at",
        "server",
    ),
    (
        "steps/weigh/values",
        {"key": "check_weight", "value": "500", "observed_at": "2020-01-01T00:00:00Z"},
        400,
        "reason",
        "late entry",
    ),
    ("hold", {"reason": ""}, 403, "", ""),  # an operator may not hold at all
    (
        "steps/weigh/perform",
        {"user_id": "olivia", "password": "wrong-password-1"},
        400,
        "password",
        "",
    ),
    ("steps/weigh/perform", {"user_id": "olivia", "password": ""}, 400, "password", "password"),
    ("entries/999999/correct", {"value": "1", "reason": "x"}, 404, "entry_id", ""),
    ("comments", {"text": "", "step_key": "weigh"}, 400, "text", ""),
]


@pytest.mark.parametrize(("path", "body", "status", "field", "words"), CASES)
def test_bad_request_names_the_field_and_changes_nothing(
    running, api, path, body, status, field, words
):
    olivia = api(running.operator)
    before = _snapshot()
    answer = olivia.post(f"{B}/{path}", body)
    assert answer.status_code == status, answer.json()
    payload = answer.json()
    assert set(payload) == {"code", "message", "errors"}
    if field:
        assert payload["errors"][0]["field"] == field, payload
    if words:
        assert words in payload["message"] or words in payload["errors"][0]["message"], payload
    assert _snapshot() == before


def test_missing_reason_for_a_correction_names_the_field(running, api):
    entry = Entry.objects.get(key="API-L")
    before = _snapshot()
    answer = api(running.operator).post(f"{B}/entries/{entry.pk}/correct", {"value": "501"})
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "reason"
    blank = api(running.operator).post(
        f"{B}/entries/{entry.pk}/correct", {"value": "501", "reason": "  "}
    )
    assert blank.json()["errors"][0]["field"] == "reason"
    assert _snapshot() == before


def test_a_wrong_password_counts_and_signs_nothing(running, api):
    from galenic.accounts.models import User

    running.record("weigh", "check_weight", "500")
    before = _snapshot()
    answer = api(running.operator).post(
        f"{B}/steps/weigh/perform", {"user_id": "olivia", "password": "not-my-password"}
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "password"
    assert User.objects.get(pk=running.operator.pk).failed_attempts == 1
    assert _snapshot() == before
    ok = api(running.operator).post(
        f"{B}/steps/weigh/perform", {"user_id": "olivia", "password": PASSWORD}
    )
    assert ok.status_code == 200


def test_one_bad_value_in_a_batch_call_records_none(running, api):
    before = _snapshot()
    answer = api(running.operator).post(
        f"{B}/steps/weigh/values/batch",
        {
            "values": [
                {"key": "check_weight", "value": "500"},
                {"key": "check_weight2", "value": "1"},
            ]
        },
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "values[1].key"
    assert _snapshot() == before


def test_refused_conflicts_are_audited(running, api):
    api(running.operator).post(f"{B}/steps/press/values", {"key": "force", "value": "12"})
    event = AuditEvent.objects.get(action="execution.entry.record.refused")
    assert event.actor_username == "olivia"
    assert "weigh" in event.reason


def test_unauthenticated_is_401_and_inspectors_only_read(running, api):
    assert api().get(B).status_code == 401
    ian = api(running.personas["inspector"])
    assert ian.get(B).status_code == 200
    answer = ian.post(f"{B}/steps/weigh/values", {"key": "check_weight", "value": "500"})
    assert answer.status_code == 403
