"""Batch execution API, mounted at /api/v1/batches/.

Every write goes through ``galenic.execution.services``; signed actions take the signature
components (``user_id`` when the session needs it, ``password``) and authenticate them before the
service runs, so a wrong password counts toward lockout even though nothing is signed. Writers
accept the ``row_version`` last read: a stale one answers 409 instead of overwriting someone
else's change. Errors: {"code", "message", "errors": [{"field", "message"}]}.
"""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from galenic.accounts.permissions import require
from galenic.core.errors import NotFound, ValidationFailed
from galenic.execution import selectors, services
from galenic.execution.models import Entry, StepExecution
from galenic.execution.schemas import (
    AttachmentOut,
    BatchCreateIn,
    BatchDetailOut,
    BatchOut,
    CommentIn,
    CommentOut,
    CorrectIn,
    EntryOut,
    ExceptionOut,
    ReasonIn,
    RecordIn,
    RecordManyIn,
    RecordOut,
    SignedStepIn,
    StepOut,
    StepSummaryOut,
    ValueIn,
    VersionIn,
)
from galenic.quality.models import Deviation
from galenic.signatures import services as signing
from galenic.signatures.services import SignerAuthority

router = Router(tags=["batch execution"])


def _view(request: HttpRequest) -> None:
    require(request.user, "execution.view")


def _authority(request: HttpRequest, payload: Any, action: str) -> SignerAuthority:
    require(request.user, action)  # a person who may not act is told so before any password
    if not payload.password:
        raise ValidationFailed("Enter your password to sign.", field="password")
    return signing.authenticate_signer(
        session=request.session,
        actor=request.user,
        user_id=payload.user_id,
        password=payload.password,
    )


def _detail(number: str) -> BatchDetailOut:
    return BatchDetailOut.of_view(selectors.batch_view(selectors.get_batch(number)))


def _step_out(number: str, step_key: str, iteration: int | None = None) -> StepOut:
    batch = selectors.get_batch(number)
    flow = selectors.flow_of(batch)
    if step_key not in flow.graph.by_key:
        raise NotFound(f"Step {step_key!r} is not in this batch's master record.", field="step")
    execution = None
    if iteration is not None:
        execution = selectors.step_execution(batch, step_key, iteration)
    return StepOut.of(
        selectors.step_view(batch, step_key, execution=execution), number=batch.number
    )


# --- batches ------------------------------------------------------------------------------------


class BatchFilter(Schema):
    status: str | None = None
    mbr: str | None = None
    limit: int = 100
    offset: int = Field(0, ge=0)  # a negative slice is no page (found by schemathesis)


@router.get("/", response=list[BatchOut], summary="Batches, newest first")
def list_batches(request: HttpRequest, filters: Query[BatchFilter]) -> list[BatchOut]:
    _view(request)
    limit = max(1, min(filters.limit, 500))
    found = selectors.batches(status=filters.status, mbr=filters.mbr).select_related(
        "released_to_floor_by", "started_by", "completed_by"
    )
    return [BatchOut.of(b) for b in found[filters.offset : filters.offset + limit]]


@router.post("/", response={201: BatchOut}, summary="Issue a batch from the effective MBR version")
def create_batch(request: HttpRequest, payload: BatchCreateIn) -> Status[BatchOut]:
    batch = services.create_batch(
        actor=request.user,
        mbr=payload.mbr,
        number=payload.number,
        batch_size=payload.batch_size,
        planned_start=payload.planned_start,
        planned_end=payload.planned_end,
    )
    return Status(201, BatchOut.of(batch))


@router.get(
    "/{number}",
    response=BatchDetailOut,
    summary="A batch with every step's state and the steps to work on now",
)
def get_batch(request: HttpRequest, number: str) -> BatchDetailOut:
    _view(request)
    return _detail(number)


