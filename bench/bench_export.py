"""Export benchmarks: the exception report and the batch record PDF.

    python bench/bench_export.py [--quick]

A batch of a generated master record with 2,000 steps is stored in a scratch SQLite database
(real execution, quality and audit tables) with 2,000 completed step executions and 20,000
entries (--quick: 200 and 2,000): every tenth entry an alert excursion, every fiftieth value
corrected (the correction is a further entry), each with its exception, one audit event per
entry, and a performer signature on every step. Rows are inserted directly (the execution
services are not what is measured here).

1. review_report: seconds to build the batch's exception report (``review.services.
   refresh_report``: read exceptions, deviations and audit events after completion, create the
   report items, compute what was verified automatically) vs reading the same exception rows
   with one query. Target: under 1 s.
2. export_pdf: seconds to export the batch record as PDF from the database
   (``exports.services.export_batch``: read everything, lay out, write) vs ReportLab drawing the
   same number of plain text pages (same embedded font, same compression) in the same run.
   Target: within 3x.
3. export_pdf_layout: the same PDF from export data generated in memory (no database), to
   separate layout and writing from reading.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for CI smoke runs")
    return parser.parse_args()


def generated_record(steps: int, entries_per_step: int) -> dict[str, Any]:
    """A batch record's export data of the given size (shape: docs/exports.md)."""
    at = "2026-03-02T08:15:00.000000Z"
    sig = {
        "uid": "00000000-0000-0000-0000-000000000000",
        "object_type": "execution.stepexecution",
        "object_id": "1",
        "meaning": "performed",
        "meaning_label": "Performed",
        "printed_name": "Olivia Operator",
        "user_id": "olivia",
        "signed_at": at,
        "signed_at_text": "2026-03-02 09:15:00 CET (UTC+01:00)",
        "time_zone": "Europe/Berlin",
        "reason": "",
        "credentials": "password",
        "content_sha256": "a" * 64,
        "binding_sha256": "b" * 64,
        "request_id": "r",
        "signer_pk": "2",
        "text": "Signed by Olivia Operator (user ID olivia) on 2026-03-02 09:15:00 CET (UTC+01:00); "
        "meaning: Performed",
        "status": "valid",
        "status_label": "Valid",
    }
    step_rows = []
    audit = []
    entry_id = 0
    for s in range(steps):
        entries = []
        for e in range(entries_per_step):
            entry_id += 1
            excursion = entry_id % 10 == 0
            corrected = entry_id % 25 == 0
            entries.append(
                {
                    "id": entry_id,
                    "kind": "parameter",
                    "key": f"param_{e}",
                    "name": f"In-process check {e}",
                    "value": f"{600 + (entry_id % 13)}.{entry_id % 10}",
                    "unit": "mg",
                    "raw_value": f"{600 + (entry_id % 13)}.{entry_id % 10}",
                    "raw_unit": "mg",
                    "source": "instrument" if e % 2 else "manual",
                    "instrument_code": "BAL-001" if e % 2 else "",
                    "instrument_serial": "B123456" if e % 2 else "",
                    "limits": "target 600 mg; alert 595\u2013605 mg; action 590\u2013610 mg",
                    "outcome": "action_excursion" if excursion else "in_range",
                    "severity": "action" if excursion else "ok",
                    "evaluation": "above the action limit 610 mg" if excursion else "",
                    "recorded_at": at,
                    "recorded_by": "olivia",
                    "recorded_by_name": "Olivia Operator",
                    "late": False,
                    "supersedes": entry_id - 1 if corrected else None,
                    "reason": "transcription error" if corrected else "",
                }
            )
            audit.append(
                {
                    "seq": entry_id,
                    "occurred_at": at,
                    "actor_id": "2",
                    "actor_username": "olivia",
                    "actor_name": "Olivia Operator",
                    "category": "gmp",
                    "action": "execution.entry.record",
                    "object_type": "execution.entry",
                    "object_id": str(entry_id),
                    "object_repr": f"param_{e}",
                    "old_values": "",
                    "new_values": f'{{"value":"{entries[-1]["value"]}","unit":"mg"}}',
                    "reason": "",
                    "request_id": "r",
                    "source": "web",
                    "prev_hash": "0" * 64,
                    "hash": "1" * 64,
                }
            )
        step_rows.append(
            {
                "id": s + 1,
                "key": f"step_{s}",
                "iteration": 1,
                "path": f"{s // 100 + 1}.{s // 10 % 10 + 1}.{s % 10 + 1}",
                "title": f"In-process control {s}",
                "unit_procedure": f"Unit procedure {s // 100 + 1}",
                "operation": f"Operation {s // 10 % 10 + 1}",
                "status": "completed",
                "status_label": "Completed",
                "instructions": "Take 20 tablets from the running press and weigh each on the "
                "balance; record every weight.",
                "started_at": at,
                "started_by": "olivia",
                "performed_at": at,
                "performed_by": "olivia",
                "entries": entries,
                "signatures": [sig],
            }
        )
    return {
        "format": "galenic.batch-record/1",
        "batch": {
            "id": 1,
            "number": "B-BENCH-0001",
            "status": "completed",
            "status_label": "Completed",
            "product_name": "Paracetamol 500 mg tablets",
            "mbr_code": "MBR-PCM500-TAB",
            "mbr_version": 3,
            "document_hash": "sha256:" + "c" * 64,
            "batch_size": "300000 tablet",
            "created_at": at,
            "created_by": "sam",
            "started_at": at,
            "completed_at": at,
            "yield": {"actual": "297000 tablet", "theoretical": "300000 tablet", "percent": "99.0"},
        },
        "steps": step_rows,
        "exceptions": [],
        "deviations": [],
        "audit": audit,
    }


