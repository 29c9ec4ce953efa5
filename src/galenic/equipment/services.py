"""Equipment services: the only code that changes the registry, ingests readings and captures values.

Registry changes (equipment, calibration, tags, gateways) are audited with old and new values in the
same transaction. Ingest is the gateway's path (``DevicePrincipal``, permission "equipment.ingest"):
readings are raw data and are not audited one by one (they are append-only rows with their own
provenance); what is audited is what a reviewer must see: refused readings (security events, rate
limited per device and reason), excursions opening/escalating/closing, and connection state changes.
"""

from __future__ import annotations

import re
import secrets
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.db.models import Field

from galenic.accounts.permissions import require
from galenic.audit import services as audit
from galenic.core.errors import Conflict, NotFound, ValidationFailed
from galenic.core.timefmt import local_today, utcnow
from galenic.equipment import errors, limits, selectors
from galenic.equipment.models import (
    CalibrationRecord,
    DeviceRefusal,
    Equipment,
    EquipmentKind,
    EquipmentStatus,
    Excursion,
    Gateway,
    GatewayConnection,
    Quality,
    Tag,
    TagValue,
)
from galenic.equipment.types import CapturedReading, IngestResult, TagCapture

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")
TAG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-/]{0,79}$")
MAX_CLOCK_AHEAD = timedelta(minutes=5)  # device/gateway clocks ahead of the server by more: refused
REFUSAL_AUDIT_EVERY = timedelta(minutes=15)
MAX_BATCH = 5000
VALUE_LIMIT = Decimal("1e12")  # DecimalField(18, 6)
SIX_PLACES = Decimal("0.000001")
INSERT_CHUNK = 500


class DevicePrincipal:
    """A gateway calling the API. Not a person: it holds only the ``device`` role."""

    is_authenticated = True
    pk = None

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.is_active = gateway.is_active
        self.username = f"gateway:{gateway.code}"

    def role_codes(self) -> set[str]:
        return {"device"}

    def __str__(self) -> str:
        return self.username


def _code(value: str, field: str, pattern: re.Pattern[str] = CODE_RE) -> str:
    value = (value or "").strip()
    if not pattern.match(value):
        raise ValidationFailed(
            "use letters, digits, '-' and '_' (tags also '.' and '/'), starting with a letter or digit",
            field=field,
        )
    return value


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("a reason is required for this change", field="reason")
    return reason


def _gateway(code: str | None) -> Gateway | None:
    if not code:
        return None
    gateway = Gateway.objects.filter(code=code).first()
    if gateway is None:
        raise ValidationFailed(f"no gateway {code!r} is registered", field="gateway")
    return gateway


# --- gateways ----------------------------------------------------------------------------------


def _new_token(gateway: Gateway) -> str:
    secret = secrets.token_urlsafe(32)
    gateway.token_hash = selectors.token_digest(secret)
    gateway.token_issued_at = utcnow()
    return f"{gateway.code}:{secret}"


def register_gateway(*, actor: Any, code: str, name: str) -> tuple[Gateway, str]:
    """Register an edge gateway; returns it with its token (shown once, stored only as a hash)."""
    require(actor, "equipment.manage")
    code = _code(code, "code")
    if not name.strip():
        raise ValidationFailed("a name is required", field="name")
    with transaction.atomic():
        if Gateway.objects.filter(code=code).exists():
            raise Conflict(f"gateway {code!r} is already registered", field="code")
        gateway = Gateway(code=code, name=name.strip())
        token = _new_token(gateway)
        gateway.save()
        audit.record(
            actor=actor,
            action="equipment.gateway.register",
            obj=gateway,
            new={"code": code, "name": gateway.name, "token_issued": True},
        )
    return gateway, token


def issue_gateway_token(*, actor: Any, code: str, reason: str) -> str:
    """Issue a new token for a gateway; the old one stops working at once."""
    require(actor, "equipment.manage")
    reason = _reason(reason)
    with transaction.atomic():
        gateway = Gateway.objects.select_for_update(no_key=True).filter(code=code).first()
        if gateway is None:
            raise NotFound(f"no gateway {code!r} is registered", field="code")
        old_issued = gateway.token_issued_at
        token = _new_token(gateway)
        gateway.save(update_fields=["token_hash", "token_issued_at"])
        audit.record(
            actor=actor,
            action="equipment.gateway.token",
            obj=gateway,
            old={"token_issued_at": old_issued.isoformat() if old_issued else None},
            new={"token_issued_at": gateway.token_issued_at.isoformat()},  # type: ignore[union-attr]
            reason=reason,
            category="security",
        )
    return token


