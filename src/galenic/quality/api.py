"""Deviations API, mounted at /api/v1/deviations/ (21 CFR 211.100(b), 211.192)."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from galenic.accounts.permissions import require
from galenic.core.errors import ValidationFailed
from galenic.quality import selectors, services
from galenic.quality.models import Deviation
from galenic.signatures import selectors as signature_selectors
from galenic.signatures import services as signing
from galenic.signatures.schemas import SignatureOut

router = Router(tags=["quality"])


class DeviationOut(Schema):
    number: str
    title: str
    description: str
    source: str
    classification: str
    status: str
    status_label: str
    batch: str | None
    step: str | None
    iteration: int | None
    entry: int | None
    exception: int | None
    opened_at: datetime
    opened_by: str
    investigation: str
    conclusion: str
    closed_at: datetime | None
    closed_by: str | None
    row_version: int
    signatures: list[SignatureOut] = []

    @staticmethod
    def of(d: Deviation, *, signatures: bool = False) -> DeviationOut:
        return DeviationOut(
            number=d.number or "",
            title=d.title,
            description=d.description,
            source=d.source,
            classification=d.classification,
            status=d.status,
            status_label=d.get_status_display(),
            batch=d.batch.number if d.batch else None,
            step=d.step.step_key if d.step else None,
            iteration=d.step.iteration if d.step else None,
            entry=d.entry_id,
            exception=d.exception_id,
            opened_at=d.opened_at,
            opened_by=d.opened_by.username,
            investigation=d.investigation,
            conclusion=d.conclusion,
            closed_at=d.closed_at,
            closed_by=d.closed_by.username if d.closed_by else None,
            row_version=d.row_version,
            signatures=[SignatureOut.of(s) for s in signature_selectors.signatures_for_object(d)]
            if signatures
            else [],
        )


class DeviationFilter(Schema):
    status: str | None = None
    batch: str | None = None
    classification: str | None = None
    open: bool = False


class DeviationIn(Schema):
    title: str
    description: str
    classification: str = Field("major", description="minor | major | critical")
    batch: str | None = None
    step_key: str | None = None
    entry_id: int | None = None


class ClassifyIn(Schema):
    classification: str
    reason: str
    row_version: int | None = None


class InvestigateIn(Schema):
    investigation: str
    row_version: int | None = None


class CloseIn(Schema):
    conclusion: str
    user_id: str | None = None
    password: str = Field("", json_schema_extra={"format": "password", "writeOnly": True})
    row_version: int | None = None


@router.get("/", response=list[DeviationOut], summary="Deviations, newest first")
def list_deviations(request: HttpRequest, filters: Query[DeviationFilter]) -> list[DeviationOut]:
    require(request.user, "quality.view")
    found = selectors.deviations(
        status=filters.status,
        batch=filters.batch,
        classification=filters.classification,
        open_only=filters.open,
    )
    return [DeviationOut.of(d) for d in found[:500]]


@router.post("/", response={201: DeviationOut}, summary="Report a deviation")
def open_deviation(request: HttpRequest, payload: DeviationIn) -> Status[DeviationOut]:
    deviation = services.open_deviation(
        actor=request.user,
        title=payload.title,
        description=payload.description,
        classification=payload.classification,
        batch_number=payload.batch,
        step_key=payload.step_key,
        entry_id=payload.entry_id,
    )
    return Status(201, DeviationOut.of(selectors.get_deviation(deviation.number or "")))


@router.get("/{number}", response=DeviationOut, summary="One deviation with its signatures")
def get_deviation(request: HttpRequest, number: str) -> DeviationOut:
    require(request.user, "quality.view")
    return DeviationOut.of(selectors.get_deviation(number), signatures=True)


@router.post("/{number}/classify", response=DeviationOut, summary="Classify (QA, reason)")
def classify(request: HttpRequest, number: str, payload: ClassifyIn) -> DeviationOut:
    services.classify_deviation(
        actor=request.user,
        number=number,
        classification=payload.classification,
        reason=payload.reason,
        row_version=payload.row_version,
    )
    return DeviationOut.of(selectors.get_deviation(number), signatures=True)


@router.post("/{number}/investigate", response=DeviationOut, summary="Record the investigation")
def investigate(request: HttpRequest, number: str, payload: InvestigateIn) -> DeviationOut:
    services.investigate_deviation(
        actor=request.user,
        number=number,
        investigation=payload.investigation,
        row_version=payload.row_version,
    )
    return DeviationOut.of(selectors.get_deviation(number), signatures=True)


@router.post("/{number}/close", response=DeviationOut, summary="Close (QA approver, signed)")
def close(request: HttpRequest, number: str, payload: CloseIn) -> DeviationOut:
    require(request.user, "quality.close")  # before asking for a password
    if not payload.conclusion.strip():
        raise ValidationFailed("Conclusion is required.", field="conclusion")
    if not payload.password:
        raise ValidationFailed("Enter your password to sign.", field="password")
    authority = signing.authenticate_signer(
        session=request.session,
        actor=request.user,
        user_id=payload.user_id,
        password=payload.password,
    )
    services.close_deviation(
        actor=request.user,
        authority=authority,
        number=number,
        conclusion=payload.conclusion,
        row_version=payload.row_version,
    )
    return DeviationOut.of(selectors.get_deviation(number), signatures=True)
