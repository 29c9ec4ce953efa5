"""`galenic seed-demo` issues and starts a batch of each demo MBR, and a second tablet batch worked
up to the granulator's dry mix (its values come from MQTT); seeding again changes nothing."""

from __future__ import annotations

import pytest

from galenic.core.demo import seed_all
from galenic.execution.models import Batch, StepExecution

pytestmark = pytest.mark.django_db


def test_demo_batches_are_issued_once():
    lines = list(seed_all())
    assert any("PCM-DEMO-001" in line for line in lines), lines
    batches = {b.number: b for b in Batch.objects.all()}
    assert set(batches) == {"PCM-DEMO-001", "DXM-DEMO-001", "PCM-DEMO-002"}
    assert {b.status for b in batches.values()} == {"in_progress"}
    assert batches["PCM-DEMO-001"].batch_size == "150000 tablet"
    assert StepExecution.objects.filter(batch__number="PCM-DEMO-001").exists()
    list(seed_all())
    assert Batch.objects.count() == 3


def test_the_second_tablet_batch_waits_at_the_dry_mix():
    from galenic.execution import selectors
    from galenic.execution.models import BatchException

    list(seed_all())
    batch = Batch.objects.get(number="PCM-DEMO-002")
    open_steps = {s.step_key for s in selectors.open_steps(batch)}
    assert "dry_mix" in open_steps
    done = StepExecution.objects.filter(batch=batch, status="completed")
    assert done.filter(step_key="dispense_paracetamol").exists()
    assert done.filter(step_key="charge_granulator").exists()
    # The balance values the seeding typed are what they are: exceptions, with the reason.
    typed = BatchException.objects.filter(batch=batch, kind="manual_entry_instrument_expected")
    assert typed.exists()
    assert all("demo seeding" in e.message for e in typed)


def test_every_page_of_the_demo_batches_renders(client):
    """Each step screen of both demo batches (every step of both demo MBRs), the batch pages and the
    MBR pages open without an error for the operator and the process engineer."""
    from galenic.accounts.models import User
    from galenic.recipes import selectors as recipes

    list(seed_all())
    client.force_login(User.objects.get(username="olivia"))
    for batch in Batch.objects.all():
        assert client.get(f"/batches/{batch.number}/").status_code == 200
        document = batch.master_version.document()
        for ref in document.walk_steps():
            page = client.get(f"/batches/{batch.number}/steps/{ref.step.key}/")
            assert page.status_code == 200, (batch.number, ref.step.key, page.status_code)
    client.force_login(User.objects.get(username="petra"))
    for code in ("MBR-PCM500-TAB", "MBR-DXM15-SYR"):
        version = recipes.effective_version(code)
        for path in (
            f"/mbrs/{code}/",
            f"/mbrs/{code}/v{version.version}/",
            f"/mbrs/{code}/v{version.version}/dry-run/",
        ):
            assert client.get(path).status_code == 200, path