# --- equipment and calibration -----------------------------------------------------------------


def _equipment_values(e: Equipment) -> dict[str, Any]:
    return {
        "code": e.code,
        "name": e.name,
        "kind": e.kind,
        "manufacturer": e.manufacturer,
        "model": e.model,
        "serial_number": e.serial_number,
        "location": e.location,
        "status": e.status,
        "gateway": e.gateway.code if e.gateway else None,
        "calibration_required": e.calibration_required,
        "calibration_due": e.calibration_due.isoformat() if e.calibration_due else None,
    }


def register_equipment(
    *,
    actor: Any,
    code: str,
    name: str,
    kind: str,
    manufacturer: str = "",
    model: str = "",
    serial_number: str = "",
    location: str = "",
    gateway_code: str | None = None,
    calibration_required: bool = True,
) -> Equipment:
    require(actor, "equipment.manage")
    code = _code(code, "code")
    if kind not in EquipmentKind.values:
        raise ValidationFailed(
            f"kind must be one of {', '.join(EquipmentKind.values)}", field="kind"
        )
    if not name.strip():
        raise ValidationFailed("a name is required", field="name")
    if kind == EquipmentKind.BALANCE and not serial_number.strip():
        raise ValidationFailed(
            "a balance needs its serial number: readings are checked against it",
            field="serial_number",
        )
    with transaction.atomic():
        if Equipment.objects.filter(code=code).exists():
            raise Conflict(f"equipment {code!r} is already registered", field="code")
        equipment = Equipment.objects.create(
            code=code,
            name=name.strip(),
            kind=kind,
            manufacturer=manufacturer.strip(),
            model=model.strip(),
            serial_number=serial_number.strip(),
            location=location.strip(),
            gateway=_gateway(gateway_code),
            calibration_required=calibration_required,
        )
        audit.record(
            actor=actor,
            action="equipment.register",
            obj=equipment,
            new=_equipment_values(equipment),
        )
    return equipment


CHANGEABLE = {
    "name",
    "manufacturer",
    "model",
    "serial_number",
    "location",
    "status",
    "gateway_code",
}


def change_equipment(*, actor: Any, code: str, reason: str, **changes: Any) -> Equipment:
    """Change identity or binding (a new serial number after a repair, a new gateway), with a reason."""
    require(actor, "equipment.manage")
    reason = _reason(reason)
    unknown = set(changes) - CHANGEABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update(no_key=True).filter(code=code).first()
        if equipment is None:
            raise NotFound(f"no equipment {code!r} is registered", field="code")
        old = _equipment_values(equipment)
        for key, value in changes.items():
            if key == "gateway_code":
                equipment.gateway = _gateway(value)
            elif key == "status":
                if value not in EquipmentStatus.values:
                    raise ValidationFailed(
                        f"status must be one of {', '.join(EquipmentStatus.values)}", field="status"
                    )
                equipment.status = value
            else:
                setattr(equipment, key, str(value).strip())
        equipment.save()
        new = _equipment_values(equipment)
        audit.record(
            actor=actor,
            action="equipment.change",
            obj=equipment,
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
            reason=reason,
        )
    return equipment


