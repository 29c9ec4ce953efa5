"""Exporting records. Building and rendering run outside any transaction (they only read); the
export itself is then recorded in the audit trail (who exported what, in which format, with
which data hash), as the 2025 Annex 11 draft asks of exports.

``actor=None`` means the command line run by the system's operator (as ``accounts`` does for
first set-up): no role check, and the audit event names the source "cli".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models, transaction

from galenic.accounts import permissions
from galenic.audit import services as audit
from galenic.audit.chain import format_ts
from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import format_datetime, utcnow
from galenic.exports import integrity, mbr, selectors
from galenic.exports.pdf.render import render_pdf
from galenic.exports.records import record_sha256
from galenic.recipes.document.io import dump_json, dump_yaml
from galenic.recipes.models import MasterRecordVersion

MBR_FORMATS = ("pdf", "yaml", "json", "record")
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "yaml": "application/yaml; charset=utf-8",
    "json": "application/json; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content_type: str
    content: bytes
    record_sha256: (
        str  # what the PDF prints on every page; for YAML/JSON of an MBR, its content hash
    )


def _require(actor: Any, action: str) -> None:
    if actor is not None:
        permissions.require(actor, action)


def _exporter(actor: Any) -> str:
    return str(getattr(actor, "username", "")) if actor is not None else "command line"


def record_envelope(*, kind: str, record: dict[str, Any], actor: Any) -> dict[str, Any]:
    """The JSON export of a record: its data, its hash, and which system it came from."""
    import galenic

    return integrity.envelope(
        kind=kind,
        record=record,
        exported_at=format_ts(utcnow()),
        exported_by=_exporter(actor),
        system={"galenic_version": galenic.__version__, "audit_chain_id": audit.chain_id()},
    )


def _generated(actor: Any) -> str:
    who = (
        (getattr(actor, "full_name", "") or getattr(actor, "username", ""))
        if actor
        else "command line"
    )
    return f"Exported {format_datetime(utcnow())} by {who}"


def record_export(*, actor: Any, obj: models.Model, action: str, export: ExportFile) -> None:
    """The audit event of one export (kept out of the exported data itself)."""
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=action,
            obj=obj,
            new={
                "format": export.filename.split(".", 1)[-1],
                "filename": export.filename,
                "record_sha256": export.record_sha256,
                "bytes": len(export.content),
            },
        )


def export_mbr(*, actor: Any, version: MasterRecordVersion, fmt: str) -> ExportFile:
    """An MBR version as PDF (for reading), or as YAML/JSON (the document, for reuse)."""
    _require(actor, "exports.mbr")
    fmt = (fmt or "").lower()
    if fmt not in MBR_FORMATS:
        raise ValidationFailed(f"Choose one of: {', '.join(MBR_FORMATS)}.", field="format")
    stem = f"{version.master.code.replace('/', '_')}-v{version.version}"
    doc = version.document()
    if fmt == "pdf":
        data = selectors.mbr_record(version)
        digest = record_sha256(data)
        now = utcnow()
        report = mbr.mbr_report(
            data,
            doc,
            record_sha256=digest,
            generated=_generated(actor),
            when=selectors.display_time,
        )
        export = ExportFile(
            f"{stem}.pdf", CONTENT_TYPES["pdf"], render_pdf(report, created=now), digest
        )
    elif fmt == "record":
        data = record_envelope(kind="mbr-record", record=selectors.mbr_record(version), actor=actor)
        export = ExportFile(
            f"{stem}.record.json",
            CONTENT_TYPES["json"],
            integrity.dumps(data).encode("utf-8"),
            data["record_sha256"],
        )
    else:
        text = dump_yaml(doc) if fmt == "yaml" else dump_json(doc)
        export = ExportFile(
            f"{stem}.{fmt}", CONTENT_TYPES[fmt], text.encode("utf-8"), version.content_hash
        )
    record_export(actor=actor, obj=version, action="exports.mbr.export", export=export)
    return export


# --- batch records (211.188) ---------------------------------------------------------------------

BATCH_FORMATS = ("pdf", "json", "csv")
_FORMULA_START = ("=", "+", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    """Text that a spreadsheet will not run as a formula (CSV injection), numbers untouched."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_START) or (text.startswith("-") and not _is_number(text)):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def batch_csv(record: dict[str, Any]) -> bytes:
    import csv
    import io

    from galenic.exports.batch_data import CSV_COLUMNS, csv_rows

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in csv_rows(record):
        writer.writerow([_csv_cell(v) for v in row])
    # UTF-8 with BOM so spreadsheet programs read µ, ° and ± right.
    return buffer.getvalue().encode("utf-8-sig")


def export_batch(*, actor: Any, number: str, fmt: str) -> ExportFile:
    """The complete batch record as PDF (to read and print), JSON (complete, verifiable with
    ``galenic export verify``) or CSV (one row per entry)."""
    from galenic.exports import batch as batch_pdf
    from galenic.exports.batch_data import batch_record
    from galenic.review.selectors import get_batch

    _require(actor, "exports.batch")
    fmt = (fmt or "").lower()
    if fmt not in BATCH_FORMATS:
        raise ValidationFailed(f"Choose one of: {', '.join(BATCH_FORMATS)}.", field="format")
    batch = get_batch(number)
    record = batch_record(batch)
    digest = record_sha256(record)
    stem = f"batch-{batch.number.replace('/', '_')}"
    if fmt == "pdf":
        report = batch_pdf.batch_report(
            record, record_sha256=digest, generated=_generated(actor), when=selectors.display_time
        )
        export = ExportFile(
            f"{stem}.pdf", CONTENT_TYPES["pdf"], render_pdf(report, created=utcnow()), digest
        )
    elif fmt == "json":
        data = record_envelope(kind="batch-record", record=record, actor=actor)
        export = ExportFile(
            f"{stem}.json", CONTENT_TYPES["json"], integrity.dumps(data).encode("utf-8"), digest
        )
    else:
        export = ExportFile(f"{stem}.csv", CONTENT_TYPES["csv"], batch_csv(record), digest)
    record_export(actor=actor, obj=batch, action="exports.batch.export", export=export)
    return export
