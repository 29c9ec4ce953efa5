"""Second-person verification (211.101, Annex 11 §6): a different person verifies; nobody
verifies or approves their own work; supervisor approval where the MBR asks for it."""

from __future__ import annotations

import pytest

from galenic.core.errors import Conflict, PermissionDenied
from galenic.execution.models import StepStatus
from galenic.signatures.models import Signature

pytestmark = pytest.mark.django_db


def _performed_weigh(floor, *, performer=None, weigher=None):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    floor.weigh("weigh", "API-L", "500", "g", user=weigher or floor.operator)
    floor.record("weigh", "check_weight", "500", user=performer or floor.operator)
    floor.perform("weigh", user=performer or floor.operator)


def test_the_performer_cannot_verify_their_own_step(floor):
    # victor holds the operator and the verifier role: he performs, so he may not verify.
    _performed_weigh(floor, performer=floor.verifier, weigher=floor.verifier)
    with pytest.raises(PermissionDenied) as refused:
        floor.verify("weigh", user=floor.verifier)
    assert refused.value.field == "user_id"
    assert "own work" in refused.value.message
    assert floor.step("weigh").verified_at is None


def test_someone_who_recorded_values_cannot_verify_the_step(floor):
    _performed_weigh(floor, weigher=floor.verifier)
    with pytest.raises(PermissionDenied):
        floor.verify("weigh", user=floor.verifier)


def test_a_second_person_verifies_and_signs(floor):
    _performed_weigh(floor)
    step = floor.verify("weigh")
    assert step.verified_by == floor.verifier
    assert step.status == StepStatus.COMPLETED
    meanings = list(
        Signature.objects.filter(object_type="execution.stepexecution", object_id=str(step.pk))
        .order_by("signed_at")
        .values_list("signer_user_id", "meaning")
    )
    assert meanings == [("olivia", "performed"), ("victor", "verified")]


def test_verification_before_performing_is_refused(floor):
    floor.start()
    floor.record("clearance", "room_clear", True)
    floor.record("clearance", "temperature", "21")
    floor.perform("clearance")
    with pytest.raises(Conflict) as refused:
        floor.verify("weigh")
    assert "not performed yet" in refused.value.message


def test_a_step_verified_twice_is_refused(floor):
    _performed_weigh(floor)
    floor.verify("weigh")
    with pytest.raises(Conflict) as refused:
        floor.verify("weigh")
    assert "already verified" in refused.value.message


def test_supervisor_approval_and_self_approval(floor):
    floor.start()
    floor.run_line_to_count()
    floor.record("count", "good_tablets", "990")
    floor.record("count", "rejected", "5")
    floor.perform("count")
    assert floor.step("count").status == StepStatus.PERFORMED
    with pytest.raises(PermissionDenied):
        floor.approve("count", user=floor.operator)  # not a supervisor
    step = floor.approve("count")
    assert step.status == StepStatus.COMPLETED
    assert step.approved_by == floor.supervisor
