"""Equipment API under /api/v1/equipment/.

Two kinds of caller: people (session auth, the API's default) and gateways (``Authorization:
Bearer <gateway code>:<secret>``, only on /ingest and /gateway/status). A gateway token grants the
``device`` role and nothing else.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.security import HttpBearer

from galenic.accounts.permissions import require
from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import local_today, utcnow
from galenic.equipment import selectors, services
from galenic.equipment.models import Equipment

router = Router(tags=["equipment"])
log = logging.getLogger(__name__)


class GatewayAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> services.DevicePrincipal | None:
        gateway = selectors.gateway_for_token(token)
        if gateway is None:
            log.warning(
                "gateway authentication failed from %s (gateway %r)",
                request.META.get("REMOTE_ADDR", "?"),
                # Only the gateway code before the ':'; never any part of the secret.
                token.split(":", 1)[0][:40] if ":" in token else "?",
            )
            return None
        return services.DevicePrincipal(gateway)


gateway_auth = GatewayAuth()


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise ValidationFailed("the body is not JSON", field="body") from None
    if not isinstance(body, dict):
        raise ValidationFailed("the body must be a JSON object", field="body")
    return body


@router.post(
    "/ingest",
    auth=gateway_auth,
    summary="Deliver a batch of readings (gateways only)",
    description='Body: {"items": [{source, tag, seq, value, unit, device_time, received_at, '
    "quality, serial, raw}, ...]}. Idempotent on (source, tag, seq). Every item is answered: "
    "accepted, duplicate, or rejected with {index, code, reason}.",
)
def ingest(request: HttpRequest) -> dict[str, Any]:
    body = _json_body(request)
    items = body.get("items")
    if not isinstance(items, list):
        raise ValidationFailed("items must be a list", field="items")
    device = request.auth  # type: ignore[attr-defined]
    return services.ingest_readings(actor=device, items=items).as_dict()


@router.post(
    "/gateway/status", auth=gateway_auth, summary="Report connection states (gateways only)"
)
def gateway_status(request: HttpRequest) -> dict[str, Any]:
    device = request.auth  # type: ignore[attr-defined]
    services.report_gateway_status(actor=device, status=_json_body(request))
    return {"ok": True}


class EquipmentOut(Schema):
    code: str
    name: str
    kind: str
    manufacturer: str
    model: str
    serial_number: str
    location: str
    status: str
    gateway: str | None
    calibration_required: bool
    calibration_due: str | None
    calibration_state: str


def _equipment_out(e: Equipment) -> EquipmentOut:
    return EquipmentOut(
        code=e.code,
        name=e.name,
        kind=e.kind,
        manufacturer=e.manufacturer,
        model=e.model,
        serial_number=e.serial_number,
        location=e.location,
        status=e.status,
        gateway=e.gateway.code if e.gateway else None,
        calibration_required=e.calibration_required,
        calibration_due=e.calibration_due.isoformat() if e.calibration_due else None,
        calibration_state=e.calibration_state(local_today()).value,
    )


@router.get("/instruments", response=list[EquipmentOut], summary="Registered equipment")
def list_equipment(request: HttpRequest) -> list[EquipmentOut]:
    require(request.user, "equipment.view")
    return [_equipment_out(e) for e in selectors.equipment_list()]


@router.get("/instruments/{code}", response=EquipmentOut, summary="One piece of equipment")
def get_equipment(request: HttpRequest, code: str) -> EquipmentOut:
    require(request.user, "equipment.view")
    return _equipment_out(selectors.get_equipment(code))


class CaptureIn(Schema):
    not_before: datetime | None = None


@router.post(
    "/instruments/{code}/capture",
    summary="Read the stable weight of a balance (for a step parameter)",
    description="Refused with 409 and a code: no_reading, stale, unstable, overload, "
    "identity_mismatch, unregistered_device, calibration_expired, out_of_service.",
)
def capture_weight(request: HttpRequest, code: str, payload: CaptureIn) -> dict[str, Any]:
    reading = services.capture_balance_weight(
        actor=request.user, instrument_code=code, not_before=payload.not_before
    )
    return reading.as_dict()


class TagCaptureIn(Schema):
    mode: str = "at_confirm"
    start: datetime | None = None
    end: datetime | None = None


@router.post("/tags/{code}/capture", summary="Capture a process value (live, or min/max/mean)")
def capture_tag(request: HttpRequest, code: str, payload: TagCaptureIn) -> dict[str, Any]:
    window = None
    if payload.start is not None or payload.end is not None:
        if payload.start is None or payload.end is None:
            raise ValidationFailed("give both start and end of the window", field="start")
        window = (payload.start, payload.end)
    capture = services.capture_tag_value(
        actor=request.user,
        tag_code=code,
        mode=payload.mode,  # type: ignore[arg-type]
        window=window,
    )
    return capture.as_dict()


class TagValueOut(Schema):
    seq: int
    value: str | None
    quality: str
    limit_state: str
    measured_at: datetime
    gateway_received_at: datetime
    stored_at: datetime
    serial: str
    raw: str


@router.get("/tags/{code}/values", response=list[TagValueOut], summary="A tag's values in a window")
def tag_values(
    request: HttpRequest, code: str, start: datetime, end: datetime | None = None
) -> list[TagValueOut]:
    require(request.user, "equipment.view")
    tag = selectors.get_tag(code)
    values = selectors.values_between(tag, start, end or utcnow())[:10_000]
    return [
        TagValueOut(
            seq=v.seq,
            value=None if v.value is None else str(v.value),
            quality=v.quality,
            limit_state=v.limit_state,
            measured_at=v.measured_at,
            gateway_received_at=v.gateway_received_at,
            stored_at=v.stored_at,
            serial=v.serial,
            raw=v.raw,
        )
        for v in values
    ]


@router.get("/excursions", summary="Limit excursions overlapping a window")
def excursions(
    request: HttpRequest, start: datetime, end: datetime | None = None, tags: str = ""
) -> list[dict[str, Any]]:
    require(request.user, "equipment.view")
    codes = [t for t in tags.split(",") if t] or None
    return [e.as_dict() for e in selectors.excursions_between(codes, start, end)]


@router.get("/gateways", summary="Gateways and the state of their connections")
def list_gateways(request: HttpRequest) -> list[dict[str, Any]]:
    require(request.user, "equipment.view")
    return [
        {
            "code": g.code,
            "name": g.name,
            "is_active": g.is_active,
            "last_seen_at": g.last_seen_at,
            "pending": g.last_status.get("pending"),
            "connections": [
                {
                    "name": c.name,
                    "kind": c.kind,
                    "state": c.state,
                    "since": c.since,
                    "detail": c.detail,
                    "reported_at": c.reported_at,
                }
                for c in selectors.connections_of(g)
            ],
        }
        for g in selectors.gateways()
    ]
