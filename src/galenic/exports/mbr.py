"""A master batch record version on paper, for the reviewer who reads it as a document.

Pure: takes the MBR document (``galenic.recipes.document``) and the exported record data
(version, signatures, audit events, read by ``selectors.mbr_record``) and returns a
``pdf.Report``: the 211.186 header (product, strength, dosage form, components with quantities
and permitted variations, excess, theoretical weights and yield, packaging, precautions), every
unit procedure, operation and step with its instructions, parameters and limits, materials,
equipment, sampling, completion requirements, conditions and repeats; then the signatures and
the audit trail of the version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from galenic.exports.pdf.layout import (
    Block,
    Column,
    Fields,
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
from galenic.recipes.document.model import (
    DataType,
    MasterBatchRecord,
    Parameter,
    Source,
    Step,
)
from galenic.rules.limits import NumericLimits
from galenic.rules.numbers import plain

RECORD_FORMAT = "galenic.mbr-record/1"
DASH = "\u2013"  # en dash, for ranges
_IMAGE = re.compile(r"!\[([^\]]*)\]\(attachment:([a-z][a-z0-9_]*)\)")


def number(value: Decimal | None) -> str:
    return "" if value is None else plain(value)


def instructions_text(text: str) -> str:
    """Instructions as written (Markdown subset); images named, since the PDF shows text."""
    return _IMAGE.sub(
        lambda m: f"[image: {m.group(1) or m.group(2)} (attachment {m.group(2)})]", text
    )


def _range(low: Decimal | None, high: Decimal | None, unit: str) -> str:
    u = f" {unit}" if unit else ""
    if low is not None and high is not None:
        return f"{plain(low)}{DASH}{plain(high)}{u}"
    if low is not None:
        return f"≥ {plain(low)}{u}"
    if high is not None:
        return f"≤ {plain(high)}{u}"
    return ""


def numeric_limits_text(limits: NumericLimits) -> str:
    """E.g. 'target 600 mg; alert 595 to 605 mg (en dash); action 590 to 610 mg; 1 decimals'."""
    unit = limits.unit
    parts: list[str] = []
    if limits.target is not None:
        parts.append(f"target {plain(limits.target)}{' ' + unit if unit else ''}")
    alert = _range(limits.alert_low, limits.alert_high, unit)
    action = _range(limits.action_low, limits.action_high, unit)
    if alert:
        parts.append(f"alert {alert}")
    if action:
        parts.append(f"action {action}")
    if limits.precision is not None:
        parts.append(f"{limits.precision} decimals")
    return "; ".join(parts)


def limits_text(p: Parameter) -> str:
    """Target, alert and action limits of a parameter in one readable line."""
    parts: list[str] = []
    if p.type is DataType.NUMBER:
        numeric = numeric_limits_text(p.numeric_limits())
        if numeric:
            parts.append(numeric)
        if p.scales:
            parts.append("scales with batch size")
    elif p.type is DataType.CHOICE:
        parts.append("one of: " + ", ".join(p.choices))
        if p.expected_choices:
            parts.append("expected: " + ", ".join(p.expected_choices))
    elif p.type is DataType.BOOLEAN:
        if isinstance(p.expected, bool):
            parts.append(f"expected: {'yes' if p.expected else 'no'}")
    elif p.type is DataType.BARCODE:
        if isinstance(p.expected, str):
            parts.append(f"expected: {p.expected}")
        if p.symbology.value != "any":
            parts.append(f"symbology {p.symbology.value}")
    if p.pattern:
        parts.append(f"pattern {p.pattern}")
    if p.max_length:
        parts.append(f"max {p.max_length} characters")
    return "; ".join(parts)


def source_text(p: Parameter) -> str:
    if p.source is Source.CALCULATED:
        return f"calculated: {p.expression or ''}"
    if p.source is Source.INSTRUMENT and p.instrument is not None:
        what = p.instrument.kind.value
        if p.instrument.tag:
            what += f" tag {p.instrument.tag}"
        if p.instrument.capture.value != "at_confirm":
            what += f" ({p.instrument.capture.value})"
        return f"instrument: {what}"
    return p.source.value


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


PARAMETER_COLUMNS = (
    Column("Parameter", 1.7),
    Column("Type / unit", 0.9),
    Column("Limits", 2.8),
    Column("Source", 1.5),
    Column("Required", 0.7),
)
MATERIAL_COLUMNS = (
    Column("Material", 1.4),
    Column("Quantity", 1.0),
    Column("Tolerance", 0.9),
    Column("Weighed", 0.7),
    Column("Verified", 0.7),
    Column("Scales", 0.6),
)


def step_blocks(step: Step, number_text: str, doc: MasterBatchRecord) -> list[Block]:
    blocks: list[Block] = [
        Heading(
            f"Step {number_text}: {step.title or step.key}  [{step.key}]",
            4,
            anchor=f"step-{step.key}",
        )
    ]
    if step.instructions:
        blocks.append(Text(instructions_text(step.instructions)))
    for precaution in step.precautions:
        blocks.append(Text(f"Precaution: {precaution}", "flag"))
    rows: list[tuple[str, str]] = []
    if step.condition:
        rows.append(("Runs only if", step.condition))
    if step.repeat is not None:
        rows.append(
            (
                "Repeats until",
                step.repeat.until
                + (f" (at most {step.repeat.max} times)" if step.repeat.max else ""),
            )
        )
    if step.duration is not None and (step.duration.min or step.duration.max):
        rows.append(
            ("Expected duration", f"{step.duration.min or '—'} to {step.duration.max or '—'}")
        )
    if step.sampling is not None:
        s = step.sampling
        rows.append(
            (
                "Sampling",
                f"{s.description}"
                + (f"; {s.quantity}" if s.quantity else "")
                + (f"; to {s.destination}" if s.destination else ""),
            )
        )
    for req in step.equipment:
        what = req.equipment_id or f"any released {req.equipment_class}"
        rows.append(("Equipment", what + (f" ({req.purpose})" if req.purpose else "")))
    c = step.completion
    needs = ["performer signature" if c.performer_signature else "no performer signature"]
    if c.verification:
        needs.append("second-person verification")
    if c.supervisor_approval:
        needs.append("supervisor approval")
    rows.append(("Completion", ", ".join(needs)))
    blocks.append(Fields(rows))
    if step.materials:
        blocks.append(
            Table(
                MATERIAL_COLUMNS,
                [
                    Row(
                        [
                            _material_name(m.material, doc),
                            m.quantity,
                            m.tolerance or _component_tolerance(m.material, doc),
                            _yes(m.weighed),
                            _yes(m.verified),
                            _yes(m.scales),
                        ]
                    )
                    for m in step.materials
                ],
                caption="Materials",
            )
        )
    if step.parameters:
        blocks.append(
            Table(
                PARAMETER_COLUMNS,
                [
                    Row(
                        [
                            f"{p.name or p.key} [{p.key}]" + (f"\n{p.help}" if p.help else ""),
                            p.type.value + (f" ({p.unit})" if p.unit else ""),
                            limits_text(p),
                            source_text(p),
                            _yes(p.required),
                        ]
                    )
                    for p in step.parameters
                ],
                caption="Parameters",
            )
        )
    return blocks


def _material_name(code: str, doc: MasterBatchRecord) -> str:
    component = doc.component(code)
    return f"{code} {component.name}" if component and component.name else code


def _component_tolerance(code: str, doc: MasterBatchRecord) -> str:
    component = doc.component(code)
    return component.tolerance if component else ""


def header_blocks(doc: MasterBatchRecord) -> list[Block]:
    p = doc.product
    blocks: list[Block] = [
        Heading("Product (211.186(b)(1), (2))", 2),
        Fields(
            [
                ("Product name", p.name),
                ("Strength", p.strength),
                ("Dosage form", p.dosage_form),
                ("Dosage unit", p.dosage_unit),
                ("Weight of one unit", p.unit_weight),
                *[
                    (
                        "Active ingredient",
                        f"{_material_name(a.material, doc)}: {a.amount_per_unit} per {p.dosage_unit or 'unit'}",
                    )
                    for a in p.active_ingredients
                ],
            ]
        ),
    ]
    if doc.batch_size is not None:
        b = doc.batch_size
        span = ""
        if b.min is not None or b.max is not None:
            span = (
                f" (may be scaled from {number(b.min) or '—'} to {number(b.max) or '—'} {b.unit})"
            )
        blocks.append(Fields([("Nominal batch size", f"{plain(b.size)} {b.unit}{span}")]))
    y = doc.theoretical_yield
    yield_rows = [("Theoretical yield", y.quantity)]
    if y.low_percent is not None or y.high_percent is not None:
        yield_rows.append(
            (
                "Yield needing no investigation",
                f"{number(y.low_percent) or '—'} % to {number(y.high_percent) or '—'} % of theoretical "
                f"(rounded to {y.precision} decimals)",
            )
        )
    if y.actual:
        yield_rows.append(("Actual yield recorded at", y.actual))
    for up in doc.unit_procedures:
        if up.theoretical_output:
            yield_rows.append(
                (f"Theoretical output of {up.title or up.key}", up.theoretical_output)
            )
    blocks += [Heading("Yield (211.186(b)(6), (7))", 2), Fields(yield_rows)]
    blocks += [
        Heading("Components (211.186(b)(3), (4), (5))", 2),
        Table(
            (
                Column("Code", 1.1),
                Column("Name", 2.4),
                Column("Role", 0.9),
                Column("Quantity", 0.9),
                Column("Permitted variation", 0.9),
                Column("Per unit", 0.8),
                Column("Excess", 1.3),
            ),
            [
                Row(
                    [
                        c.code,
                        c.name,
                        c.role.value.replace("_", " "),
                        c.quantity,
                        c.tolerance,
                        c.per_unit or "",
                        (c.excess or "") + (f" ({c.excess_reason})" if c.excess_reason else ""),
                    ]
                )
                for c in doc.components
            ],
        ),
    ]
    if doc.packaging:
        blocks += [
            Heading("Containers, closures and labels (211.186(b)(8))", 2),
            Table(
                (
                    Column("Kind", 0.8),
                    Column("Code", 1.2),
                    Column("Description", 3),
                    Column("Specimen", 1),
                ),
                [
                    Row([item.kind.value, item.code, item.description, item.specimen or ""])
                    for item in doc.packaging
                ],
            ),
        ]
    if doc.precautions:
        blocks.append(Heading("Precautions", 2))
        blocks += [Text(f"• {text}") for text in doc.precautions]
    if doc.attachments:
        blocks += [
            Heading("Attachments", 2),
            Table(
                (
                    Column("Id", 1),
                    Column("File", 1.6),
                    Column("Type", 1),
                    Column("SHA-256", 3.2, mono=True),
                ),
                [Row([a.id, a.filename, a.media_type, a.sha256]) for a in doc.attachments],
            ),
        ]
    return blocks


def procedure_blocks(doc: MasterBatchRecord) -> list[Block]:
    blocks: list[Block] = [
        Heading("Manufacturing and control instructions (211.186(b)(9))", 1, new_page=True)
    ]
    step_no = 0
    for u, up in enumerate(doc.unit_procedures, start=1):
        blocks.append(Heading(f"Unit procedure {u}: {up.title or up.key}  [{up.key}]", 2))
        if up.theoretical_output:
            blocks.append(Text(f"Theoretical output: {up.theoretical_output}", "muted"))
        for o, op in enumerate(up.operations, start=1):
            blocks.append(Heading(f"Operation {u}.{o}: {op.title or op.key}  [{op.key}]", 3))
            if op.after:
                blocks.append(Text("Starts after: " + ", ".join(op.after), "muted"))
            for s, step in enumerate(op.steps, start=1):
                step_no += 1
                blocks += step_blocks(step, f"{u}.{o}.{s}", doc)
    if step_no == 0:
        blocks.append(Text("This version has no steps yet.", "muted"))
    return blocks


def mbr_report(
    data: Mapping[str, Any],
    doc: MasterBatchRecord,
    *,
    record_sha256: str,
    generated: str,
    when: TimeText = identity,
) -> Report:
    """The PDF layout of an MBR version (``data`` as built by ``selectors.mbr_record``)."""
    master = data["master"]
    version = data["version"]
    signatures = [SignatureData.from_dict(s) for s in data.get("signatures", [])]
    events = [AuditData.from_dict(e) for e in data.get("audit", [])]
    ident = f"{master['code']} v{version['version']} ({version['status_label']})"
    blocks: list[Block] = [
        Heading(f"Master batch record {master['code']}: {doc.title or master['name']}", 1),
        Fields(
            [
                ("Master record", f"{master['code']} {master['name']}"),
                ("Version", f"{version['version']} ({version['status_label']})"),
                ("Content hash", version["content_hash"]),
                (
                    "Effective from",
                    when(version["effective_at"])
                    if version.get("effective_at")
                    else "not effective",
                ),
                ("Based on version", str(version["based_on"]) if version.get("based_on") else "—"),
                ("Reason for this version", version.get("change_reason") or "—"),
                (
                    "Created",
                    f"{when(version['created_at'])} by {version['created_by_name']} ({version['created_by']})",
                ),
                ("Record data SHA-256", record_sha256),
            ]
        ),
    ]
    if doc.description:
        blocks.append(Text(doc.description))
    blocks += header_blocks(doc)
    blocks.append(signatures_block(signatures, "Signatures on this version (211.186(a))"))
    blocks += procedure_blocks(doc)
    blocks += [
        Heading("Audit trail of this version", 1, new_page=True),
        Text(
            "Every recorded create, change and action on this master record version, in "
            "sequence order (21 CFR 11.10(e)).",
            "muted",
        ),
        audit_table(events, when),
    ]
    return Report(
        title=f"Master batch record {master['code']} version {version['version']}",
        identity=ident,
        record_sha256=record_sha256,
        generated=generated,
        blocks=blocks,
        subject=f"{doc.product.name} {doc.product.strength} {doc.product.dosage_form}".strip(),
        keywords=("master batch record", master["code"], f"version {version['version']}"),
    )


def signature_lines(signatures: Sequence[SignatureData]) -> list[str]:
    return [s.text for s in signatures]


__all__ = [
    "RECORD_FORMAT",
    "instructions_text",
    "limits_text",
    "mbr_report",
    "numeric_limits_text",
    "procedure_blocks",
    "source_text",
    "step_blocks",
]
