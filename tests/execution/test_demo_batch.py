"""A whole demo batch through the services: the paracetamol tablets demo MBR (46 steps) from
issue to completion, with a drying loop that needs a second run, an action-limit excursion with
its comment and deviation, second-person verifications and supervisor approvals; then the
syrup demo."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from execution_helpers import effective_version, run_batch

import galenic.recipes
from galenic.core.context import action_context
from galenic.execution import services
from galenic.execution.models import BatchException, BatchStatus, Entry, StepExecution, StepStatus
from galenic.quality.models import Deviation
from galenic.signatures.models import Signature
from galenic.signatures.verify import verify

pytestmark = pytest.mark.django_db

DEMO = Path(galenic.recipes.__file__).parent / "demo"


def _issue(floor, name, number, size=None):
    effective_version(floor.personas["engineer"], text=(DEMO / name).read_text())
    from galenic.recipes.document import load_yaml

    code = load_yaml((DEMO / name).read_text()).code
    from execution_helpers import authority

    with action_context("test"):
        services.create_batch(actor=floor.supervisor, mbr=code, number=number, batch_size=size)
        services.release_to_floor(
            actor=floor.supervisor, number=number, authority=authority(floor.supervisor)
        )
        services.start_batch(actor=floor.operator, number=number)
    floor.number = number


def test_paracetamol_demo_batch_runs_to_completion(floor):
    _issue(floor, "paracetamol-500-tablets.yaml", "PCM-0001", "150000 tablet")

    def values(step, iteration, param):
        if step == "drying_cycle" and param.key == "lod" and iteration == 1:
            return "3.4"  # still wet: the loop runs again
        if step == "granulation_line_clearance" and param.key == "hsg_clean_status":
            return None
        if param.key == "room_temperature" and step == "dispensing_line_clearance":
            return "26.0"  # action excursion, commented
        return None

    order = run_batch(floor, values)
    with action_context("test"):
        batch = services.complete_batch(actor=floor.supervisor, number=floor.number)
    assert batch.status == BatchStatus.COMPLETED
    # Every step of the document ended; each performed step was signed.
    steps = StepExecution.objects.filter(batch=batch)
    assert not steps.exclude(status__in=[StepStatus.COMPLETED, StepStatus.SKIPPED]).exists()
    assert order.count("drying_cycle") == 2
    assert steps.get(step_key="overdrying_assessment").status == StepStatus.SKIPPED
    performed = Signature.objects.filter(object_type="execution.stepexecution", meaning="performed")
    assert performed.count() == len(order)
    assert (
        Signature.objects.filter(meaning="verified").count()
        == steps.filter(verification_required=True, status=StepStatus.COMPLETED).count()
    )
    assert all(verify(s).value == "valid" for s in Signature.objects.all())
    # Scaled to half the nominal size: 75 kg of paracetamol, yield in limits.
    assert Entry.objects.get(kind="material", key="API-PCM").value == "75"
    assert batch.yield_within_limits is True
    good = Decimal(Entry.objects.get(kind="calculated", key="good_tablets").value)
    assert batch.actual_yield == f"{good} tablet"
    assert batch.theoretical_yield == "150000 tablet"
    assert batch.yield_percent == (good * 100 / 150000).quantize(Decimal("0.1"))
    kinds = set(BatchException.objects.filter(batch=batch).values_list("kind", flat=True))
    assert {
        "limit_excursion_action",
        "repeated_attempt",
        "manual_entry_instrument_expected",
    } <= kinds
    deviations = Deviation.objects.filter(source="limit_excursion").order_by("id")
    assert [d.entry.key for d in deviations] == ["room_temperature", "lod"]
    assert "26.0" in deviations[0].description
    assert "noted during the demo run" in Entry.objects.get(key="room_temperature").comment


def test_syrup_demo_batch_runs_to_completion(floor):
    _issue(floor, "dextromethorphan-syrup.yaml", "DXM-0001")
    run_batch(floor)
    with action_context("test"):
        batch = services.complete_batch(actor=floor.supervisor, number=floor.number)
    assert batch.status == BatchStatus.COMPLETED
    assert batch.yield_within_limits is True
