"""The batch export verifies thousands of step signatures with contents computed in bulk; that
content must be exactly what the signatures registry computes for each step, and a signature
whose step changed after signing is shown as such in the export as everywhere else."""

from __future__ import annotations

from typing import Any

import pytest

from galenic.execution.models import Entry, StepExecution
from galenic.exports.batch_data import batch_record
from galenic.exports.signature_check import step_contents
from galenic.signatures import registry
from galenic.signatures.binding import canonical_content
from galenic.signatures.selectors import signatures_for

pytestmark = pytest.mark.django_db


def test_bulk_content_equals_registry_content(run: Any) -> None:
    r = run()
    r.check(temperature="23.5")
    entry = r.record("dry", "lod", "4.0")
    r.correct(entry, "3.0", "misread")
    r.perform("dry")
    r.dry()
    r.count()
    r.complete()
    batch = r.batch()
    steps = list(StepExecution.objects.filter(batch=batch))
    entries = list(Entry.objects.filter(batch=batch).select_related("recorded_by"))
    bulk = step_contents(batch, steps, entries)
    assert len(bulk) == len(steps) >= 5
    for step in steps:
        assert canonical_content(
            bulk[("execution.stepexecution", str(step.pk))]
        ) == canonical_content(registry.content_of(step))


def test_export_shows_signature_status_as_the_signatures_app_does(run: Any) -> None:
    r = run()
    temperature = r.record("check", "temperature", "21.0")
    r.record("check", "extra_mixing", False)
    r.perform("check")
    r.correct(temperature, "21.5", "read the wrong thermometer")  # after the performer signed
    r.dry()
    r.count()
    r.complete()
    record = batch_record(r.batch())
    statuses = []
    for step in record["steps"]:
        expected = [
            e.status.value for e in signatures_for("execution.stepexecution", str(step["id"]))
        ]
        assert [s["status"] for s in step["signatures"]] == expected
        statuses += expected
    assert "changed_after_signing" in statuses
    assert statuses.count("valid") >= 2