def record_calibration(
    *,
    actor: Any,
    code: str,
    performed_on: date,
    due: date,
    passed: bool = True,
    certificate: str = "",
    reason: str = "",
) -> CalibrationRecord:
    """Record a calibration (211.68(a)); the equipment's due date and status follow from it."""
    require(actor, "equipment.calibrate")
    if due < performed_on:
        raise ValidationFailed("the next due date is before the calibration", field="due")
    if performed_on > local_today():
        raise ValidationFailed("a calibration cannot be recorded in advance", field="performed_on")
    with transaction.atomic():
        equipment = Equipment.objects.select_for_update(no_key=True).filter(code=code).first()
        if equipment is None:
            raise NotFound(f"no equipment {code!r} is registered", field="code")
        if not equipment.calibration_required:
            raise Conflict(f"{code} has no calibration programme", field="code")
        old = {
            "calibration_due": equipment.calibration_due.isoformat()
            if equipment.calibration_due
            else None,
            "calibration_failed": equipment.calibration_failed,
        }
        record = CalibrationRecord.objects.create(
            equipment=equipment,
            performed_on=performed_on,
            due=due,
            passed=passed,
            certificate=certificate.strip(),
            reason=reason.strip(),
            recorded_by=actor if getattr(actor, "pk", None) else None,
            recorded_at=utcnow(),
        )
        equipment.calibration_due = due
        equipment.calibration_failed = not passed
        equipment.save(update_fields=["calibration_due", "calibration_failed"])
        audit.record(
            actor=actor,
            action="equipment.calibration.record",
            obj=equipment,
            old=old,
            new={
                "calibration_due": due.isoformat(),
                "calibration_failed": not passed,
                "performed_on": performed_on.isoformat(),
                "certificate": record.certificate,
            },
            reason=reason.strip(),
        )
    return record


# --- tags --------------------------------------------------------------------------------------