@router.post(
    "/{number}/release", response=BatchOut, summary="Release to the floor (signed, supervisor)"
)
def release(request: HttpRequest, number: str, payload: SignedStepIn) -> BatchOut:
    authority = _authority(request, payload, "execution.release_batch")
    batch = services.release_to_floor(
        actor=request.user, number=number, authority=authority, row_version=payload.row_version
    )
    return BatchOut.of(batch)


@router.post("/{number}/start", response=BatchOut, summary="Start execution")
def start(request: HttpRequest, number: str, payload: VersionIn | None = None) -> BatchOut:
    batch = services.start_batch(
        actor=request.user, number=number, row_version=payload.row_version if payload else None
    )
    return BatchOut.of(batch)


@router.post("/{number}/hold", response=BatchOut, summary="Put on hold (supervisor, reason)")
def hold(request: HttpRequest, number: str, payload: ReasonIn) -> BatchOut:
    batch = services.hold_batch(
        actor=request.user, number=number, reason=payload.reason, row_version=payload.row_version
    )
    return BatchOut.of(batch)


@router.post("/{number}/resume", response=BatchOut, summary="Resume (supervisor, reason)")
def resume(request: HttpRequest, number: str, payload: ReasonIn) -> BatchOut:
    batch = services.resume_batch(
        actor=request.user, number=number, reason=payload.reason, row_version=payload.row_version
    )
    return BatchOut.of(batch)


@router.post(
    "/{number}/complete",
    response=BatchOut,
    summary="Complete the batch (every step done); computes the yield",
)
def complete(request: HttpRequest, number: str, payload: VersionIn | None = None) -> BatchOut:
    batch = services.complete_batch(
        actor=request.user, number=number, row_version=payload.row_version if payload else None
    )
    return BatchOut.of(batch)


# --- steps --------------------------------------------------------------------------------------


@router.get("/{number}/steps", response=list[StepSummaryOut], summary="Every step and its state")
def list_steps(request: HttpRequest, number: str) -> list[StepSummaryOut]:
    _view(request)
    return _detail(number).steps


@router.get("/{number}/steps/{step_key}", response=StepOut, summary="One step in detail")
def get_step(
    request: HttpRequest, number: str, step_key: str, iteration: int | None = None
) -> StepOut:
    _view(request)
    return _step_out(number, step_key, iteration)


def _record_out(number: str, entries: list[Entry]) -> RecordOut:
    step: StepExecution = entries[0].step  # as the service left it (status, row_version)
    numbers: list[str | None] = []
    if any(e.severity == "action" for e in entries):
        numbers = list(
            Deviation.objects.filter(entry__in=entries)
            .order_by("id")
            .values_list("number", flat=True)
        )
    return RecordOut(
        entries=[EntryOut.of(e, step) for e in entries],
        step_status=step.status,
        step_row_version=step.row_version,
        comment_required=[e.key for e in entries if e.severity == "action" and not e.comment],
        deviations=[n for n in numbers if n],
    )


def _value_kwargs(v: ValueIn) -> dict[str, Any]:
    return {
        "key": v.key,
        "material": v.material,
        "value": v.value,
        "unit": v.unit,
        "source": v.source,
        "instrument": v.instrument,
        "tag": v.tag,
        "comment": v.comment,
        "reason": v.reason,
        "observed_at": v.observed_at,
        "recorded_at": v.recorded_at,
    }


@router.post(
    "/{number}/steps/{step_key}/values",
    response={201: RecordOut},
    summary="Record one value (checked against its limits at once)",
)
def record_value(
    request: HttpRequest, number: str, step_key: str, payload: RecordIn
) -> Status[RecordOut]:
    entry = services.record_value(
        actor=request.user,
        number=number,
        step_key=step_key,
        iteration=payload.iteration,
        row_version=payload.row_version,
        **_value_kwargs(payload),
    )
    return Status(201, _record_out(number, [entry]))