def generated_document(steps: int, params: int) -> dict[str, Any]:
    """A valid master record with ``steps`` steps of ``params`` numeric parameters each."""
    ops_per_up, steps_per_op = 10, 10
    unit_procedures = []
    n = 0
    for u in range(max(1, steps // (ops_per_up * steps_per_op))):
        operations = []
        for o in range(ops_per_up):
            step_rows = []
            for _ in range(steps_per_op):
                if n >= steps:
                    break
                step_rows.append(
                    {
                        "key": f"s{n}",
                        "title": f"In-process control {n}",
                        "instructions": "Take 20 tablets and weigh each; record every weight.",
                        "parameters": [
                            {
                                "key": f"p{k}",
                                "name": f"Tablet weight {k}",
                                "unit": "mg",
                                "target": 600,
                                "alert_low": 595,
                                "alert_high": 605,
                                "action_low": 590,
                                "action_high": 610,
                                "precision": 1,
                            }
                            for k in range(params)
                        ],
                        **({"sampling": {"description": "20 tablets for QC"}} if n == 0 else {}),
                    }
                )
                n += 1
            if step_rows:
                operations.append(
                    {"key": f"op{u}_{o}", "title": f"Operation {o}", "steps": step_rows}
                )
        unit_procedures.append(
            {
                "key": f"up{u}",
                "title": f"Unit procedure {u}",
                "theoretical_output": "1000 tablet",
                "operations": operations,
            }
        )
    return {
        "format": "galenic.mbr/1",
        "code": "MBR-BENCH",
        "title": "Benchmark record",
        "product": {
            "name": "Benchtab 500 mg tablets",
            "strength": "500 mg",
            "dosage_form": "tablet",
            "dosage_unit": "tablet",
            "unit_weight": "600 mg",
            "active_ingredients": [{"material": "API-B", "amount_per_unit": "500 mg"}],
        },
        "batch_size": {"size": 1000, "unit": "tablet"},
        "components": [
            {
                "code": "API-B",
                "name": "Benchol",
                "role": "active",
                "quantity": "500 g",
                "tolerance": "1 %",
            }
        ],
        "theoretical_yield": {"quantity": "1000 tablet", "low_percent": 95, "high_percent": 101},
        "packaging": [
            {"kind": "container", "code": "BOT-B", "description": "bottle"},
            {"kind": "label", "code": "LBL-B", "description": "label", "specimen": "label_b"},
        ],
        "attachments": [
            {
                "id": "label_b",
                "filename": "label.png",
                "media_type": "image/png",
                "sha256": "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
            }
        ],
        "precautions": ["Wear gloves."],
        "unit_procedures": unit_procedures,
    }


def setup_django(data_dir: Path) -> None:
    import os

    os.environ["GALENIC_DATABASE_URL"] = f"sqlite:///{data_dir}/bench.sqlite3"
    os.environ["GALENIC_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "galenic.settings")
    os.environ.setdefault("GALENIC_LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


def store_batch(steps: int, entries_per_step: int) -> str:
    """Insert the generated batch; returns its number."""
    from datetime import timedelta

    from django.db import transaction

    from galenic.accounts import services as accounts
    from galenic.audit import services as audit
    from galenic.core.context import action_context
    from galenic.core.timefmt import utcnow
    from galenic.execution.models import Batch, BatchException, Entry, StepExecution
    from galenic.recipes.document import io
    from galenic.recipes.document.validate import require_valid
    from galenic.recipes.models import MasterRecord, MasterRecordVersion

    doc = require_valid(generated_document(steps, entries_per_step))
    with action_context("system"):
        operator = accounts.create_user(
            actor=None,
            username="olivia",
            full_name="Olivia Operator",
            password="Bench-password-42",
            roles=["operator"],
        )
        supervisor = accounts.create_user(
            actor=None,
            username="sam",
            full_name="Sam Supervisor",
            password="Bench-password-42",
            roles=["supervisor"],
        )
    now = utcnow()
    start = now - timedelta(hours=8)
    with transaction.atomic(), action_context("system"):
        master = MasterRecord.objects.create(
            code=doc.code, name=doc.title, created_at=now, created_by=supervisor
        )
        version = MasterRecordVersion.objects.create(
            master=master,
            version=1,
            status="effective",
            document_json=io.dump_json(doc, indent=None),
            content_hash=io.content_hash(doc),
            created_at=now,
            created_by=supervisor,
            updated_at=now,
            effective_at=now,
        )
        batch = Batch.objects.create(
            number="B-BENCH-1",
            master_version=version,
            mbr_code=doc.code,
            mbr_version=1,
            document_json=version.document_json,
            document_hash=version.content_hash,
            product_name=doc.product.name,
            batch_size="1000 tablet",
            status="in_progress",
            created_at=start,
            created_by=supervisor,
            started_at=start,
            started_by=operator,
        )
        step_rows = StepExecution.objects.bulk_create(
            [
                StepExecution(
                    batch=batch,
                    step_key=ref.step.key,
                    iteration=1,
                    position=n,
                    title=ref.step.title,
                    status="completed",
                    opened_at=start,
                    started_at=start,
                    started_by=operator,
                    performed_at=start + timedelta(minutes=2),
                    performed_by=operator,
                    completed_at=start + timedelta(minutes=2),
                    completion_seq=n + 1,
                )
                for n, ref in enumerate(doc.walk_steps())
            ]
        )
        entries = []
        for step in step_rows:
            for k in range(entries_per_step):
                i = len(entries) + 1
                alert = i % 10 == 0
                entries.append(
                    Entry(
                        batch=batch,
                        step=step,
                        kind="parameter",
                        key=f"p{k}",
                        recorded_at=start + timedelta(minutes=1),
                        recorded_by=operator,
                        source="manual",
                        raw_value=f"{606 if alert else 600 + i % 4}.0",
                        value_type="number",
                        value=f"{606 if alert else 600 + i % 4}.0",
                        unit="mg",
                        outcome="alert_high" if alert else "in_range",
                        severity="alert" if alert else "none",
                        evaluation="606.0 mg is above the alert limit 605 mg" if alert else "",
                    )
                )
        Entry.objects.bulk_create(entries, batch_size=2000)
        saved = list(Entry.objects.filter(batch=batch).order_by("id"))
        corrections = [
            Entry(
                batch=batch,
                step_id=e.step_id,
                kind="parameter",
                key=e.key,
                recorded_at=start + timedelta(minutes=1, seconds=30),
                recorded_by=operator,
                source="manual",
                raw_value="601.0",
                value_type="number",
                value="601.0",
                unit="mg",
                outcome="in_range",
                severity="none",
                reason="transcription error",
                supersedes=e,
            )
            for n, e in enumerate(saved)
            if n % 50 == 49
        ]
        Entry.objects.bulk_create(corrections, batch_size=2000)
        exceptions = [
            BatchException(
                batch=batch,
                step_id=e.step_id,
                entry=e,
                kind="limit_excursion_alert",
                severity="alert",
                message=f"{e.key}: {e.evaluation}",
                occurred_at=e.recorded_at,
                actor=operator,
            )
            for e in saved
            if e.severity == "alert"
        ] + [
            BatchException(
                batch=batch,
                step_id=c.step_id,
                entry=c,
                kind="correction",
                severity="alert",
                message=f"{c.key} corrected: transcription error",
                occurred_at=c.recorded_at,
                actor=operator,
            )
            for c in Entry.objects.filter(batch=batch, supersedes__isnull=False)
        ]
        BatchException.objects.bulk_create(exceptions, batch_size=2000)
        for e in Entry.objects.filter(batch=batch).order_by("id"):
            audit.record(
                actor=operator,
                action="execution.entry.record",
                obj=e,
                new={"key": e.key, "value": e.value, "unit": e.unit, "outcome": e.outcome},
                reason=e.reason,
            )
    sign_steps(batch, operator)
    with transaction.atomic(), action_context("system"):
        batch.status = "completed"
        batch.completed_at = utcnow()
        batch.completed_by = supervisor
        batch.save(update_fields=["status", "completed_at", "completed_by"])
        audit.record(
            actor=supervisor,
            action="execution.batch.complete",
            obj=batch,
            new={"status": "completed"},
        )
    return batch.number


def sign_steps(batch: Any, operator: Any) -> None:
    """A performer signature on every step, stored as ``signatures.services.sign`` stores one
    (content, content hash, binding hash, audit event); the password step is skipped, since the
    bench measures reading and exporting signatures, not entering them."""
    from django.conf import settings
    from django.db import transaction

    from galenic.audit import services as audit
    from galenic.core.context import action_context
    from galenic.core.timefmt import utcnow
    from galenic.execution.models import StepExecution
    from galenic.signatures import registry
    from galenic.signatures.binding import binding_sha256, canonical_content, sha256_text
    from galenic.signatures.models import Signature
    from galenic.signatures.services import audit_values

    with transaction.atomic(), action_context("system"):
        for step in StepExecution.objects.filter(batch=batch).select_related("batch"):
            canonical = canonical_content(registry.content_of(step))
            signature = Signature(
                signer=operator,
                signer_user_id=operator.username,
                signer_name=operator.full_name,
                meaning="performed",
                signed_at=utcnow(),
                time_zone=str(settings.DISPLAY_TIME_ZONE),
                object_type="execution.stepexecution",
                object_id=str(step.pk),
                content_json=canonical,
                content_sha256=sha256_text(canonical),
                credentials="password",
            )
            signature.binding_sha256 = binding_sha256(signature.binding_fields())
            signature.save(force_insert=True)
            audit.record(
                actor=operator, action="signatures.sign", obj=step, new=audit_values(signature)
            )


def bench_database(quick: bool) -> None:
    import tempfile

    steps = 200 if quick else 2000
    with tempfile.TemporaryDirectory(prefix="galenic-bench-export-") as tmp:
        setup_django(Path(tmp))
        started = time.perf_counter()
        number = store_batch(steps, 10)
        print(
            f"# stored a batch of {steps} steps and {steps * 10} entries in {time.perf_counter() - started:.1f} s"
        )

        from galenic.core.context import action_context
        from galenic.execution.models import Batch, BatchException
        from galenic.exports import services as exports
        from galenic.exports.pdf.render import render_plain_pages
        from galenic.review import services as review

        batch = Batch.objects.get(number=number)
        fields = [f.attname for f in BatchException._meta.concrete_fields]
        started = time.perf_counter()
        rows = list(BatchException.objects.filter(batch=batch).values_list(*fields))
        reference = time.perf_counter() - started
        started = time.perf_counter()
        with action_context("system"):
            built = review.refresh_report(actor=None, number=number)
        seconds = time.perf_counter() - started
        items = built.items.count()
        print(
            f"# review_report: {items} items from {len(rows)} exceptions; reference: one query for those rows"
        )
        print(
            f"BENCH review_report {seconds:.3f} s ref={reference:.3f} ratio={seconds / reference:.1f} target=1s"
        )

        started = time.perf_counter()
        with action_context("system"):
            export = exports.export_batch(actor=None, number=number, fmt="pdf")
        seconds = time.perf_counter() - started
        import io as _io

        import pypdf

        pages = len(pypdf.PdfReader(_io.BytesIO(export.content)).pages)
        started = time.perf_counter()
        render_plain_pages(pages)
        reference = time.perf_counter() - started
        print(f"# export_pdf: {pages} pages, {len(export.content) / 1e6:.1f} MB, from the database")
        print(
            f"BENCH export_pdf {seconds:.3f} s ref={reference:.3f} ratio={seconds / reference:.2f} target=3"
        )


def bench_pdf(quick: bool) -> None:
    from galenic.exports.batch import batch_report
    from galenic.exports.pdf.render import render, render_plain_pages
    from galenic.exports.records import record_sha256

    steps = 200 if quick else 2000
    data = generated_record(steps, 10)
    render(batch_report(data, record_sha256="0" * 64, generated="warm-up"))  # fonts, caches
    started = time.perf_counter()
    digest = record_sha256(data)
    out = render(batch_report(data, record_sha256=digest, generated="Exported by bench"))
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    render_plain_pages(out.pages)
    reference = time.perf_counter() - started
    print(
        f"# export_pdf_layout: {steps} steps, {steps * 10} entries, {out.pages} pages, "
        f"{len(out.pdf) / 1e6:.1f} MB; reference: {out.pages} plain text pages"
    )
    print(
        f"BENCH export_pdf_layout {seconds:.3f} s ref={reference:.3f} "
        f"ratio={seconds / reference:.2f} target=3"
    )


def main() -> None:
    args = parse_args()
    bench_database(args.quick)
    bench_pdf(args.quick)


if __name__ == "__main__":
    main()