def _decimal_or_none(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationFailed(f"{value!r} is not a number", field=field) from None
    if not number.is_finite() or abs(number) >= VALUE_LIMIT:
        raise ValidationFailed("must be a finite number below 10^12", field=field)
    return number


def _limits_from(values: dict[str, Any]) -> limits.Limits:
    parsed = limits.Limits(
        alert_low=_decimal_or_none(values.get("alert_low"), "alert_low"),
        alert_high=_decimal_or_none(values.get("alert_high"), "alert_high"),
        action_low=_decimal_or_none(values.get("action_low"), "action_low"),
        action_high=_decimal_or_none(values.get("action_high"), "action_high"),
    )
    problems = parsed.problems()
    if problems:
        raise ValidationFailed(problems[0][1], field=problems[0][0])
    return parsed


def _tag_values(t: Tag) -> dict[str, Any]:
    return {
        "code": t.code,
        "equipment": t.equipment.code,
        "name": t.name,
        "source": t.source,
        "unit": t.unit,
        "max_age_s": t.max_age_s,
        "alert_low": t.alert_low,
        "alert_high": t.alert_high,
        "action_low": t.action_low,
        "action_high": t.action_high,
        "is_active": t.is_active,
    }


def define_tag(
    *,
    actor: Any,
    code: str,
    equipment_code: str,
    name: str,
    unit: str,
    max_age_s: int = 10,
    source: str | None = None,
    alert_low: Any = None,
    alert_high: Any = None,
    action_low: Any = None,
    action_high: Any = None,
) -> Tag:
    require(actor, "equipment.manage")
    code = _code(code, "code", TAG_RE)
    if not unit.strip():
        raise ValidationFailed("a unit is required", field="unit")
    if max_age_s < 1:
        raise ValidationFailed("the maximum age is at least 1 s", field="max_age_s")
    tag_limits = _limits_from(
        {
            "alert_low": alert_low,
            "alert_high": alert_high,
            "action_low": action_low,
            "action_high": action_high,
        }
    )
    with transaction.atomic():
        equipment = Equipment.objects.filter(code=equipment_code).first()
        if equipment is None:
            raise ValidationFailed(f"no equipment {equipment_code!r}", field="equipment")
        if Tag.objects.filter(code=code).exists():
            raise Conflict(f"tag {code!r} is already defined", field="code")
        tag = Tag.objects.create(
            code=code,
            equipment=equipment,
            name=name.strip() or code,
            source=_code(source or equipment.code, "source"),
            unit=unit.strip(),
            max_age_s=max_age_s,
            alert_low=tag_limits.alert_low,
            alert_high=tag_limits.alert_high,
            action_low=tag_limits.action_low,
            action_high=tag_limits.action_high,
        )
        audit.record(actor=actor, action="equipment.tag.define", obj=tag, new=_tag_values(tag))
    return tag


TAG_CHANGEABLE = {
    "name",
    "unit",
    "max_age_s",
    "source",
    "alert_low",
    "alert_high",
    "action_low",
    "action_high",
    "is_active",
}


def change_tag(*, actor: Any, code: str, reason: str, **changes: Any) -> Tag:
    require(actor, "equipment.manage")
    reason = _reason(reason)
    unknown = set(changes) - TAG_CHANGEABLE
    if unknown:
        raise ValidationFailed(
            f"cannot change {', '.join(sorted(unknown))}", field=sorted(unknown)[0]
        )
    with transaction.atomic():
        tag = (
            Tag.objects.select_for_update(no_key=True)
            .select_related("equipment")
            .filter(code=code)
            .first()
        )
        if tag is None:
            raise NotFound(f"no tag {code!r}", field="code")
        old = _tag_values(tag)
        merged = {**old, **changes}
        tag_limits = _limits_from(merged)
        tag.alert_low, tag.alert_high = tag_limits.alert_low, tag_limits.alert_high
        tag.action_low, tag.action_high = tag_limits.action_low, tag_limits.action_high
        for key in ("name", "unit"):
            if key in changes:
                setattr(tag, key, str(changes[key]).strip())
        if "source" in changes:
            tag.source = _code(changes["source"], "source")
        if "max_age_s" in changes:
            if int(changes["max_age_s"]) < 1:
                raise ValidationFailed("the maximum age is at least 1 s", field="max_age_s")
            tag.max_age_s = int(changes["max_age_s"])
        if "is_active" in changes:
            tag.is_active = bool(changes["is_active"])
        tag.save()
        new = _tag_values(tag)
        audit.record(
            actor=actor,
            action="equipment.tag.change",
            obj=tag,
            old={k: v for k, v in old.items() if new[k] != v},
            new={k: v for k, v in new.items() if old[k] != v},
            reason=reason,
        )
    return tag


# --- ingest ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _TagInfo:
    """What ingest needs to know about a tag, read with one query (no model instances)."""

    pk: int
    code: str
    source: str
    unit: str
    is_active: bool
    limits: limits.Limits
    equipment_code: str
    gateway_id: int | None
    serial_number: str
    equipment_status: str


_QUALITIES = frozenset(Quality.values)
NO_LIMITS = limits.Limits()


def _tag_infos(codes: set[str]) -> dict[str, _TagInfo]:
    rows = Tag.objects.filter(code__in=codes).values_list(
        "pk",
        "code",
        "source",
        "unit",
        "is_active",
        "alert_low",
        "alert_high",
        "action_low",
        "action_high",
        "equipment__code",
        "equipment__gateway_id",
        "equipment__serial_number",
        "equipment__status",
    )
    return {
        r[1]: _TagInfo(
            pk=r[0],
            code=r[1],
            source=r[2],
            unit=r[3],
            is_active=r[4],
            limits=limits.Limits(r[5], r[6], r[7], r[8]),
            equipment_code=r[9],
            gateway_id=r[10],
            serial_number=r[11],
            equipment_status=r[12],
        )
        for r in rows
    }


@dataclass
class _Item:
    index: int
    tag: _TagInfo
    seq: int
    value: Decimal | None
    quality: str
    measured_at: datetime
    device_time: datetime | None
    received_at: datetime
    serial: str
    raw: str
    limit_state: str = ""


class _Refused(Exception):
    def __init__(self, code: str, message: str, *, security: bool) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.security = security


def _parse_time(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _Refused("invalid", f"{field} is not a timestamp", security=False)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Refused(
            "invalid", f"{field} {value[:40]!r} is not ISO 8601", security=False
        ) from None
    if moment.tzinfo is None:
        raise _Refused("invalid", f"{field} has no time zone", security=False)
    return moment


def _parse_item(
    index: int, raw: Any, gateway: Gateway, tags: dict[str, _TagInfo], now: datetime
) -> tuple[_Item | None, _Refused | None, tuple[str, str]]:
    """One wire item → an item to store, or the reason it is refused (and its (source, tag))."""
    if not isinstance(raw, dict):
        return None, _Refused("invalid", "item is not an object", security=False), ("", "")
    source, tag_code = str(raw.get("source", ""))[:80], str(raw.get("tag", ""))[:80]
    key = (source, tag_code)
    try:
        tag = tags.get(tag_code)
        if tag is None:
            raise _Refused(
                "unregistered_device", f"tag {tag_code!r} is not registered", security=True
            )
        if tag.source != source:
            raise _Refused(
                "source_mismatch",
                f"tag {tag_code} belongs to device {tag.source!r}, not {source!r}",
                security=True,
            )
        if tag.gateway_id != gateway.pk:
            raise _Refused(
                "unregistered_device",
                f"{tag.equipment_code} is not registered to gateway {gateway.code}",
                security=True,
            )
        if not tag.is_active or tag.equipment_status == EquipmentStatus.RETIRED:
            raise _Refused(
                "inactive", f"tag {tag_code} or its equipment is not active", security=True
            )
        serial = str(raw.get("serial") or "")[:64]
        if serial and tag.serial_number and serial != tag.serial_number:
            raise _Refused(
                "identity_mismatch",
                f"{tag.equipment_code} reported serial {serial!r}, registered {tag.serial_number!r}",
                security=True,
            )
        seq = raw.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0 or seq >= 2**63:
            raise _Refused("invalid", "seq must be a whole number ≥ 0", security=False)
        quality = str(raw.get("quality") or Quality.GOOD)
        if quality not in _QUALITIES:
            raise _Refused("invalid", f"unknown quality {quality[:20]!r}", security=False)
        value: Decimal | None = None
        if raw.get("value") is not None:
            try:
                value = Decimal(str(raw["value"]))
            except InvalidOperation:
                raise _Refused("invalid", "value is not a number", security=False) from None
            if not value.is_finite() or abs(value) >= VALUE_LIMIT:
                raise _Refused(
                    "invalid", "value is not a finite number below 10^12", security=False
                )
            if value != value.quantize(SIX_PLACES):
                raise _Refused("invalid", "value has more than 6 decimal places", security=False)
            unit = str(raw.get("unit") or "")
            if unit != tag.unit:
                raise _Refused(
                    "unit_mismatch",
                    f"unit {unit!r} sent for {tag_code}, which is defined in {tag.unit!r}",
                    security=False,
                )
        elif quality == Quality.GOOD:
            raise _Refused("invalid", "a good reading needs a value", security=False)
        received_at = _parse_time(raw.get("received_at"), "received_at")
        if received_at is None:
            raise _Refused("invalid", "received_at is required", security=False)
        device_time = _parse_time(raw.get("device_time"), "device_time")
        measured_at = device_time or received_at
        if measured_at - now > MAX_CLOCK_AHEAD or received_at - now > MAX_CLOCK_AHEAD:
            raise _Refused(
                "clock_ahead",
                f"timestamp {measured_at.isoformat()} is ahead of the server clock: "
                "check the device's and the gateway's time",
                security=False,
            )
    except _Refused as refused:
        return None, refused, key
    return (
        _Item(
            index=index,
            tag=tag,
            seq=seq,
            value=value,
            quality=quality,
            measured_at=measured_at,
            device_time=device_time,
            received_at=received_at,
            serial=serial,
            raw=str(raw.get("raw") or "")[:120],
        ),
        None,
        key,
    )


_COLUMNS = (
    "tag",
    "seq",
    "value",
    "quality",
    "limit_state",
    "measured_at",
    "device_time",
    "gateway_received_at",
    "stored_at",
    "serial",
    "raw",
    "gateway",
)


def _adapter(field: Field[Any, Any]) -> Any:
    """The backend's own value adaptation, without the per-value checks of get_db_prep_save
    (values here are already validated: aware UTC datetimes, 6-place Decimals)."""
    ops = connection.ops
    if field.get_internal_type() == "DateTimeField":
        if connection.vendor == "sqlite":
            # What Django's SQLite adapter produces (naive UTC text), minus its per-value checks.
            return lambda v: None if v is None else str(v.astimezone(UTC).replace(tzinfo=None))
        return lambda v: None if v is None else ops.adapt_datetimefield_value(v)
    if field.get_internal_type() == "DecimalField":
        return lambda v: None if v is None else ops.adapt_decimalfield_value(v, 18, 6)
    return lambda v: v


def _insert_new(items: list[_Item], gateway: Gateway, now: datetime) -> set[tuple[int, int]]:
    """Batched INSERT ... ON CONFLICT DO NOTHING RETURNING: the (tag_id, seq) actually stored.

    The unique key does the dedup, so a redelivered batch (or two racing deliveries) stores each
    reading once; RETURNING tells which ones are new without a second query.
    """
    meta = TagValue._meta
    fields: list[Field[Any, Any]] = [meta.get_field(name) for name in _COLUMNS]  # type: ignore[misc]
    table = connection.ops.quote_name(meta.db_table)
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    prep = [_adapter(f) for f in fields]
    stored: set[tuple[int, int]] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(items), INSERT_CHUNK):
            chunk = items[start : start + INSERT_CHUNK]
            params: list[Any] = []
            for item in chunk:
                row = (
                    item.tag.pk,
                    item.seq,
                    item.value,
                    item.quality,
                    item.limit_state,
                    item.measured_at,
                    item.device_time,
                    item.received_at,
                    now,
                    item.serial,
                    item.raw,
                    gateway.pk,
                )
                params.extend(p(v) for p, v in zip(prep, row, strict=True))
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(fields)) + ")"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {placeholders} "  # noqa: S608 - names from model meta
                f"ON CONFLICT (tag_id, seq) DO NOTHING RETURNING tag_id, seq",
                params,
            )
            stored.update((int(r[0]), int(r[1])) for r in cursor.fetchall())
    return stored


