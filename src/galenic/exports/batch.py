"""The executed batch record (eBR, 21 CFR 211.188) on paper. Pure: plain data in, ``Report`` out.

The data is the batch record export (``galenic.batch-record/1``, documented in
docs/exports.md), read by ``selectors.batch_record``; the JSON export holds exactly the same
data, and its SHA-256 is printed on every page.

Order: cover (product, batch, MBR version, dates, yield, disposition), review summary and
exceptions with their acknowledgements, deviations, every step with its instructions, captured
values with limits, sources and evaluations, signature manifestations, comments and
attachments, and the audit-trail appendix. Values changed after their first entry are flagged
where they appear (Annex 11 §8.2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from galenic.exports.pdf.layout import (
    Block,
    Column,
    Fields,
    Flag,
    Heading,
    Report,
    Row,
    Table,
    Text,
)
from galenic.exports.records import (
    AuditData,
    SignatureData,
    TimeText,
    audit_table,
    identity,
    signatures_block,
)

RECORD_FORMAT = "galenic.batch-record/1"
CHANGED = "⚑ CHANGED"

ENTRY_COLUMNS = (
    Column("#", 0.55),
    Column("Parameter / material", 1.9),
    Column("Value", 1.25),
    Column("Limits", 1.9),
    Column("Evaluation", 1.35),
    Column("Source", 1.2),
    Column("Recorded", 1.85),
)


def _who(name: str | None, user_id: str | None) -> str:
    if not user_id:
        return ""
    return f"{name} ({user_id})" if name else str(user_id)


def value_text(entry: Mapping[str, Any]) -> str:
    value = str(entry.get("value", ""))
    unit = entry.get("unit") or ""
    text = f"{value} {unit}".strip()
    raw = entry.get("raw_value")
    if raw and (raw != value or (entry.get("raw_unit") or unit) != unit):
        text += f"\n(entered {raw}{' ' + entry['raw_unit'] if entry.get('raw_unit') else ''})"
    return text


def source_text(entry: Mapping[str, Any]) -> str:
    source = str(entry.get("source", ""))
    instrument = entry.get("instrument_code") or ""
    if instrument:
        serial = entry.get("instrument_serial") or ""
        source += f": {instrument}" + (f" (s/n {serial})" if serial else "")
    return source


def evaluation_text(entry: Mapping[str, Any]) -> str:
    outcome = str(entry.get("outcome", ""))
    text = outcome.replace("_", " ")
    if entry.get("evaluation"):
        text += f": {entry['evaluation']}"
    return text


def entry_flag(entry: Mapping[str, Any]) -> Flag:
    if entry.get("superseded_by") or entry.get("supersedes"):
        return "changed"
    severity = entry.get("severity") or ""
    if severity in ("action", "alert"):
        return "excursion"
    return ""


def recorded_text(entry: Mapping[str, Any], when: TimeText) -> str:
    text = f"{when(entry.get('recorded_at') or '')}\n{_who(entry.get('recorded_by_name'), entry.get('recorded_by'))}"
    if entry.get("late"):
        text += f"\nLATE: observed {when(entry.get('observed_at') or '')}"
    return text


def entry_row(entry: Mapping[str, Any], when: TimeText) -> Row:
    label = f"{entry.get('name') or entry.get('key')} [{entry.get('key')}]"
    notes = []
    if entry.get("supersedes"):
        notes.append(
            f"{CHANGED}: correction of #{entry['supersedes']}; reason: {entry.get('reason', '')}"
        )
    if entry.get("superseded_by"):
        notes.append(f"{CHANGED}: superseded by #{entry['superseded_by']}")
    if entry.get("comment"):
        notes.append(f"Comment: {entry['comment']}")
    if entry.get("calculation"):
        notes.append(f"Calculated: {entry['calculation']}")
    if notes:
        label += "\n" + "\n".join(notes)
    return Row(
        [
            str(entry.get("id", "")),
            label,
            value_text(entry),
            str(entry.get("limits", "")),
            evaluation_text(entry),
            source_text(entry),
            recorded_text(entry, when),
        ],
        flag=entry_flag(entry),
    )


def step_blocks(step: Mapping[str, Any], when: TimeText) -> list[Block]:
    iteration = int(step.get("iteration") or 1)
    run = f" (run {iteration})" if iteration > 1 else ""
    title = f"Step {step.get('path', '')}: {step.get('title') or step.get('key')}{run}  [{step.get('key')}]"
    blocks: list[Block] = [Heading(title, 3, anchor=f"step-{step.get('id')}")]
    rows: list[tuple[str, str]] = [("Status", str(step.get("status_label") or step.get("status")))]
    if step.get("reason"):
        rows.append(("Flow", str(step["reason"])))
    for label, at, by, name in (
        ("Started", "started_at", "started_by", "started_by_name"),
        ("Performed", "performed_at", "performed_by", "performed_by_name"),
        ("Verified", "verified_at", "verified_by", "verified_by_name"),
        ("Approved", "approved_at", "approved_by", "approved_by_name"),
    ):
        if step.get(at):
            rows.append((label, f"{when(step[at])} by {_who(step.get(name), step.get(by))}"))
    if step.get("duration"):
        rows.append(("Duration", str(step["duration"])))
    blocks.append(Fields(rows))
    if step.get("instructions"):
        blocks.append(Text(str(step["instructions"]), "small"))
    entries = step.get("entries") or []
    if entries:
        blocks.append(Table(ENTRY_COLUMNS, [entry_row(e, when) for e in entries]))
    for comment in step.get("comments") or []:
        blocks.append(
            Text(
                f"Comment by {_who(comment.get('created_by_name'), comment.get('created_by'))} "
                f"at {when(comment.get('created_at') or '')}: {comment.get('text', '')}",
                "small",
            )
        )
    for attachment in step.get("attachments") or []:
        blocks.append(Text(attachment_text(attachment, when), "small"))
    signatures = [SignatureData.from_dict(s) for s in step.get("signatures") or []]
    if signatures:
        blocks.append(signatures_block(signatures, "Signatures"))
    return blocks


def attachment_text(a: Mapping[str, Any], when: TimeText) -> str:
    return (
        f"Attachment {a.get('filename')} ({a.get('content_type')}, {a.get('size')} bytes, "
        f"SHA-256 {a.get('sha256')}) by {_who(a.get('created_by_name'), a.get('created_by'))} at "
        f"{when(a.get('created_at') or '')}"
        + (f": {a['description']}" if a.get("description") else "")
    )


EXCEPTION_COLUMNS = (
    Column("#", 0.5),
    Column("Kind", 1.5),
    Column("Where", 1.3),
    Column("What", 3.2),
    Column("When / who", 1.6),
    Column("Acknowledgement", 2.4),
)


def details_text(details: Any) -> str:
    if not details:
        return ""
    if isinstance(details, Mapping):
        return "; ".join(f"{k}: {v}" for k, v in details.items() if v not in (None, "", [], {}))
    return str(details)


def exception_rows(exceptions: Sequence[Mapping[str, Any]], when: TimeText) -> list[Row]:
    rows = []
    for n, e in enumerate(exceptions, start=1):
        ack = e.get("acknowledgement") or {}
        ack_text = (
            f"{ack.get('comment', '')}\n— {_who(ack.get('by_name'), ack.get('by'))}, {when(ack.get('at') or '')}"
            if ack
            else "NOT ACKNOWLEDGED"
        )
        rows.append(
            Row(
                [
                    str(n),
                    f"{e.get('kind_label') or e.get('kind')}"
                    + (f"\n({e['severity']})" if e.get("severity") else ""),
                    str(e.get("where", "")),
                    str(e.get("message", ""))
                    + (f"\n{details_text(e['details'])}" if e.get("details") else ""),
                    f"{when(e.get('occurred_at') or '')}\n{_who(e.get('actor_name'), e.get('actor'))}",
                    ack_text,
                ],
                flag="exception" if not ack else "",
            )
        )
    return rows


DEVIATION_COLUMNS = (
    Column("Number", 0.9),
    Column("Classification / status", 1.3),
    Column("Title and description", 3.4),
    Column("Opened", 1.6),
    Column("Investigation / conclusion", 2.4),
    Column("Closed", 1.5),
)


def deviation_rows(deviations: Sequence[Mapping[str, Any]], when: TimeText) -> list[Row]:
    rows = []
    for d in deviations:
        open_ = d.get("status") != "closed"
        rows.append(
            Row(
                [
                    str(d.get("number") or f"(id {d.get('id')})"),
                    f"{d.get('classification_label') or d.get('classification')}\n{d.get('status_label') or d.get('status')}",
                    f"{d.get('title', '')}\n{d.get('description', '')}",
                    f"{when(d.get('opened_at') or '')}\n{_who(d.get('opened_by_name'), d.get('opened_by'))}",
                    "\n".join(x for x in (d.get("investigation"), d.get("conclusion")) if x),
                    f"{when(d.get('closed_at') or '')}\n{_who(d.get('closed_by_name'), d.get('closed_by'))}"
                    if d.get("closed_at")
                    else "",
                ],
                flag="excursion"
                if open_ and d.get("classification") in ("major", "critical")
                else "",
            )
        )
    return rows


def cover_blocks(data: Mapping[str, Any], record_sha256: str, when: TimeText) -> list[Block]:
    b = data["batch"]
    product = data.get("product") or {}
    y = b.get("yield") or {}
    review = data.get("review") or {}
    yield_text = ""
    if y.get("actual"):
        yield_text = f"{y['actual']} of {y.get('theoretical', '')} theoretical"
        if y.get("percent") not in (None, ""):
            yield_text += f" = {y['percent']} %"
        if y.get("within_limits") is False:
            yield_text += " (OUTSIDE LIMITS)"
        elif y.get("within_limits") is True:
            yield_text += " (within limits)"
    rows = [
        (
            "Product",
            " ".join(
                str(x)
                for x in (
                    product.get("name") or b.get("product_name"),
                    product.get("strength"),
                    product.get("dosage_form"),
                )
                if x
            ),
        ),
        ("Batch number", str(b["number"])),
        ("Batch size", str(b.get("batch_size", ""))),
        ("Master batch record", f"{b.get('mbr_code')} version {b.get('mbr_version')}"),
        ("MBR content hash", str(b.get("document_hash", ""))),
        ("Status", str(b.get("status_label") or b.get("status"))),
        ("Disposition", str(review.get("disposition_label") or "pending QA review")),
        (
            "Created",
            f"{when(b.get('created_at') or '')} by {_who(b.get('created_by_name'), b.get('created_by'))}",
        ),
        (
            "Started",
            f"{when(b['started_at'])} by {_who(b.get('started_by_name'), b.get('started_by'))}"
            if b.get("started_at")
            else "not started",
        ),
        (
            "Completed",
            f"{when(b['completed_at'])} by {_who(b.get('completed_by_name'), b.get('completed_by'))}"
            if b.get("completed_at")
            else "not completed",
        ),
        ("Yield (211.188(b)(7))", yield_text or "not computed"),
        ("Record data SHA-256", record_sha256),
    ]
    counts = data.get("counts") or {}
    if counts:
        rows.append(
            (
                "Contents",
                f"{counts.get('steps', 0)} step executions, {counts.get('entries', 0)} entries, "
                f"{counts.get('exceptions', 0)} exceptions, {counts.get('deviations', 0)} deviations, "
                f"{counts.get('signatures', 0)} signatures, {counts.get('audit_events', 0)} audit events",
            )
        )
    blocks: list[Block] = [
        Heading(f"Batch record {b['number']}", 1),
        Fields(rows),
    ]
    if b.get("hold_reason"):
        blocks.append(Text(f"Hold reason: {b['hold_reason']}", "flag"))
    return blocks


def review_blocks(data: Mapping[str, Any], when: TimeText) -> list[Block]:
    review = data.get("review") or {}
    exceptions = data.get("exceptions") or []
    blocks: list[Block] = [Heading("Review by exception", 1, new_page=True)]
    if review:
        summary = review.get("summary") or {}
        blocks.append(
            Fields(
                [
                    (
                        "Verified automatically",
                        f"{summary.get('steps_verified', 0)} steps and {summary.get('values_verified', 0)} values within specification",
                    ),
                    (
                        "Needing judgement",
                        f"{summary.get('exceptions', len(exceptions))} exceptions, {summary.get('acknowledged', 0)} acknowledged",
                    ),
                    ("Review status", str(review.get("status_label", ""))),
                ]
            )
        )
    if exceptions:
        blocks.append(
            Table(EXCEPTION_COLUMNS, exception_rows(exceptions, when), caption="Exceptions")
        )
    else:
        blocks.append(Text("No exceptions.", "muted"))
    signatures = [SignatureData.from_dict(s) for s in review.get("signatures") or []]
    if signatures:
        blocks.append(signatures_block(signatures, "Review and disposition signatures"))
    deviations = data.get("deviations") or []
    blocks.append(Heading("Deviations (211.192)", 2))
    if deviations:
        blocks.append(Table(DEVIATION_COLUMNS, deviation_rows(deviations, when)))
        for d in deviations:
            sigs = [SignatureData.from_dict(s) for s in d.get("signatures") or []]
            if sigs:
                blocks.append(
                    signatures_block(
                        sigs, f"Signatures on deviation {d.get('number') or d.get('id')}"
                    )
                )
    else:
        blocks.append(Text("No deviations.", "muted"))
    return blocks


def batch_report(
    data: Mapping[str, Any],
    *,
    record_sha256: str,
    generated: str,
    when: TimeText = identity,
) -> Report:
    b = data["batch"]
    blocks: list[Block] = cover_blocks(data, record_sha256, when)
    batch_signatures = [SignatureData.from_dict(s) for s in data.get("signatures") or []]
    if batch_signatures:
        blocks.append(signatures_block(batch_signatures, "Signatures on the batch"))
    blocks += review_blocks(data, when)
    blocks.append(Heading("Steps (211.188(b))", 1, new_page=True))
    current: tuple[str, str] | None = None
    for step in data.get("steps") or []:
        where = (str(step.get("unit_procedure", "")), str(step.get("operation", "")))
        if where != current and any(where):
            blocks.append(Heading(" / ".join(x for x in where if x), 2))
            current = where
        blocks += step_blocks(step, when)
    for comment in data.get("comments") or []:
        blocks.append(
            Text(
                f"Batch comment by {_who(comment.get('created_by_name'), comment.get('created_by'))}: {comment.get('text', '')}",
                "small",
            )
        )
    for attachment in data.get("attachments") or []:
        blocks.append(Text(attachment_text(attachment, when), "small"))
    events = [AuditData.from_dict(e) for e in data.get("audit") or []]
    blocks += [
        Heading("Audit trail of this batch", 1, new_page=True),
        Text(
            "Every recorded create, change and action on this batch and its steps, entries, "
            "exceptions, deviations and review, in sequence order (21 CFR 11.10(e)).",
            "muted",
        ),
        audit_table(events, when),
    ]
    return Report(
        title=f"Batch record {b['number']}",
        identity=f"Batch {b['number']} · {b.get('mbr_code')} v{b.get('mbr_version')}",
        record_sha256=record_sha256,
        generated=generated,
        blocks=blocks,
        subject=str(b.get("product_name") or ""),
        keywords=("batch record", str(b["number"]), str(b.get("mbr_code"))),
    )


__all__ = ["RECORD_FORMAT", "batch_report", "entry_row", "step_blocks"]
