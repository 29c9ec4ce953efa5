"""Corrections are new entries with a reason; the original stays visible. A correction after
verification voids it; on a performed or completed step, calculations and limits are redone."""

from __future__ import annotations

import pytest

from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.errors import Conflict, ValidationFailed
from galenic.execution import selectors, services
from galenic.execution.models import BatchException, Entry, EntryKind, StepStatus
from galenic.quality.models import Deviation
from galenic.signatures import verify as signature_verify
from galenic.signatures.models import Signature

pytestmark = pytest.mark.django_db


def test_the_original_stays_visible_and_the_chain_is_kept(floor):
    floor.start()
    first = floor.record("clearance", "temperature", "12.1", comment="typo")
    fixed = floor.correct(first, "21.1", "typed 12.1 instead of 21.1")
    assert fixed.supersedes == first
    assert Entry.objects.get(pk=first.pk).value == "12.1"  # untouched
    assert first.superseded_by == fixed  # reverse side of the chain
    current = selectors.current_entries(Entry.objects.filter(step=floor.step("clearance")))
    assert current[(EntryKind.PARAMETER, "temperature")] == fixed
    event = AuditEvent.objects.get(action="execution.entry.correct")
    assert '"value":"12.1"' in event.old_values
    assert '"value":"21.1"' in event.new_values
    assert event.reason == "typed 12.1 instead of 21.1"
    exception = BatchException.objects.get(kind="correction")
    assert exception.context_dict()["original_value"] == "12.1"


def test_a_correction_needs_a_reason(floor):
    floor.start()
    first = floor.record("clearance", "temperature", "21")
    with pytest.raises(ValidationFailed) as refused:
        floor.correct(first, "22", "   ")
    assert refused.value.field == "reason"
    assert Entry.objects.count() == 1


def test_only_the_latest_value_can_be_corrected(floor):
    floor.start()
    first = floor.record("clearance", "temperature", "21")
    floor.correct(first, "22", "misread")
    with pytest.raises(Conflict) as refused:
        floor.correct(first, "23", "again")
    assert refused.value.field == "entry_id"
    assert "latest" in refused.value.message


def test_a_second_value_for_the_same_parameter_must_be_a_correction(floor):
    floor.start()
    floor.record("clearance", "temperature", "21")
    with pytest.raises(Conflict) as refused:
        floor.record("clearance", "temperature", "22")
    assert refused.value.field == "key"
    assert "correct that entry" in refused.value.message


def _weigh_verified(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    floor.weigh("weigh", "API-L", "500", "g")
    entry = floor.record("weigh", "check_weight", "500")
    floor.perform("weigh")
    floor.verify("weigh")
    return entry


def test_a_correction_after_verification_voids_it_and_needs_reverification(floor):
    entry = _weigh_verified(floor)
    floor.correct(entry, "501", "balance display misread")
    step = floor.step("weigh")
    assert step.verified_at is None
    assert step.needs_reverification
    assert step.status == StepStatus.COMPLETED  # the flow moved on; the signature is due again
    assert BatchException.objects.filter(kind="verification_voided").count() == 1
    # The earlier signatures no longer match the step's values.
    signed = Signature.objects.filter(object_type="execution.stepexecution", object_id=str(step.pk))
    assert {signature_verify.verify(s).value for s in signed} == {"changed_after_signing"}
    floor.verify("weigh")
    step = floor.step("weigh")
    assert step.verified_by == floor.verifier
    assert not step.needs_reverification


def test_batch_cannot_complete_while_a_step_awaits_reverification(floor):
    entry = _weigh_verified(floor)
    floor.record("press", "force", "12")
    floor.perform("press")
    floor.record("count", "good_tablets", "990")
    floor.record("count", "rejected", "5")
    floor.perform("count")
    floor.approve("count")
    floor.correct(entry, "501", "misread")
    with action_context("test"), pytest.raises(Conflict) as refused:
        services.complete_batch(actor=floor.supervisor, number=floor.number)
    assert "weigh" in refused.value.message
    floor.verify("weigh")
    with action_context("test"):
        services.complete_batch(actor=floor.supervisor, number=floor.number)


def test_correcting_an_input_recalculates_and_reevaluates(floor):
    floor.start()
    floor.run_line_to_count()
    good = floor.record("count", "good_tablets", "990")
    floor.record("count", "rejected", "5")
    floor.perform("count")
    total = Entry.objects.get(kind="calculated", key="total")
    assert total.value == "995"
    assert '"good_tablets"' in total.calculation
    floor.correct(good, "980", "recount")
    recalculated = Entry.objects.get(kind="calculated", supersedes=total)
    assert recalculated.value == "985"
    assert "recalculated after the correction" in recalculated.reason
    assert floor.step("count").completion_seq is None  # still awaiting approval


def test_a_correction_on_a_completed_step_redoes_limits_and_flow_values(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    temp = floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    fixed = floor.correct(temp, "26", "thermometer read wrong way", comment="HVAC check")
    assert fixed.severity == "action"
    assert Deviation.objects.filter(entry=fixed).exists()
    assert floor.step("clearance").flow_values_dict()["temperature"]["value"] == "26"


def test_calculated_values_are_not_corrected_by_hand(floor):
    floor.start()
    floor.run_line_to_count()
    floor.record("count", "good_tablets", "990")
    floor.record("count", "rejected", "5")
    floor.perform("count")
    total = Entry.objects.get(kind="calculated", key="total")
    with pytest.raises(ValidationFailed) as refused:
        floor.correct(total, "1000", "looks nicer")
    assert refused.value.field == "entry_id"