def _conflicting_duplicates(items: list[_Item]) -> list[_Item]:
    """Redelivered readings whose key is stored with another value or quality: a redelivery
    repeats a reading, anything else under the same key is refused (and audited)."""
    if not items:
        return []
    stored = {
        (row["tag_id"], row["seq"]): row
        for row in TagValue.objects.filter(
            tag_id__in={i.tag.pk for i in items}, seq__in={i.seq for i in items}
        ).values("tag_id", "seq", "value", "quality")
    }
    different = []
    for item in items:
        row = stored.get((item.tag.pk, item.seq))
        if row is None:
            continue
        if row["value"] != item.value or row["quality"] != item.quality:
            different.append(item)
    return different


def _open_state(e: Excursion) -> limits.OpenExcursion:
    return limits.OpenExcursion(
        level=limits.Level(e.level),
        direction=e.direction,
        limit=e.limit,
        started_at=e.started_at,
        first_value=e.first_value,
        peak_value=e.peak_value,
        last_at=e.last_value_at,
        count=e.value_count,
    )


def _excursion_audit(actor: Any, action: str, excursion: Excursion, **extra: Any) -> None:
    audit.record(
        actor=actor,
        action=action,
        obj=excursion,
        object_repr=str(excursion),
        new={
            "tag": excursion.tag.code,
            "level": excursion.level,
            "direction": excursion.direction,
            "limit": excursion.limit,
            "started_at": excursion.started_at.isoformat(),
            "first_value": excursion.first_value,
            "peak_value": excursion.peak_value,
            **extra,
        },
    )


