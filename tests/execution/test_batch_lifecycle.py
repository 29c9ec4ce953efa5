"""created → released to floor (signed) → in progress; nothing is recorded before the start."""

from __future__ import annotations

import pytest
from execution_helpers import authority

from galenic.core.context import action_context
from galenic.core.errors import Conflict, PermissionDenied
from galenic.execution import services
from galenic.execution.models import BatchStatus
from galenic.signatures import verify
from galenic.signatures.models import Signature

pytestmark = pytest.mark.django_db


def test_release_to_floor_is_signed_over_the_frozen_master_copy(floor):
    floor.create()
    with action_context("test"):
        batch = services.release_to_floor(
            actor=floor.supervisor, number=floor.number, authority=authority(floor.supervisor)
        )
    assert batch.status == BatchStatus.RELEASED_TO_FLOOR
    signature = Signature.objects.get(object_type="execution.batch", object_id=str(batch.pk))
    assert (signature.meaning, signature.signer_user_id) == ("approved", "sam")
    assert batch.document_hash in signature.content_json
    assert verify.verify(signature).value == "valid"


def test_start_before_release_is_refused(floor):
    floor.create()
    with action_context("test"), pytest.raises(Conflict) as refused:
        services.start_batch(actor=floor.operator, number=floor.number)
    assert refused.value.field == "status"


def test_nothing_is_recorded_before_the_start(floor):
    floor.create()
    with pytest.raises(Conflict) as refused:
        floor.record("clearance", "temperature", "21")
    assert "created" in refused.value.message


def test_qa_cannot_start_or_execute(floor):
    floor.create()
    with action_context("test"):
        services.release_to_floor(
            actor=floor.supervisor, number=floor.number, authority=authority(floor.supervisor)
        )
        with pytest.raises(PermissionDenied):
            services.start_batch(actor=floor.personas["reviewer"], number=floor.number)
        services.start_batch(actor=floor.operator, number=floor.number)
    with pytest.raises(PermissionDenied):
        floor.record("clearance", "temperature", "21", user=floor.personas["approver"])


def test_the_signature_stays_valid_through_the_run(floor):
    floor.start()
    floor.run_line_to_count()
    signature = Signature.objects.get(object_type="execution.batch")
    assert verify.verify(signature).value == "valid"