@router.post(
    "/{number}/steps/{step_key}/values/batch",
    response={201: RecordOut},
    summary="Record several values of one step together (all or nothing)",
)
def record_values(
    request: HttpRequest, number: str, step_key: str, payload: RecordManyIn
) -> Status[RecordOut]:
    entries = services.record_values(
        actor=request.user,
        number=number,
        step_key=step_key,
        values=[services.ValueInput(**_value_kwargs(v)) for v in payload.values],
        iteration=payload.iteration,
        row_version=payload.row_version,
    )
    return Status(201, _record_out(number, entries))


@router.post(
    "/{number}/steps/{step_key}/perform",
    response=StepOut,
    summary="Complete the step as its performer (signed: performed)",
)
def perform(request: HttpRequest, number: str, step_key: str, payload: SignedStepIn) -> StepOut:
    batch = selectors.get_batch(number)
    needs_signature = selectors.flow_of(batch).step(step_key).completion.performer_signature
    authority = (
        _authority(request, payload, "execution.perform")
        if needs_signature or payload.password
        else None
    )
    execution = services.perform_step(
        actor=request.user,
        number=number,
        step_key=step_key,
        authority=authority,
        iteration=payload.iteration,
        row_version=payload.row_version,
        comment=payload.comment,
        content_sha256=payload.content_sha256,
    )
    return _step_out(number, step_key, execution.iteration)


@router.post(
    "/{number}/steps/{step_key}/verify",
    response=StepOut,
    summary="Second-person verification (signed: verified; never the performer)",
)
def verify(request: HttpRequest, number: str, step_key: str, payload: SignedStepIn) -> StepOut:
    authority = _authority(request, payload, "execution.verify")
    execution = services.verify_step(
        actor=request.user,
        number=number,
        step_key=step_key,
        authority=authority,
        iteration=payload.iteration,
        row_version=payload.row_version,
        content_sha256=payload.content_sha256,
    )
    return _step_out(number, step_key, execution.iteration)


@router.post(
    "/{number}/steps/{step_key}/approve",
    response=StepOut,
    summary="Supervisor approval (signed: approved)",
)
def approve(request: HttpRequest, number: str, step_key: str, payload: SignedStepIn) -> StepOut:
    authority = _authority(request, payload, "execution.approve")
    execution = services.approve_step(
        actor=request.user,
        number=number,
        step_key=step_key,
        authority=authority,
        iteration=payload.iteration,
        row_version=payload.row_version,
        content_sha256=payload.content_sha256,
    )
    return _step_out(number, step_key, execution.iteration)


# --- entries, corrections, comments, attachments -------------------------------------------------


@router.get("/{number}/entries", response=list[EntryOut], summary="Every entry, corrections too")
def list_entries(request: HttpRequest, number: str) -> list[EntryOut]:
    _view(request)
    batch = selectors.get_batch(number)
    return [EntryOut.of(e) for e in selectors.batch_entries(batch)]


@router.post(
    "/{number}/entries/{entry_id}/correct",
    response={201: RecordOut},
    summary="Correct a value by a new entry with a reason (the original stays)",
)
def correct(
    request: HttpRequest, number: str, entry_id: int, payload: CorrectIn
) -> Status[RecordOut]:
    entry = services.correct_entry(
        actor=request.user,
        number=number,
        entry_id=entry_id,
        value=payload.value,
        unit=payload.unit,
        reason=payload.reason,
        source=payload.source,
        instrument=payload.instrument,
        tag=payload.tag,
        comment=payload.comment,
        row_version=payload.row_version,
    )
    return Status(201, _record_out(number, [entry]))


@router.get("/{number}/comments", response=list[CommentOut], summary="Comments")
def list_comments(request: HttpRequest, number: str) -> list[CommentOut]:
    _view(request)
    batch = selectors.get_batch(number)
    return [CommentOut.of(c) for c in selectors.comments_of(batch).select_related("step")]