def _track_excursions(actor: Any, items: list[_Item], now: datetime) -> int:
    """Advance each tag's excursion state with its new values (time order); returns openings."""
    per_tag: dict[int, list[_Item]] = defaultdict(list)
    for item in items:
        if item.value is not None and item.quality == Quality.GOOD and item.limit_state:
            per_tag[item.tag.pk].append(item)
    if not per_tag:
        return 0
    open_rows = {
        e.tag_id: e
        for e in Excursion.objects.select_related("tag").filter(
            tag_id__in=list(per_tag), ended_at__isnull=True
        )
    }
    opened = 0
    for tag_id, tag_items in per_tag.items():
        tag = tag_items[0].tag
        row = open_rows.get(tag_id)
        state = _open_state(row) if row else None
        tag_limits = tag.limits
        for item in sorted(tag_items, key=lambda i: (i.measured_at, i.seq)):
            assert item.value is not None
            if state is not None and item.measured_at < state.last_at:
                continue  # a late value (replayed backlog) never rewrites an excursion's history
            step = limits.advance(state, item.value, item.measured_at, tag_limits)
            if step.closed is not None and row is not None:
                row.ended_at = item.measured_at
                row.peak_value = step.closed.peak_value
                row.last_value_at = step.closed.last_at
                row.value_count = step.closed.count
                row.save()
                _excursion_audit(
                    actor, "equipment.excursion.close", row, ended_at=row.ended_at.isoformat()
                )
                row = None
            if step.opened and step.state is not None:
                s = step.state
                row = Excursion.objects.create(
                    tag_id=tag.pk,
                    level=s.level,
                    direction=s.direction,
                    limit=s.limit,
                    started_at=s.started_at,
                    first_value=s.first_value,
                    peak_value=s.peak_value,
                    last_value_at=s.last_at,
                    value_count=s.count,
                    opened_at=now,
                )
                opened += 1
                _excursion_audit(actor, "equipment.excursion.open", row)
            elif step.state is not None and row is not None:
                s = step.state
                row.level, row.limit = s.level, s.limit
                row.peak_value, row.last_value_at, row.value_count = (
                    s.peak_value,
                    s.last_at,
                    s.count,
                )
                row.save()
                if step.escalated:
                    _excursion_audit(actor, "equipment.excursion.escalate", row)
            state = step.state
    return opened


