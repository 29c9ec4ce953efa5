"""Input and output shapes of the batch execution API (and anything else that serialises a batch
record: the operator screens, exports)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Schema
from pydantic import WithJsonSchema

from galenic.execution import selectors
from galenic.execution.models import (
    Attachment,
    Batch,
    BatchException,
    Comment,
    Entry,
    StepExecution,
)
from galenic.recipes.document.richtext import to_html
from galenic.rules.numbers import plain, round_to
from galenic.signatures import selectors as signature_selectors
from galenic.signatures.binding import canonical_content, sha256_text
from galenic.signatures.schemas import SignatureOut

# Typed input is checked by the service against the parameter (so errors name "value", not a
# branch of a union); the schema documents what is accepted.
Scalar = Annotated[
    Any,
    WithJsonSchema({"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}),
]


def _user(user: Any) -> str | None:
    return getattr(user, "username", None) if user is not None else None


# --- input -------------------------------------------------------------------------------------


class BatchCreateIn(Schema):
    mbr: str = Field(..., description="Code of the master record; its effective version is used.")
    number: str = Field(..., description="Batch number, unique.", examples=["PCM-2026-001"])
    batch_size: str | None = Field(
        None, description="Quantity with unit, e.g. '150000 tablet'; default: the MBR's nominal."
    )
    planned_start: str | None = Field(None, description="ISO 8601 with zone.")
    planned_end: str | None = Field(None, description="ISO 8601 with zone.")


class ReasonIn(Schema):
    reason: str = ""
    row_version: int | None = None


class VersionIn(Schema):
    row_version: int | None = None


class ValueIn(Schema):
    """One captured value. ``value`` with ``unit`` (or a unit inside the value text); or
    ``source: instrument`` with ``instrument`` (a balance) or ``tag``, and no value."""

    key: str = Field("", description="Parameter key (or give material).")
    material: str = Field("", description="Material code of a weighed addition.")
    value: Scalar = Field(None, description="As typed or scanned: '598.2', '0.5982 g', true.")
    unit: str = ""
    source: str = Field("manual", description="manual | instrument")
    instrument: str = Field("", description="Equipment code of the balance to read.")
    tag: str = Field("", description="Tag code to read (process values).")
    comment: str = Field("", description="Required before completion for action excursions.")
    reason: str = Field(
        "", description="Required for a late entry and for a manual entry of an instrument value."
    )
    observed_at: str | None = Field(
        None, description="Late entry only: when the value was observed (ISO 8601 with zone)."
    )
    recorded_at: Any = Field(
        None, description="Never accepted: the server records the time of every entry."
    )


class RecordIn(ValueIn):
    row_version: int | None = Field(None, description="The step's row_version you last read.")
    iteration: int | None = None


class RecordManyIn(Schema):
    values: list[ValueIn]
    row_version: int | None = None
    iteration: int | None = None


class SignedStepIn(Schema):
    """Signature components (see /api/v1/signatures/credentials) plus the step version."""

    user_id: str | None = None
    password: str = Field("", json_schema_extra={"format": "password", "writeOnly": True})
    content_sha256: str = Field("", description="content_sha256 of the step as you saw it.")
    reason: str = ""
    comment: str = ""
    row_version: int | None = None
    iteration: int | None = None


class CorrectIn(Schema):
    value: Scalar = None
    unit: str = ""
    reason: str = Field(..., description="Why the value is corrected (required).")
    source: str = "manual"
    instrument: str = ""
    tag: str = ""
    comment: str = ""
    row_version: int | None = None


class CommentIn(Schema):
    text: str
    step_key: str | None = None
    entry_id: int | None = None
    iteration: int | None = None


# --- output ------------------------------------------------------------------------------------


class YieldOut(Schema):
    actual: str
    theoretical: str
    percent: str | None = Field(None, description="% of theoretical, at the MBR's precision.")
    within_limits: bool | None


def yield_percent_text(b: Batch) -> str | None:
    if b.yield_percent is None:
        return None
    places = selectors.document_of(b).theoretical_yield.precision
    return plain(round_to(b.yield_percent, places))


class BatchOut(Schema):
    number: str
    status: str
    status_label: str
    mbr: str
    mbr_version: int
    document_hash: str
    product: str
    batch_size: str
    planned_start: datetime | None
    planned_end: datetime | None
    created_at: datetime
    created_by: str | None
    released_to_floor_at: datetime | None
    released_to_floor_by: str | None
    started_at: datetime | None
    started_by: str | None
    completed_at: datetime | None
    completed_by: str | None
    hold_reason: str
    yield_result: YieldOut = Field(..., description="Actual vs theoretical yield (211.188(b)(7)).")
    row_version: int

    @staticmethod
    def of(b: Batch) -> BatchOut:
        return BatchOut.model_validate(
            {
                "number": b.number,
                "status": b.status,
                "status_label": b.get_status_display(),
                "mbr": b.mbr_code,
                "mbr_version": b.mbr_version,
                "document_hash": b.document_hash,
                "product": b.product_name,
                "batch_size": b.batch_size,
                "planned_start": b.planned_start,
                "planned_end": b.planned_end,
                "created_at": b.created_at,
                "created_by": _user(b.created_by),
                "released_to_floor_at": b.released_to_floor_at,
                "released_to_floor_by": _user(b.released_to_floor_by),
                "started_at": b.started_at,
                "started_by": _user(b.started_by),
                "completed_at": b.completed_at,
                "completed_by": _user(b.completed_by),
                "hold_reason": b.hold_reason,
                "yield_result": {
                    "actual": b.actual_yield,
                    "theoretical": b.theoretical_yield,
                    "percent": yield_percent_text(b),
                    "within_limits": b.yield_within_limits,
                },
                "row_version": b.row_version,
            }
        )


class EntryOut(Schema):
    id: int
    step: str
    iteration: int
    kind: str
    key: str
    value: str
    unit: str
    value_type: str
    raw_value: str
    raw_unit: str
    source: str
    instrument: str
    instrument_serial: str
    recorded_at: datetime
    recorded_by: str
    outcome: str
    severity: str
    evaluation: str
    limit: str
    limit_value: str
    observed_at: datetime | None
    late: bool
    reason: str
    comment: str
    supersedes: int | None
    calculation: dict[str, Any] | None
    reading: dict[str, Any] | None

    @staticmethod
    def of(e: Entry, step: StepExecution | None = None) -> EntryOut:
        step = step or e.step
        return EntryOut(
            id=e.pk,
            step=step.step_key,
            iteration=step.iteration,
            kind=e.kind,
            key=e.key,
            value=e.value,
            unit=e.unit,
            value_type=e.value_type,
            raw_value=e.raw_value,
            raw_unit=e.raw_unit,
            source=e.source,
            instrument=e.instrument_code,
            instrument_serial=e.instrument_serial,
            recorded_at=e.recorded_at,
            recorded_by=e.recorded_by.username,
            outcome=e.outcome,
            severity=e.severity,
            evaluation=e.evaluation,
            limit=e.limit_name,
            limit_value=e.limit_value,
            observed_at=e.observed_at,
            late=e.late,
            reason=e.reason,
            comment=e.comment,
            supersedes=e.supersedes_id,
            calculation=selectors.calculation_of(e),
            reading=selectors.reading_of(e),
        )


class RecordOut(Schema):
    entries: list[EntryOut]
    step_status: str
    step_row_version: int
    comment_required: list[str] = Field(
        ..., description="Keys of values outside their action limit that still need a comment."
    )
    deviations: list[str]


class ExceptionOut(Schema):
    id: int
    kind: str
    kind_label: str
    severity: str
    message: str
    step: str | None
    iteration: int | None
    entry: int | None
    occurred_at: datetime
    actor: str | None
    context: dict[str, Any]
    deviations: list[str]

    @staticmethod
    def of(x: BatchException) -> ExceptionOut:
        return ExceptionOut(
            id=x.pk,
            kind=x.kind,
            kind_label=x.get_kind_display(),
            severity=x.severity,
            message=x.message,
            step=x.step.step_key if x.step else None,
            iteration=x.step.iteration if x.step else None,
            entry=x.entry_id,
            occurred_at=x.occurred_at,
            actor=_user(x.actor),
            context=x.context_dict(),
            deviations=[d.number for d in x.deviations.all() if d.number],
        )


class CommentOut(Schema):
    id: int
    text: str
    step: str | None
    entry: int | None
    created_at: datetime
    created_by: str

    @staticmethod
    def of(c: Comment) -> CommentOut:
        return CommentOut(
            id=c.pk,
            text=c.text,
            step=c.step.step_key if c.step else None,
            entry=c.entry_id,
            created_at=c.created_at,
            created_by=c.created_by.username,
        )


class AttachmentOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    description: str
    step: str | None
    entry: int | None
    created_at: datetime
    created_by: str
    url: str

    @staticmethod
    def of(a: Attachment) -> AttachmentOut:
        return AttachmentOut(
            id=a.pk,
            filename=a.filename,
            content_type=a.content_type,
            size=a.size,
            sha256=a.sha256,
            description=a.description,
            step=a.step.step_key if a.step else None,
            entry=a.entry_id,
            created_at=a.created_at,
            created_by=a.created_by.username,
            url=f"/api/v1/batches/{a.batch.number}/attachments/{a.pk}",
        )


class ParameterOut(Schema):
    key: str
    name: str
    type: str
    unit: str
    source: str
    required: bool
    instrument: dict[str, Any] | None
    target: str | None
    limits: dict[str, str | None]
    choices: list[str]
    expected: Any
    help: str
    expression: str | None
    current: EntryOut | None
    provisional: dict[str, Any] | None = Field(
        None, description="A calculated value shown before the step is performed."
    )


class MaterialOut(Schema):
    material: str
    name: str
    quantity: str
    unit: str
    low: str | None
    high: str | None
    weighed: bool
    verified: bool
    current: EntryOut | None


class StepOut(Schema):
    key: str
    title: str
    iteration: int
    status: str = Field(
        ..., description="available | in_progress | performed | completed | skipped"
    )
    flow_status: str = Field(
        ..., description="pending | available | completed | skipped | exhausted | blocked"
    )
    reason: str
    instructions: str
    instructions_html: str
    precautions: list[str]
    row_version: int | None
    opened_at: datetime | None
    started_at: datetime | None
    performed_at: datetime | None
    performed_by: str | None
    verified_at: datetime | None
    verified_by: str | None
    approved_at: datetime | None
    approved_by: str | None
    completed_at: datetime | None
    needs_reverification: bool
    requires: dict[str, bool]
    parameters: list[ParameterOut]
    materials: list[MaterialOut]
    equipment: list[dict[str, Any]]
    sampling: dict[str, Any] | None
    duration: dict[str, str | None] | None
    entries: list[EntryOut]
    comments: list[CommentOut]
    attachments: list[AttachmentOut]
    exceptions: list[ExceptionOut]
    signatures: list[SignatureOut]
    content_sha256: str | None = Field(
        None, description="Fingerprint of what a signature now would cover (send it back)."
    )

    @staticmethod
    def of(view: selectors.StepView, *, number: str) -> StepOut:
        ex = view.execution
        by_pk = {e.pk: e for e in view.entries}

        def entry_out(e: Entry | None) -> EntryOut | None:
            return EntryOut.of(by_pk.get(e.pk, e), ex) if e is not None else None

        signatures: list[SignatureOut] = []
        content_sha256 = None
        if ex is not None:
            signatures = [SignatureOut.of(s) for s in signature_selectors.signatures_for_object(ex)]
            content_sha256 = sha256_text(canonical_content(selectors.step_content(ex)))
        return StepOut(
            key=view.key,
            title=view.title,
            iteration=view.iteration,
            status=ex.status if ex else "pending",
            flow_status=view.status,
            reason=view.reason,
            instructions=view.instructions,
            instructions_html=to_html(
                view.instructions, lambda name: f"/api/v1/batches/{number}/document/{name}"
            ),
            precautions=view.precautions,
            row_version=ex.row_version if ex else None,
            opened_at=ex.opened_at if ex else None,
            started_at=ex.started_at if ex else None,
            performed_at=ex.performed_at if ex else None,
            performed_by=_user(ex.performed_by) if ex else None,
            verified_at=ex.verified_at if ex else None,
            verified_by=_user(ex.verified_by) if ex else None,
            approved_at=ex.approved_at if ex else None,
            approved_by=_user(ex.approved_by) if ex else None,
            completed_at=ex.completed_at if ex else None,
            needs_reverification=bool(ex and ex.needs_reverification),
            requires={
                "signature": bool(view.completion.get("performer_signature", True)),
                "verification": bool(view.completion.get("verification")),
                "approval": bool(view.completion.get("supervisor_approval")),
            },
            parameters=[
                ParameterOut(
                    key=p.key,
                    name=p.name,
                    type=p.type,
                    unit=p.unit,
                    source=p.source,
                    required=p.required,
                    instrument=p.instrument,
                    target=p.target,
                    limits=p.limits,
                    choices=p.choices,
                    expected=p.expected,
                    help=p.help,
                    expression=p.expression,
                    current=entry_out(p.current),
                    provisional=p.provisional,
                )
                for p in view.parameters
            ],
            materials=[
                MaterialOut(
                    material=m.material,
                    name=m.name,
                    quantity=m.quantity,
                    unit=m.unit,
                    low=m.low,
                    high=m.high,
                    weighed=m.weighed,
                    verified=m.verified,
                    current=entry_out(m.current),
                )
                for m in view.materials
            ],
            equipment=view.equipment,
            sampling=view.sampling,
            duration=view.duration,
            entries=[EntryOut.of(e, ex) for e in view.entries] if ex else [],
            comments=[CommentOut.of(c) for c in view.comments],
            attachments=[AttachmentOut.of(a) for a in view.attachments],
            exceptions=[ExceptionOut.of(x) for x in view.exceptions],
            signatures=signatures,
            content_sha256=content_sha256,
        )


class StepSummaryOut(Schema):
    key: str
    title: str
    unit_procedure: str
    operation: str
    flow_status: str
    runs: int
    reason: str
    status: str | None = Field(None, description="The latest execution's status, if reached.")
    iteration: int | None
    performed_by: str | None
    verified_by: str | None
    approved_by: str | None
    needs_reverification: bool


class BatchDetailOut(BatchOut):
    steps: list[StepSummaryOut]
    current: list[StepOut] = Field(..., description="The steps to work on now, in detail.")
    exceptions: int
    complete: bool = Field(..., description="Every step has ended (the batch may be completed).")

    @staticmethod
    def of_view(view: selectors.BatchView) -> BatchDetailOut:
        base = BatchOut.of(view.batch).model_dump()
        steps = []
        for row in view.steps:
            ex = row["execution"]
            steps.append(
                StepSummaryOut(
                    key=row["key"],
                    title=row["title"],
                    unit_procedure=row["unit_procedure"],
                    operation=row["operation"],
                    flow_status=row["flow_status"],
                    runs=row["runs"],
                    reason=row["reason"],
                    status=ex.status if ex else None,
                    iteration=ex.iteration if ex else None,
                    performed_by=_user(ex.performed_by) if ex else None,
                    verified_by=_user(ex.verified_by) if ex else None,
                    approved_by=_user(ex.approved_by) if ex else None,
                    needs_reverification=bool(ex and ex.needs_reverification),
                )
            )
        return BatchDetailOut.model_validate(
            {
                **base,
                "steps": steps,
                "current": [StepOut.of(s, number=view.batch.number) for s in view.current],
                "exceptions": view.open_exceptions,
                "complete": view.state.is_complete,
            }
        )
