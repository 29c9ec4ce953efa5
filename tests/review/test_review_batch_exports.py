"""The batch record exports: the PDF holds every entry and every signature (as the signatures
app manifests them) and flags values changed after first entry; the JSON verifies, and a changed
value is caught; the CSV has one row per entry."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pypdf
import pytest
from typer.testing import CliRunner

from galenic.cli import app
from galenic.execution.models import Entry
from galenic.exports import integrity, services
from galenic.exports.verify import verify
from galenic.signatures.manifestation import manifestation
from galenic.signatures.models import Signature

pytestmark = pytest.mark.django_db


def flat(text: str) -> str:
    return " ".join(text.split())


def pdf_text(data: bytes) -> str:
    return flat("\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))


@pytest.fixture
def batch(
    run: Any, report: Any, ack_all: Any, sign_review: Any, dispose: Any, personas: dict[str, Any]
) -> Any:
    """Released batch with an alert excursion, a correction, a repeat and a comment."""
    r = run()
    r.record("check", "temperature", "23.5")
    entry = r.record("check", "extra_mixing", True)
    r.correct(entry, False, "ticked the wrong box")
    r.perform("check")
    r.comment("Dryer door seal looks worn.", step="dry")
    r.dry("4.0", "2.0")
    r.count()
    r.complete()
    ack_all(report(r.number))
    sign_review(r.number)
    dispose(r.number, reason="conforms")
    return r.batch()


def test_pdf_contains_every_entry_and_signature(batch: Any, personas: dict[str, Any]) -> None:
    export = services.export_batch(actor=personas["inspector"], number=batch.number, fmt="pdf")
    text = pdf_text(export.content)
    entries = list(Entry.objects.filter(batch=batch))
    assert len(entries) >= 6
    for entry in entries:
        assert f"[{entry.key}]" in text
        assert flat(f"{entry.value} {entry.unit}".strip()) in text
    signatures = list(
        Signature.objects.filter(
            object_type__in=["execution.stepexecution", "execution.batch", "review.batchreview"]
        )
    )
    assert {s.meaning for s in signatures} >= {"performed", "approved", "reviewed", "released"} - {
        "approved"
    }
    for signature in signatures:
        assert flat(manifestation(signature).as_text()) in text
    assert "⚑ CHANGED" in text  # the corrected value and its correction (Annex 11 §8.2)
    assert "Disposition RELEASED" in text
    assert "judged limit_excursion_alert" in text  # the acknowledgement
    assert f"Record data SHA-256 {export.record_sha256}" in text


def test_json_verifies_and_a_changed_value_is_caught(
    batch: Any, personas: dict[str, Any], tmp_path: Any
) -> None:
    export = services.export_batch(actor=personas["inspector"], number=batch.number, fmt="json")
    data = integrity.loads(export.content.decode("utf-8"))
    assert data["record_sha256"] == export.record_sha256
    assert verify(data).ok, verify(data).findings
    # change one value in the file
    steps = data["record"]["steps"]
    s, e = next(
        (s, e)
        for s, step in enumerate(steps)
        for e, entry in enumerate(step["entries"])
        if entry["key"] == "temperature"
    )
    original = steps[s]["entries"][e]["value"]
    steps[s]["entries"][e]["value"] = "21.0"
    result = verify(data)
    assert f'steps[{s}].entries[{e}].value: file has "21.0", system has "{original}"' in [
        str(f) for f in result.findings
    ]
    assert any(f.where == "record" for f in result.findings)
    target = tmp_path / "changed.json"
    target.write_text(json.dumps(data), "utf-8")
    assert CliRunner().invoke(app, ["export", "verify", str(target)]).exit_code == 2


def test_csv_has_one_row_per_entry(batch: Any, personas: dict[str, Any]) -> None:
    export = services.export_batch(actor=personas["reviewer"], number=batch.number, fmt="csv")
    rows = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert len(rows) == Entry.objects.filter(batch=batch).count()
    changed = [r for r in rows if r["changed_after_first_entry"] == "yes"]
    assert len(changed) == 2  # the original and its correction
    assert {r["recorded_by"] for r in rows} >= {"olivia"}


def test_operator_cannot_export_batch_records(batch: Any, personas: dict[str, Any]) -> None:
    from galenic.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.export_batch(actor=personas["operator"], number=batch.number, fmt="pdf")