def _record_refusals(
    actor: Any,
    gateway: Gateway,
    refused: dict[tuple[str, str, str], tuple[_Refused, int]],
    now: datetime,
) -> None:
    for (source, tag_code, code), (example, count) in refused.items():
        row = DeviceRefusal.objects.filter(
            gateway=gateway, source=source, tag_code=tag_code, reason=code
        ).first()
        audit_now = row is None or now - row.audited_at >= REFUSAL_AUDIT_EVERY
        if row is None:
            row = DeviceRefusal(
                gateway=gateway,
                source=source,
                tag_code=tag_code,
                reason=code,
                first_at=now,
                audited_at=now,
            )
        refused_before = row.count
        row.count += count
        row.last_at = now
        row.message = example.message[:300]
        if audit_now:
            row.audited_at = now
        row.save()
        if audit_now:
            audit.record(
                actor=actor,
                action="equipment.reading.refused",
                category="security" if example.security else "system",
                object_type="equipment.gateway",
                object_id=str(gateway.pk),
                object_repr=f"{gateway.code} {source}/{tag_code}",
                new={
                    "gateway": gateway.code,
                    "source": source,
                    "tag": tag_code,
                    "reason": code,
                    "message": example.message,
                    "refused_in_this_delivery": count,
                    "refused_before": refused_before,
                },
            )


def ingest_readings(*, actor: Any, items: Sequence[Any]) -> IngestResult:
    """Store a gateway's batch: device checks, dedup on (source, tag, seq), limit checks, excursions.

    Every item gets an answer: accepted, duplicate (already stored) or refused with a reason, so the
    gateway can forget the whole batch. One transaction: all of it is stored, or none.
    """
    require(actor, "equipment.ingest")
    gateway: Gateway = actor.gateway
    if len(items) > MAX_BATCH:
        raise ValidationFailed(f"at most {MAX_BATCH} readings per delivery", field="items")
    now = utcnow()
    codes = {str(i.get("tag", "")) for i in items if isinstance(i, dict)}
    tags = _tag_infos(codes)
    result = IngestResult()
    good: list[_Item] = []
    refused: dict[tuple[str, str, str], tuple[_Refused, int]] = {}
    for index, raw in enumerate(items):
        item, refusal, (source, tag_code) = _parse_item(index, raw, gateway, tags, now)
        if refusal is not None:
            key = (source, tag_code, refusal.code)
            refused[key] = (
                refused.get(key, (refusal, 0))[0],
                refused.get(key, (refusal, 0))[1] + 1,
            )
            result.rejected.append(
                {"index": index, "code": refusal.code, "reason": refusal.message}
            )
            continue
        assert item is not None
        tag_limits = item.tag.limits
        if (
            item.value is not None
            and item.quality == Quality.GOOD
            and tag_limits != limits.Limits()
        ):
            item.limit_state = limits.evaluate(item.value, tag_limits).level.value
        good.append(item)
    with transaction.atomic():
        stored = _insert_new(good, gateway, now) if good else set()
        new_items = []
        for i in good:
            if (i.tag.pk, i.seq) in stored:
                stored.discard((i.tag.pk, i.seq))  # a key twice in one batch: the first one
                new_items.append(i)
        result.accepted = len(new_items)
        new_ids = {id(i) for i in new_items}
        duplicates = [i for i in good if id(i) not in new_ids]
        conflicting = _conflicting_duplicates(duplicates)
        for item in conflicting:
            refusal = _Refused(
                "conflicting_duplicate",
                f"reading #{item.seq} of {item.tag.code} was already stored with another "
                "value: a replayed or altered message, or the device's counter restarted; "
                "the stored reading stands",
                security=True,
            )
            key = (item.tag.source, item.tag.code, refusal.code)
            refused[key] = (refusal, refused.get(key, (refusal, 0))[1] + 1)
            result.rejected.append(
                {"index": item.index, "code": refusal.code, "reason": refusal.message}
            )
        result.duplicates = len(duplicates) - len(conflicting)
        result.excursions_opened = _track_excursions(actor, new_items, now)
        if refused:
            _record_refusals(actor, gateway, refused, now)
        Gateway.objects.filter(pk=gateway.pk).update(last_seen_at=now)
    return result


