"""21 CFR 11.10(i), 211.25(a): a step that names training (usually its SOP) is refused to anyone
without current training for it: recording its values, performing it, verifying it. The
refusal names the course and when it expired, is shown on the step screen before anyone tries,
and is kept in the audit trail."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from execution_helpers import CSRF, DATA, authority, effective_version

from galenic.accounts import services as accounts
from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.errors import TrainingRequired
from galenic.core.timefmt import local_today
from galenic.execution import services
from galenic.execution.models import Entry, StepStatus

pytestmark = pytest.mark.django_db

COURSE = "SOP-CLR-001"


@pytest.fixture
def clearance(floor: Any, personas: dict[str, Any]) -> Any:
    """A batch whose line clearance step requires training SOP-CLR-001."""
    text = (DATA / "tiny.yaml").read_text()
    marker = "            instructions: Check the room is **clear** of previous materials.\n"
    assert marker in text
    text = text.replace(marker, marker + f"            training: [{COURSE}]\n")
    version = _start(floor, personas, text, "TR1")
    assert version.document().step("line_clearance").training == [COURSE]
    return floor


def _start(floor: Any, personas: dict[str, Any], text: str, number: str) -> Any:
    """The document made effective and a batch of it started; returns the version."""
    version = effective_version(personas["engineer"], text=text)
    with action_context("test"):
        services.create_batch(actor=floor.supervisor, mbr=version.master.code, number=number)
        services.release_to_floor(
            actor=floor.supervisor, number=number, authority=authority(floor.supervisor)
        )
        services.start_batch(actor=floor.operator, number=number)
    floor.number = number
    return version


def _train(
    personas: dict[str, Any], who: Any, *, days_left: int | None = 365, days_ago: int = 400
) -> None:
    today = local_today()
    with action_context("test"):
        accounts.record_training(
            actor=personas["admin"],
            user=who,
            course=COURSE,
            title="Line clearance",
            completed_on=today - timedelta(days=days_ago),
            valid_until=None if days_left is None else today + timedelta(days=days_left),
        )


def test_11_10_i_untrained_operator_cannot_record_and_the_refusal_is_audited(clearance):
    with pytest.raises(TrainingRequired) as refused:
        clearance.record("line_clearance", "room_clear", True)
    assert refused.value.status == 403
    assert f"no training record for {COURSE}" in refused.value.message
    assert not Entry.objects.exists()
    [event] = AuditEvent.objects.filter(action="execution.entry.record.refused")
    assert COURSE in event.reason


def test_11_10_i_signing_a_step_whose_training_expired_is_blocked_with_the_reason(
    clearance, personas
):
    _train(personas, clearance.operator)
    clearance.record("line_clearance", "room_clear", True)
    # The training runs out before the operator signs.
    with action_context("test"):
        accounts.record_training(
            actor=personas["admin"],
            user=clearance.operator,
            course=COURSE,
            completed_on=local_today() - timedelta(days=30),
            valid_until=local_today() - timedelta(days=1),
        )
    with pytest.raises(TrainingRequired) as refused:
        clearance.perform("line_clearance")
    expired = (local_today() - timedelta(days=1)).isoformat()
    assert f"training {COURSE} expired on {expired}" in refused.value.message
    assert clearance.step("line_clearance").status != StepStatus.COMPLETED
    [event] = AuditEvent.objects.filter(action="execution.step.perform.refused")
    assert expired in event.reason
    # Retrained today: the latest training counts.
    _train(personas, clearance.operator, days_ago=0)
    assert clearance.perform("line_clearance").status == StepStatus.COMPLETED


def test_11_10_i_a_withdrawn_record_does_not_count(clearance, personas):
    _train(personas, clearance.operator)
    record = clearance.operator.training.get()
    with action_context("test"):
        accounts.withdraw_training(
            actor=personas["admin"], record=record, reason="entered for the wrong person"
        )
    with pytest.raises(TrainingRequired):
        clearance.record("line_clearance", "room_clear", True)


def test_11_10_i_training_that_does_not_expire_counts(clearance, personas):
    _train(personas, clearance.operator, days_left=None)
    clearance.record("line_clearance", "room_clear", True)
    assert clearance.perform("line_clearance").status == StepStatus.COMPLETED


def test_11_10_i_the_step_screen_says_what_is_missing_before_anyone_tries(clearance, api):
    page = api(clearance.operator).get("/batches/TR1/steps/line_clearance/").content.decode()
    assert f"Training required: {COURSE}" in page
    assert 'data-testid="training-gap"' in page
    assert f"no training record for {COURSE}" in page


def test_11_10_i_the_api_answers_403_training_required(clearance, api):
    answer = api(clearance.operator).post(
        "/api/v1/batches/TR1/steps/line_clearance/values",
        {"key": "room_clear", "value": True},
    )
    assert answer.status_code == 403, answer.content
    body = answer.json()
    assert body["code"] == "training_required"
    assert COURSE in body["message"]
    assert CSRF  # the helper's client sends the CSRF token


def test_steps_without_training_are_open_to_everyone(floor, personas):
    """Master records that name no training behave as before."""
    _start(floor, personas, (DATA / "tiny.yaml").read_text(), "TR2")
    floor.record("line_clearance", "room_clear", True)
    assert floor.perform("line_clearance").status == StepStatus.COMPLETED


def test_11_10_i_an_untrained_verifier_cannot_verify(floor, personas):
    text = (DATA / "line.yaml").read_text()
    marker = "            instructions: Weigh Linol.\n"
    assert marker in text
    text = text.replace(marker, marker + "            training: [SOP-WGH-001]\n")
    _start(floor, personas, text, "TR3")
    with action_context("test"):
        accounts.record_training(
            actor=personas["admin"],
            user=floor.operator,
            course="SOP-WGH-001",
            completed_on=local_today(),
        )
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21.0")
    floor.perform("clearance")
    floor.weigh("weigh", "API-L", "500.2", "g")
    floor.record("weigh", "check_weight", "500.1")
    floor.perform("weigh")
    with pytest.raises(TrainingRequired) as refused:
        floor.verify("weigh")
    assert "verify step weigh" in refused.value.message
    assert "no training record for SOP-WGH-001" in refused.value.message
    with action_context("test"):
        accounts.record_training(
            actor=personas["admin"],
            user=floor.verifier,
            course="SOP-WGH-001",
            completed_on=local_today(),
        )
    assert floor.verify("weigh").verified_at is not None