@router.post(
    "/{number}/comments", response={201: CommentOut}, summary="Comment on batch/step/entry"
)
def comment(request: HttpRequest, number: str, payload: CommentIn) -> Status[CommentOut]:
    created = services.add_comment(
        actor=request.user,
        number=number,
        text=payload.text,
        step_key=payload.step_key,
        entry_id=payload.entry_id,
        iteration=payload.iteration,
    )
    return Status(201, CommentOut.of(created))


@router.get("/{number}/attachments", response=list[AttachmentOut], summary="Attachments")
def list_attachments(request: HttpRequest, number: str) -> list[AttachmentOut]:
    _view(request)
    batch = selectors.get_batch(number)
    return [
        AttachmentOut.of(a) for a in selectors.attachments_of(batch).select_related("step", "batch")
    ]


@router.post(
    "/{number}/attachments",
    response={201: AttachmentOut},
    summary="Attach a file (photo, PDF, text) to the batch, a step or an entry",
)
def attach(
    request: HttpRequest,
    number: str,
    file: File[UploadedFile],
    step_key: Form[str] = "",
    entry_id: Form[int | None] = None,
    description: Form[str] = "",
    iteration: Form[int | None] = None,
) -> Status[AttachmentOut]:
    limit = services.max_attachment_bytes()
    if file.size is not None and file.size > limit:
        raise ValidationFailed(
            f"The file is {file.size} bytes; at most {limit} bytes are accepted.", field="file"
        )
    created = services.add_attachment(
        actor=request.user,
        number=number,
        filename=file.name or "",
        content=file.read(limit + 1),
        content_type=file.content_type or "",
        description=description,
        step_key=step_key or None,
        entry_id=entry_id,
        iteration=iteration,
    )
    return Status(201, AttachmentOut.of(created))


@router.get(
    "/{number}/attachments/{attachment_id}",
    response={200: None},
    summary="Download an attachment (its SHA-256 is in the X-Content-SHA256 header)",
)
def download(request: HttpRequest, number: str, attachment_id: int) -> FileResponse:
    _view(request)
    batch = selectors.get_batch(number)
    attachment = selectors.get_attachment(batch, attachment_id)
    path = services.attachment_path(attachment)
    if not path.exists():
        raise NotFound("The file of this attachment is missing from storage.", field="id")
    response = FileResponse(
        open(path, "rb"),  # noqa: SIM115 - FileResponse closes it
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.filename,
    )
    response["X-Content-SHA256"] = attachment.sha256
    return response


@router.get(
    "/{number}/document/{attachment_id}",
    response={200: None},
    summary="A file the master record refers to (e.g. an image in the instructions)",
)
def document_file(request: HttpRequest, number: str, attachment_id: str) -> HttpResponse:
    _view(request)
    batch = selectors.get_batch(number)
    doc = selectors.document_of(batch)
    named = next((a for a in doc.attachments if a.id == attachment_id), None)
    if named is None:
        raise NotFound(f"The master record has no attachment {attachment_id!r}.", field="id")
    from galenic.recipes.models import MasterRecordAttachment

    stored = MasterRecordAttachment.objects.filter(sha256=named.sha256).first()
    if stored is None:
        raise NotFound(f"The file of {named.filename} is not stored.", field="id")
    response = HttpResponse(bytes(stored.content), content_type=named.media_type)
    response["Content-Disposition"] = f'inline; filename="{named.filename}"'
    response["X-Content-SHA256"] = named.sha256
    # Shown inline, so locked down like MBR attachments: no script, no sniffing, no framing.
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox; frame-ancestors 'none'"
    return response


# --- exceptions ---------------------------------------------------------------------------------


@router.get(
    "/{number}/exceptions",
    response=list[ExceptionOut],
    summary="What a reviewer must judge: excursions, corrections, late entries, ...",
)
def list_exceptions(
    request: HttpRequest, number: str, kind: str | None = None
) -> list[ExceptionOut]:
    _view(request)
    batch = selectors.get_batch(number)
    return [ExceptionOut.of(x) for x in selectors.exceptions(batch, kind=kind)]