def report_gateway_status(*, actor: Any, status: dict[str, Any]) -> None:
    """Store the connection states a gateway reports; each change of state is audited."""
    require(actor, "equipment.ingest")
    gateway: Gateway = actor.gateway
    now = utcnow()
    connections = status.get("connections") or []
    if not isinstance(connections, list):
        raise ValidationFailed("connections must be a list", field="connections")
    with transaction.atomic():
        existing = {c.name: c for c in GatewayConnection.objects.filter(gateway=gateway)}
        for entry in connections[:200]:
            if not isinstance(entry, dict) or not entry.get("name"):
                continue
            name = str(entry["name"])[:100]
            state = str(entry.get("state", "unknown"))[:20]
            detail = str(entry.get("detail", ""))[:300]
            kind = str(entry.get("kind", ""))[:20]
            try:
                since = _parse_time(entry.get("since"), "since") or now
            except _Refused:
                since = now
            since = min(since, now)
            row = existing.get(name)
            if row is None:
                row = GatewayConnection(gateway=gateway, name=name)
                old_state = None
            else:
                old_state = row.state
            # The gateway's own "since" is authoritative (it knows when it reconnected).
            row.kind, row.state, row.detail, row.reported_at = kind, state, detail, now
            row.since = since
            row.save()
            if old_state != state:
                audit.record(
                    actor=actor,
                    action="equipment.gateway.connection",
                    category="system",
                    obj=gateway,
                    old={"connection": name, "state": old_state},
                    new={
                        "connection": name,
                        "state": state,
                        "detail": detail,
                        "since": since.isoformat(),
                    },
                )
        gateway.last_seen_at = now
        gateway.last_status = {
            "pending": int(status.get("pending") or 0),
            "reported_at": now.isoformat(),
        }
        gateway.save(update_fields=["last_seen_at", "last_status"])


# --- capture (what execution calls) ------------------------------------------------------------


def _audit_refusal(
    actor: Any, exc: errors.ReadingRefused, what: str, code: str, **context: Any
) -> None:
    audit.record_standalone(
        actor=actor,
        action="equipment.capture.refused",
        category="security" if exc.security else "gmp",
        object_type=what,
        object_id=code,
        object_repr=code,
        new={"code": exc.code, "message": exc.message, **context},
    )


def capture_balance_weight(
    *, actor: Any, instrument_code: str, not_before: datetime | None = None
) -> CapturedReading:
    """The stable weight on a registered, calibrated balance, for a step parameter.

    Refuses with ``equipment.errors`` (stale, unstable, overload, identity mismatch, unregistered,
    calibration expired); each refusal is audited (device checks as security events). Call it
    *before* opening the transaction that records the entry, so a refusal's audit event is kept.
    """
    require(actor, "equipment.capture")
    try:
        return selectors.balance_reading_for_capture(instrument_code, not_before=not_before)
    except errors.ReadingRefused as exc:
        _audit_refusal(actor, exc, "equipment.equipment", instrument_code)
        raise


def capture_tag_value(
    *,
    actor: Any,
    tag_code: str,
    mode: selectors.CaptureMode = "at_confirm",
    at: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> TagCapture:
    """A process value for a step parameter (live at confirmation, or min/max/mean over the step)."""
    require(actor, "equipment.capture")
    try:
        return selectors.tag_value_for_capture(tag_code, at=at, window=window, mode=mode)
    except errors.ReadingRefused as exc:
        _audit_refusal(actor, exc, "equipment.tag", tag_code, mode=mode)
        raise
