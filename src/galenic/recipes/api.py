"""Master batch records API, mounted at /api/v1/mbrs/.

Documents travel as YAML or JSON text and are read with exact decimal numbers (never through a
float), and versions are answered with the document as canonical JSON, so an import followed by
an export gives back the same document. Lifecycle actions that are signed take the shared
``SignatureIn``; the others take a reason. Writers accept ``row_version`` (from the last read):
a stale one is answered 409 instead of overwriting someone else's change.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile

from galenic.core.errors import ValidationFailed
from galenic.recipes import editing, selectors, services
from galenic.recipes.document import (
    DocumentInvalid,
    Problem,
    dry_run,
    dump_json,
    dump_yaml,
    load,
    validate,
)
from galenic.recipes.document.io import read_json
from galenic.recipes.document.schema import json_schema
from galenic.recipes.models import MasterRecord, MasterRecordVersion
from galenic.signatures import api as signatures_api
from galenic.signatures import services as signing
from galenic.signatures.binding import canonical_content, sha256_text
from galenic.signatures.schemas import SignatureIn, SignatureOut

router = Router(tags=["master batch records"])

DOCUMENT_BODY = {
    "required": True,
    "description": "A master record as YAML or JSON (see GET /api/v1/mbrs/schema).",
    "content": {
        "application/yaml": {"schema": {"type": "string"}},
        "application/json": {"schema": {"type": "object"}},
        "text/plain": {"schema": {"type": "string"}},
    },
}


# --- shapes ------------------------------------------------------------------------------------


class ProblemOut(Schema):
    path: str
    code: str
    message: str


class VersionSummaryOut(Schema):
    code: str
    version: int
    status: str
    content_hash: str = Field(..., description="SHA-256 (hex) of the canonical JSON document")
    row_version: int = Field(..., description="Send back with a change (optimistic locking).")
    based_on: int | None
    change_reason: str
    created_at: datetime
    created_by: str
    updated_at: datetime
    effective_at: datetime | None
    retired_at: datetime | None


class VersionOut(VersionSummaryOut):
    name: str
    signing_fingerprint: str = Field(
        ..., description="content_sha256 to send with a signature (what the signer saw)."
    )
    problems: list[ProblemOut]
    signatures: list[SignatureOut]
    document: dict[str, Any] = Field(..., description="The document, canonical JSON.")


class MbrOut(Schema):
    code: str
    name: str
    created_at: datetime
    created_by: str
    effective_version: int | None
    versions: list[VersionSummaryOut]


class ValidationOut(Schema):
    valid: bool
    problems: list[ProblemOut]


class ReasonIn(Schema):
    reason: str
    row_version: int | None = None


class LifecycleSignIn(SignatureIn):
    row_version: int | None = Field(None, description="The row_version you last read.")


class NewVersionIn(Schema):
    from_version: int = Field(..., description="An approved, effective or superseded version.")
    reason: str


class DryRunIn(Schema):
    batch_size: str | None = Field(None, examples=["150000 tablet"])
    values: dict[str, str | bool | list[str | bool]] = Field(
        default_factory=dict,
        description='Example values, keyed "step.param" or a bare parameter key; a list gives '
        "one value per run of a repeating step.",
        examples=[{"drying_cycle.lod": ["3.1 %", "2.2 %"]}],
    )


class DiffOut(Schema):
    code: str
    from_version: int
    to_version: int
    old_hash: str
    new_hash: str
    count: int
    changes: list[dict[str, Any]]
    text: str


class ReviewOut(Schema):
    version: VersionSummaryOut
    compared_with: VersionSummaryOut | None
    diff: DiffOut | None
    signing_fingerprint: str


# --- helpers -----------------------------------------------------------------------------------


def _summary(v: MasterRecordVersion) -> dict[str, Any]:
    based_on = (
        MasterRecordVersion.objects.filter(pk=v.based_on_id)
        .values_list("version", flat=True)
        .first()
        if v.based_on_id
        else None
    )
    return {
        "code": v.master.code,
        "version": v.version,
        "status": v.status,
        "content_hash": v.content_hash,
        "row_version": v.row_version,
        "based_on": based_on,
        "change_reason": v.change_reason,
        "created_at": v.created_at,
        "created_by": v.created_by.username,
        "updated_at": v.updated_at,
        "effective_at": v.effective_at,
        "retired_at": v.retired_at,
    }


def signing_fingerprint(v: MasterRecordVersion) -> str:
    return sha256_text(canonical_content(services.version_content(v)))


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [p.as_dict() for p in problems]


def _version_response(v: MasterRecordVersion, status: int = 200) -> HttpResponse:
    """The version with its document spliced in as exact canonical JSON (no float round trip)."""
    meta = {
        **_summary(v),
        "name": v.master.name,
        "signing_fingerprint": signing_fingerprint(v),
        "problems": _problems(selectors.problems(v)),
        "signatures": [SignatureOut.of(e).model_dump(mode="json") for e in selectors.signatures(v)],
    }
    text = json.dumps(meta, cls=DjangoJSONEncoder, ensure_ascii=False)
    body = text[:-1] + ',"document":' + dump_json(v.document(), indent=None) + "}"
    return HttpResponse(body, status=status, content_type="application/json")


def _body_text(request: HttpRequest) -> str:
    try:
        return request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("The body must be UTF-8 text.", field="body") from None


def _json_body(request: HttpRequest) -> dict[str, Any]:
    """A JSON object body with exact decimals."""
    try:
        data = read_json(_body_text(request))
    except DocumentInvalid as exc:
        raise ValidationFailed(exc.problems[0].message, field="body") from None
    if not isinstance(data, dict):
        raise ValidationFailed("The body must be a JSON object.", field="body")
    return data


def _version(request: HttpRequest, code: str, number: int) -> MasterRecordVersion:
    return selectors.version(request.user, code, number)


def _authority(request: HttpRequest, payload: SignatureIn) -> signing.SignerAuthority:
    return signatures_api.authenticate(request, payload)


def _optional_int(value: Any, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationFailed(f"{name} must be a whole number.", field=name)
    return value


# --- reading -----------------------------------------------------------------------------------


@router.get("/", response=list[MbrOut], summary="Every MBR with its versions")
def list_mbrs(request: HttpRequest) -> list[dict[str, Any]]:
    return [_mbr(m) for m in selectors.master_records_with_versions(request.user)]


def _mbr(master: MasterRecord) -> dict[str, Any]:
    versions = list(selectors.versions_of(master))
    effective = next((v.version for v in versions if v.status == "effective"), None)
    return {
        "code": master.code,
        "name": master.name,
        "created_at": master.created_at,
        "created_by": master.created_by.username,
        "effective_version": effective,
        "versions": [_summary(v) for v in versions],
    }


@router.get("/schema", summary="The JSON Schema of the MBR document (galenic.mbr/1)")
def schema(request: HttpRequest) -> dict[str, Any]:
    return json_schema()


@router.post(
    "/validate",
    response=ValidationOut,
    summary="Validate a document (YAML or JSON body) without storing it",
    openapi_extra={"requestBody": DOCUMENT_BODY},
)
def validate_document(request: HttpRequest) -> dict[str, Any]:
    try:
        problems = validate(load(_body_text(request)))
    except DocumentInvalid as exc:
        problems = exc.problems
    return {"valid": not problems, "problems": _problems(problems)}


@router.post(
    "/",
    response={201: VersionOut},
    summary="Create an MBR, or a new draft version of one, from a YAML or JSON document",
    openapi_extra={"requestBody": DOCUMENT_BODY},
)
def import_mbr(request: HttpRequest, reason: str) -> HttpResponse:
    version = services.import_text(actor=request.user, text=_body_text(request), reason=reason)
    return _version_response(version, status=201)


@router.get("/{code}", response=MbrOut, summary="One MBR with its versions")
def get_mbr(request: HttpRequest, code: str) -> dict[str, Any]:
    return _mbr(selectors.master_record(request.user, code))


@router.get(
    "/{code}/versions/{number}",
    response=VersionOut,
    summary="One version: status, problems, signatures (verified now) and the document",
)
def get_version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    return _version_response(_version(request, code, number))


@router.get(
    "/{code}/versions/{number}/problems",
    response=ValidationOut,
    summary="Validate a stored version",
)
def version_problems(request: HttpRequest, code: str, number: int) -> dict[str, Any]:
    problems = selectors.problems(_version(request, code, number))
    return {"valid": not problems, "problems": _problems(problems)}


@router.get(
    "/{code}/versions/{number}/export",
    summary="The document as a YAML or JSON file (canonical form)",
    response={200: str},
)
def export_version(
    request: HttpRequest, code: str, number: int, format: Literal["yaml", "json"] = "yaml"
) -> HttpResponse:
    return export_response(_version(request, code, number), format)


def export_response(version: MasterRecordVersion, fmt: str) -> HttpResponse:
    doc = version.document()
    if fmt == "json":
        body, content_type = dump_json(doc), "application/json"
    else:
        body, content_type = dump_yaml(doc), "application/yaml; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    name = f"{version.master.code}-v{version.version}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/{code}/diff",
    response=DiffOut,
    summary="Semantic diff between two versions (structured and as text)",
)
def diff_versions(
    request: HttpRequest,
    code: str,
    from_version: int = Query(..., alias="from"),
    to_version: int = Query(..., alias="to"),
) -> dict[str, Any]:
    old = _version(request, code, from_version)
    new = _version(request, code, to_version)
    return _diff(old, new)


def _diff(old: MasterRecordVersion, new: MasterRecordVersion) -> dict[str, Any]:
    result = selectors.compare(old, new).diff
    return {
        "code": old.master.code,
        "from_version": old.version,
        "to_version": new.version,
        **result.as_dict(),
        "text": result.render_text(),
    }


@router.get(
    "/{code}/versions/{number}/review",
    response=ReviewOut,
    summary="What a checker or approver reviews: the diff against the effective version",
)
def review(request: HttpRequest, code: str, number: int) -> dict[str, Any]:
    version = _version(request, code, number)
    baseline = selectors.approval_baseline(version)
    return {
        "version": _summary(version),
        "compared_with": _summary(baseline) if baseline else None,
        "diff": _diff(baseline, version) if baseline else None,
        "signing_fingerprint": signing_fingerprint(version),
    }


@router.post(
    "/{code}/versions/{number}/dry-run",
    summary="Walk the version with example values: path, calculations, limits that fire, yield",
)
def dry_run_version(
    request: HttpRequest, code: str, number: int, payload: DryRunIn
) -> dict[str, Any]:
    version = _version(request, code, number)
    return run_dry_run(version, payload.batch_size, payload.values)


def run_dry_run(
    version: MasterRecordVersion, batch_size: str | None, values: dict[str, Any]
) -> dict[str, Any]:
    doc = version.document()
    problems = validate(doc)
    if problems:
        raise ValidationFailed(
            f"A dry run needs a valid record; this one has {len(problems)} problem(s).",
            errors=services.problems_as_errors(problems),
        )
    try:
        report = dry_run(doc, values=values, batch_size=batch_size or None)
    except (ValueError, ArithmeticError) as exc:
        raise ValidationFailed(str(exc), field="batch_size") from None
    return {**report.as_dict(), "text": report.render_text()}


# --- changing ----------------------------------------------------------------------------------


@router.put(
    "/{code}/versions/{number}/document",
    response=VersionOut,
    summary="Replace the whole document of a draft (YAML or JSON body)",
    openapi_extra={"requestBody": DOCUMENT_BODY},
)
def replace_document(
    request: HttpRequest,
    code: str,
    number: int,
    reason: str = "",
    row_version: int | None = None,
) -> HttpResponse:
    version = _version(request, code, number)
    document = services.read_document(_body_text(request))
    version = services.replace_document(
        actor=request.user,
        version=version,
        document=document,
        expected_row_version=row_version,
        reason=reason or None,
    )
    return _version_response(version)


@router.patch(
    "/{code}/versions/{number}/document",
    response=VersionOut,
    summary="Edit a draft with fine-grained operations (set, insert, remove, move by path)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["ops"],
                        "properties": {
                            "row_version": {"type": "integer"},
                            "reason": {"type": "string"},
                            "ops": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["op", "path"],
                                    "properties": {
                                        "op": {"enum": list(editing.OPS)},
                                        "path": {"type": "string"},
                                        "values": {"type": "object"},
                                        "item": {},
                                        "index": {"type": "integer"},
                                        "to": {"type": "integer"},
                                        "into": {"type": "string"},
                                    },
                                },
                            },
                        },
                    },
                    "example": {
                        "row_version": 3,
                        "reason": "wider temperature range after validation",
                        "ops": [
                            {
                                "op": "set",
                                "path": "unit_procedures[0].operations[0].steps[1].parameters[0]",
                                "values": {"action_high": 32},
                            }
                        ],
                    },
                }
            },
        }
    },
)
def edit_document(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _version(request, code, number)
    data = _json_body(request)
    raw_ops = data.get("ops")
    if not isinstance(raw_ops, list) or not raw_ops:
        raise ValidationFailed("Give the changes as a list of ops.", field="ops")
    try:
        ops = [editing.EditOp.of(op if isinstance(op, dict) else {}) for op in raw_ops]
    except editing.EditError as exc:
        raise ValidationFailed(exc.message, field=exc.path or "ops") from None
    reason = data.get("reason")
    version = services.edit_document(
        actor=request.user,
        version=version,
        ops=ops,
        expected_row_version=_optional_int(data.get("row_version"), "row_version"),
        reason=reason if isinstance(reason, str) else None,
    )
    return _version_response(version)


@router.post(
    "/{code}/versions/{number}/attachments",
    response={201: VersionOut},
    summary="Attach a file (step image, label specimen; PNG, JPEG, GIF, WebP or PDF) to a draft",
    description="The file is kept by its SHA-256 and listed in the document's `attachments` under "
    "`attachment_id`; instructions refer to it as `attachment:<attachment_id>`.",
)
def attach_file(
    request: HttpRequest,
    code: str,
    number: int,
    file: File[UploadedFile],
    attachment_id: Form[str],
    description: Form[str] = "",
    row_version: Form[int | None] = None,
    reason: Form[str] = "",
) -> HttpResponse:
    version = _version(request, code, number)
    limit = services.MAX_ATTACHMENT_BYTES
    if file.size is not None and file.size > limit:
        raise ValidationFailed(
            f"Files up to {limit // 1_000_000} MB can be attached; this one is {file.size} bytes.",
            field="file",
        )
    version = services.add_attachment(
        actor=request.user,
        version=version,
        attachment_id=attachment_id.strip(),
        filename=file.name or "file",
        media_type=file.content_type or "",
        content=file.read(limit + 1),
        description=description.strip(),
        expected_row_version=row_version,
        reason=reason or None,
    )
    return _version_response(version, status=201)


@router.get(
    "/attachments/{sha256}",
    response={200: None},
    summary="The bytes of an attached file, by its SHA-256 (in the X-Content-SHA256 header too)",
)
def attachment_bytes(request: HttpRequest, sha256: str) -> HttpResponse:
    stored = selectors.attachment(request.user, sha256)
    response = HttpResponse(bytes(stored.content), content_type=stored.media_type)
    response["Content-Disposition"] = f'attachment; filename="{stored.filename}"'
    response["X-Content-SHA256"] = stored.sha256
    response["X-Content-Type-Options"] = "nosniff"
    return response


@router.post(
    "/{code}/versions",
    response={201: VersionOut},
    summary="Start a new version (a draft copy of an approved or effective one)",
)
def new_version(request: HttpRequest, code: str, payload: NewVersionIn) -> HttpResponse:
    source = _version(request, code, payload.from_version)
    version = services.new_version(actor=request.user, version=source, reason=payload.reason)
    return _version_response(version, status=201)


@router.post(
    "/{code}/versions/{number}/submit",
    response=VersionOut,
    summary="Sign as author and send for review (refused while the record has problems)",
)
def submit(request: HttpRequest, code: str, number: int, payload: LifecycleSignIn) -> HttpResponse:
    version = _version(request, code, number)
    authority = _authority(request, payload)
    version = services.submit_for_review(
        actor=request.user,
        version=version,
        authority=authority,
        reason=payload.reason,
        expected_row_version=payload.row_version,
        expected_content_sha256=payload.content_sha256,
    )
    return _version_response(version)


@router.post(
    "/{code}/versions/{number}/check",
    response=VersionOut,
    summary="Sign as the independent checker (never the author)",
)
def check(request: HttpRequest, code: str, number: int, payload: LifecycleSignIn) -> HttpResponse:
    version = _version(request, code, number)
    authority = _authority(request, payload)
    version = services.check_version(
        actor=request.user,
        version=version,
        authority=authority,
        reason=payload.reason,
        expected_row_version=payload.row_version,
        expected_content_sha256=payload.content_sha256,
    )
    return _version_response(version)


@router.post(
    "/{code}/versions/{number}/approve",
    response=VersionOut,
    summary="Sign the QA approval (see .../review for the diff against the effective version)",
)
def approve(request: HttpRequest, code: str, number: int, payload: LifecycleSignIn) -> HttpResponse:
    version = _version(request, code, number)
    authority = _authority(request, payload)
    version = services.approve(
        actor=request.user,
        version=version,
        authority=authority,
        reason=payload.reason,
        expected_row_version=payload.row_version,
        expected_content_sha256=payload.content_sha256,
    )
    return _version_response(version)


@router.post("/{code}/versions/{number}/reject", response=VersionOut, summary="Send back to draft")
def reject(request: HttpRequest, code: str, number: int, payload: ReasonIn) -> HttpResponse:
    version = services.reject(
        actor=request.user,
        version=_version(request, code, number),
        reason=payload.reason,
        expected_row_version=payload.row_version,
    )
    return _version_response(version)


@router.post(
    "/{code}/versions/{number}/make-effective",
    response=VersionOut,
    summary="Make an approved version effective (supersedes the effective one)",
)
def make_effective(request: HttpRequest, code: str, number: int, payload: ReasonIn) -> HttpResponse:
    version = services.make_effective(
        actor=request.user,
        version=_version(request, code, number),
        reason=payload.reason,
        expected_row_version=payload.row_version,
    )
    return _version_response(version)


@router.post(
    "/{code}/versions/{number}/retire", response=VersionOut, summary="Retire a version for good"
)
def retire(request: HttpRequest, code: str, number: int, payload: ReasonIn) -> HttpResponse:
    version = services.retire(
        actor=request.user,
        version=_version(request, code, number),
        reason=payload.reason,
        expected_row_version=payload.row_version,
    )
    return _version_response(version)


__all__ = ["export_response", "router", "run_dry_run", "signing_fingerprint"]
