"""Reads of the equipment context. Capture checks raise ``equipment.errors``; they never write.

``services.capture_balance_weight`` / ``services.capture_tag_value`` wrap the two capture selectors
and record refusals in the audit trail; execution should call those services.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal

from django.db.models import Q

from galenic.core.errors import NotFound, ValidationFailed
from galenic.core.timefmt import format_datetime, local_today, utcnow
from galenic.equipment import errors
from galenic.equipment.models import (
    CalibrationState,
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
from galenic.equipment.types import CapturedReading, ExcursionInfo, TagCapture

CaptureMode = Literal["at_confirm", "min", "max", "mean"]
MODES = ("at_confirm", "min", "max", "mean")
MEAN_PLACES = Decimal("0.000001")


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def gateway_for_token(token: str) -> Gateway | None:
    """``<gateway code>:<secret>`` → the active gateway it belongs to, else None."""
    code, sep, secret = token.strip().rpartition(":")
    if not sep or not code or not secret:
        return None
    gateway = Gateway.objects.filter(code=code, is_active=True).first()
    if gateway is None or not gateway.token_hash:
        return None
    if not hmac.compare_digest(gateway.token_hash, token_digest(secret)):
        return None
    return gateway


def equipment_list() -> list[Equipment]:
    return list(Equipment.objects.select_related("gateway").order_by("code"))


def get_equipment(code: str) -> Equipment:
    equipment = Equipment.objects.select_related("gateway").filter(code=code).first()
    if equipment is None:
        raise NotFound(f"No equipment with code {code!r} is registered.", field="code")
    return equipment


def get_tag(code: str) -> Tag:
    tag = Tag.objects.select_related("equipment", "equipment__gateway").filter(code=code).first()
    if tag is None:
        raise NotFound(f"No tag {code!r} is defined.", field="tag")
    return tag


def tags_of(equipment: Equipment) -> list[Tag]:
    return list(equipment.tags.order_by("code"))


def gateways() -> list[Gateway]:
    return list(Gateway.objects.order_by("code"))


def connections_of(gateway: Gateway) -> list[GatewayConnection]:
    return list(gateway.connections.order_by("name"))


SILENT_AFTER = timedelta(seconds=30)  # a gateway reports at least every few seconds


def gateway_silent(gateway: Gateway, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return gateway.last_seen_at is None or now - gateway.last_seen_at > SILENT_AFTER


@dataclass(frozen=True)
class LinkState:
    """How an instrument reaches the server now, as its gateway last reported it.

    ``state``: ``connected`` | ``connecting`` | ``disconnected`` (the gateway's own words for the
    device or broker connection), ``silent`` (the gateway itself stopped reporting), ``unknown``
    (not reported yet) or ``no_gateway``.
    """

    state: str
    kind: str  # "balance" | "mqtt" | ""
    gateway_code: str
    since: datetime | None
    detail: str
    message: str

    @property
    def ok(self) -> bool:
        return self.state == "connected"


def connection_of(tag: Tag) -> str:
    """The gateway connection a tag's values come through: the balance itself, else the broker."""
    return tag.source if tag.equipment.kind == EquipmentKind.BALANCE else "mqtt"


def link_state(equipment: Equipment, connection: str) -> LinkState:
    """The state of ``connection`` (a balance's device id, or ``mqtt``) on the equipment's gateway."""
    gateway = equipment.gateway
    what = "MQTT broker" if connection == "mqtt" else equipment.code
    if gateway is None:
        return LinkState(
            "no_gateway", "", "", None, "", f"{equipment.code} is not bound to a gateway."
        )
    if gateway_silent(gateway):
        heard = f"since {format_datetime(gateway.last_seen_at)}" if gateway.last_seen_at else "yet"
        return LinkState(
            "silent",
            "",
            gateway.code,
            gateway.last_seen_at,
            "",
            f"Gateway {gateway.code} has not reported {heard}: it is not running or cannot reach "
            "the server.",
        )
    row = gateway.connections.filter(name=connection).first()
    if row is None:
        return LinkState(
            "unknown", "", gateway.code, None, "", f"{gateway.code} has not reported {what} yet."
        )
    since = format_datetime(row.since)
    if row.state == "connected":
        message = f"{what} connected through {gateway.code} since {since}."
    elif row.state == "disconnected":
        message = (
            f"{what} disconnected from {gateway.code} since {since}; the gateway reconnects by "
            "itself."
        )
    else:
        message = f"{what}: {row.state} (gateway {gateway.code}, since {since})."
    return LinkState(row.state, row.kind, gateway.code, row.since, row.detail, message)


def latest_value(tag: Tag, at: datetime | None = None) -> TagValue | None:
    values = TagValue.objects.filter(tag=tag)
    if at is not None:
        values = values.filter(measured_at__lte=at)
    return values.order_by("-measured_at", "-seq").first()


@dataclass(frozen=True)
class TagRow:
    tag: Tag
    latest: TagValue | None
    age_s: float | None
    stale: bool


def live_tags(tags: Iterable[Tag] | None = None) -> list[TagRow]:
    """Each tag with its latest value and whether that is stale (for the equipment pages)."""
    now = utcnow()
    rows = []
    source = tags if tags is not None else Tag.objects.select_related("equipment").order_by("code")
    for tag in source:
        latest = latest_value(tag)
        age = (now - latest.measured_at).total_seconds() if latest else None
        rows.append(TagRow(tag, latest, age, age is None or age > tag.max_age_s))
    return rows


def values_between(tag: Tag, start: datetime, end: datetime) -> list[TagValue]:
    return list(
        TagValue.objects.filter(tag=tag, measured_at__gte=start, measured_at__lte=end).order_by(
            "measured_at", "seq"
        )
    )


def _excursion_info(e: Excursion) -> ExcursionInfo:
    return ExcursionInfo(
        id=e.pk,
        tag_code=e.tag.code,
        equipment_code=e.tag.equipment.code,
        level=e.level,
        direction=e.direction,
        limit=e.limit,
        started_at=e.started_at,
        ended_at=e.ended_at,
        first_value=e.first_value,
        peak_value=e.peak_value,
        unit=e.tag.unit,
    )


def excursions_between(
    tag_codes: Iterable[str] | None, start: datetime, end: datetime | None = None
) -> list[ExcursionInfo]:
    """Excursions that overlap [start, end] (end None: up to now), oldest first.

    This is how execution finds what happened while a step ran, to raise exceptions on it.
    """
    overlap = Q(ended_at__isnull=True) | Q(ended_at__gte=start)
    if end is not None:
        overlap &= Q(started_at__lte=end)
    found = Excursion.objects.select_related("tag", "tag__equipment").filter(overlap)
    if tag_codes is not None:
        found = found.filter(tag__code__in=list(tag_codes))
    return [_excursion_info(e) for e in found.order_by("started_at", "id")]


# --- device checks (211.68, 11.10(h)) -----------------------------------------------------------


def check_instrument(equipment: Equipment, field: str) -> None:
    """Registered, in service and calibrated, or a clear refusal."""
    if equipment.status != EquipmentStatus.IN_SERVICE:
        raise errors.EquipmentOutOfService(
            f"{equipment.code} is {equipment.get_status_display().lower()}: "
            "it may not be used for a batch record.",
            field=field,
        )
    state = equipment.calibration_state(local_today())
    if state == CalibrationState.EXPIRED:
        raise errors.CalibrationExpired(
            f"{equipment.code}: calibration expired on {equipment.calibration_due:%Y-%m-%d}. "
            "Use a calibrated instrument, or record a manual entry with a reason (an exception).",
            field=field,
        )
    if state in (CalibrationState.MISSING, CalibrationState.FAILED):
        raise errors.CalibrationExpired(
            f"{equipment.code}: {state.label.lower()}; it may not be used until calibrated.",
            field=field,
        )


def _age_text(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def balance_reading_for_capture(
    instrument_code: str, *, not_before: datetime | None = None
) -> CapturedReading:
    """The balance's latest reading if it may go into a batch record, else a clear refusal."""
    equipment = Equipment.objects.select_related("gateway").filter(code=instrument_code).first()
    if equipment is None:
        raise errors.UnregisteredDevice(
            f"No instrument {instrument_code!r} is registered: its readings cannot be used.",
            field="instrument",
        )
    if equipment.kind != EquipmentKind.BALANCE:
        raise ValidationFailed(f"{equipment.code} is not a balance.", field="instrument")
    check_instrument(equipment, "instrument")
    tag = equipment.tags.filter(is_active=True, code=f"{equipment.code}.weight").first()
    tag = tag or equipment.tags.filter(is_active=True).order_by("code").first()
    if tag is None:
        raise errors.NoReading(f"{equipment.code} has no weight tag defined.", field="instrument")
    now = utcnow()
    latest = latest_value(tag)
    if latest is None:
        _refuse_when_refused_at_ingest(equipment, tag, "instrument", now)
        _refuse_when_cut_off(equipment, tag.source, "instrument", "No reading has arrived")
        raise errors.NoReading(
            f"No reading has arrived from {equipment.code} yet: is its gateway running?",
            field="instrument",
        )
    age = (now - latest.measured_at).total_seconds()
    if age > tag.max_age_s or (not_before is not None and latest.measured_at < not_before):
        _refuse_when_refused_at_ingest(equipment, tag, "instrument", now)
        _refuse_when_cut_off(
            equipment, tag.source, "instrument", f"The last reading is {_age_text(age)} old"
        )
        raise errors.StaleReading(
            f"The last reading from {equipment.code} is {_age_text(age)} old "
            f"(at most {tag.max_age_s} s allowed): the balance or its gateway is not delivering.",
            field="instrument",
        )
    if latest.serial != equipment.serial_number:
        raise errors.IdentityMismatch(
            f"{equipment.code} reported serial number {latest.serial or '(none)'!r}, but the "
            f"registered serial number is {equipment.serial_number!r}: wrong or swapped balance.",
            field="instrument",
        )
    if latest.quality == Quality.UNSTABLE:
        raise errors.UnstableReading(
            f"{equipment.code} is not stable: wait until the weight settles, then read again.",
            field="instrument",
        )
    if latest.quality in (Quality.OVERLOAD, Quality.UNDERLOAD):
        raise errors.OverloadReading(
            f"{equipment.code} reports {latest.get_quality_display().lower()}: "
            "check the load on the pan.",
            field="instrument",
        )
    if latest.quality != Quality.GOOD or latest.value is None:
        raise errors.NoReading(f"{equipment.code} gave no usable weight.", field="instrument")
    model = equipment.model
    return CapturedReading(
        value=_trim(latest.value, latest.raw),
        unit=tag.unit,
        instrument_code=equipment.code,
        device_id=tag.source,
        serial=latest.serial,
        model=model,
        tag_code=tag.code,
        reading_id=latest.pk,
        seq=latest.seq,
        raw=latest.raw,
        measured_at=latest.measured_at,
        gateway_received_at=latest.gateway_received_at,
        stored_at=latest.stored_at,
        captured_at=now,
        gateway_code=equipment.gateway.code if equipment.gateway else "",
        calibration_due=equipment.calibration_due,
    )


_INGEST_REFUSALS: dict[str, type[errors.DeviceCheckFailed]] = {
    "identity_mismatch": errors.IdentityMismatch,
    "unregistered_device": errors.UnregisteredDevice,
    "source_mismatch": errors.UnregisteredDevice,
    "inactive": errors.EquipmentOutOfService,
}


def _refuse_when_refused_at_ingest(
    equipment: Equipment, tag: Tag, field: str, now: datetime
) -> None:
    """No fresh value because the device checks at ingest refuse what arrives (a swapped balance
    reports another serial number): name that, not just "nothing arrived"."""
    recent = now - timedelta(seconds=max(30, tag.max_age_s))
    refusal = (
        DeviceRefusal.objects.filter(
            tag_code=tag.code, reason__in=list(_INGEST_REFUSALS), last_at__gte=recent
        )
        .order_by("-last_at")
        .first()
    )
    if refusal is not None:
        raise _INGEST_REFUSALS[refusal.reason](
            f"{equipment.code}: its readings are refused by the device check ({refusal.message}; "
            f"{refusal.count} since {format_datetime(refusal.first_at)}). Wrong or swapped "
            "instrument? Nothing from it can go into the record.",
            field=field,
        )


def _refuse_when_cut_off(equipment: Equipment, connection: str, field: str, what: str) -> None:
    """No fresh value and the gateway says why (device or broker down, gateway silent): say so."""
    link = link_state(equipment, connection)
    # A gateway never heard from keeps the plain "no reading yet / not delivering" refusals.
    if link.state in ("disconnected", "connecting") or (link.state == "silent" and link.since):
        detail = f" ({link.detail})" if link.detail and link.state != "silent" else ""
        raise errors.Disconnected(
            f"{link.message}{detail} {what}. Read again once it is back, or enter the value by "
            "hand with a reason.",
            field=field,
        )


def _trim(value: Decimal, raw: str) -> Decimal:
    """Keep the balance's own resolution (``12.340`` stays three decimals), not the column's six."""
    parts = raw.split()
    if len(parts) >= 3:
        try:
            shown = Decimal(parts[2])
        except ArithmeticError:
            return value
        if shown == value:
            return shown
    return value


def _tag_ref(tag: Tag | str) -> Tag:
    return tag if isinstance(tag, Tag) else get_tag(tag)


def tag_value_for_capture(
    tag: Tag | str,
    *,
    at: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
    mode: CaptureMode = "at_confirm",
) -> TagCapture:
    """A process value for a step parameter, or a clear refusal.

    ``at_confirm``: the latest value at ``at`` (default now); refused when older than the tag's
    max age. ``min``/``max``/``mean``: over ``window`` (the step's start and end); refused when the
    window holds no value or its last value is older than the max age at the window's end.
    """
    if mode not in MODES:
        raise ValidationFailed(f"mode must be one of {', '.join(MODES)}", field="mode")
    tag = _tag_ref(tag)
    equipment = tag.equipment
    if not tag.is_active:
        raise errors.UnregisteredDevice(f"Tag {tag.code} is not active.", field="tag")
    check_instrument(equipment, "tag")
    now = utcnow()
    if mode == "at_confirm":
        moment = at or now
        latest = latest_value(tag, moment)
        if latest is None or latest.value is None:
            if at is None:
                _refuse_when_refused_at_ingest(equipment, tag, "tag", now)
                _refuse_when_cut_off(
                    equipment, connection_of(tag), "tag", f"No value of {tag.code} yet"
                )
            raise errors.NoReading(f"No value of {tag.code} has arrived yet.", field="tag")
        age = (moment - latest.measured_at).total_seconds()
        if age > tag.max_age_s:
            if at is None:
                _refuse_when_refused_at_ingest(equipment, tag, "tag", now)
                _refuse_when_cut_off(
                    equipment,
                    connection_of(tag),
                    "tag",
                    f"The last value of {tag.code} is {_age_text(age)} old",
                )
            raise errors.StaleReading(
                f"The last value of {tag.code} is {_age_text(age)} old (at most {tag.max_age_s} s "
                "allowed): the device, broker or gateway is not delivering.",
                field="tag",
            )
        return TagCapture(
            tag_code=tag.code,
            mode=mode,
            value=_raw_decimal(latest),
            unit=tag.unit,
            equipment_code=equipment.code,
            device_id=tag.source,
            serial=latest.serial,
            captured_at=now,
            count=1,
            first_at=latest.measured_at,
            last_at=latest.measured_at,
            reading_id=latest.pk,
            excursions=[
                e
                for e in excursions_between([tag.code], latest.measured_at, moment)
                if e.ended_at is None
            ],
        )
    if window is None:
        raise ValidationFailed(f"mode {mode!r} needs the step's time window.", field="window")
    start, end = window
    if end < start:
        raise ValidationFailed("the window ends before it starts", field="window")
    values = [
        v
        for v in values_between(tag, start, end)
        if v.value is not None and v.quality == Quality.GOOD
    ]
    if not values:
        raise errors.NoReading(
            f"No value of {tag.code} between {start:%H:%M:%S} and {end:%H:%M:%S} UTC.", field="tag"
        )
    tail = (end - values[-1].measured_at).total_seconds()
    if tail > tag.max_age_s:
        raise errors.StaleReading(
            f"The last value of {tag.code} in the step is {_age_text(tail)} before its end "
            f"(at most {tag.max_age_s} s allowed): the device stopped delivering.",
            field="tag",
        )
    times = [start, *(v.measured_at for v in values), end]
    max_gap = max((b - a).total_seconds() for a, b in itertools.pairwise(times))
    numbers = [_raw_decimal(v) for v in values]
    if mode == "min":
        figure = min(numbers)
    elif mode == "max":
        figure = max(numbers)
    else:
        figure = plain((sum(numbers, Decimal(0)) / len(numbers)).quantize(MEAN_PLACES))
    return TagCapture(
        tag_code=tag.code,
        mode=mode,
        value=figure,
        unit=tag.unit,
        equipment_code=equipment.code,
        device_id=tag.source,
        serial=values[-1].serial,
        captured_at=now,
        count=len(values),
        first_at=values[0].measured_at,
        last_at=values[-1].measured_at,
        window_start=start,
        window_end=end,
        max_gap_s=max_gap,
        complete=max_gap <= tag.max_age_s,
        excursions=excursions_between([tag.code], start, end),
    )


def _raw_decimal(value: TagValue) -> Decimal:
    """The device's digits when they match the stored value (no trailing zeros from the column)."""
    assert value.value is not None
    try:
        raw = Decimal(value.raw)
    except ArithmeticError:
        return plain(value.value)
    return raw if raw == value.value else plain(value.value)


def plain(value: Decimal) -> Decimal:
    """Without the column's trailing zeros and never in exponent form (100, not 1E+2)."""
    if value == value.to_integral_value():
        return value.quantize(Decimal(1))
    return value.normalize()


def refusals(limit: int = 50) -> list[DeviceRefusal]:
    return list(DeviceRefusal.objects.select_related("gateway").order_by("-last_at")[:limit])


def recent_excursions(hours: int = 24) -> list[ExcursionInfo]:
    return excursions_between(None, utcnow() - timedelta(hours=hours))


# --- live status for the step screens (display only; pressing "read" runs the capture) ----------


@dataclass(frozen=True)
class LiveStatus:
    """What an operator needs to see beside a "read" button: the instrument, its latest value,
    how it is connected, and whether a read now would be taken (else why not, in the refusal's
    own words)."""

    kind: str  # "balance" | "tag"
    code: str  # the balance's or the tag's code
    equipment: Equipment | None
    tag: Tag | None
    latest: TagValue | None
    age_s: float | None
    link: LinkState | None
    calibration: CalibrationState | None
    ready: bool
    problem: str
    problem_code: str
    preview: CapturedReading | TagCapture | None = None
    mode: str = "at_confirm"

    @property
    def unit(self) -> str:
        return self.tag.unit if self.tag else ""

    @property
    def shown_value(self) -> Decimal | None:
        """The latest value with the device's own digits (a balance's resolution: 200.00 kg)."""
        if self.latest is None or self.latest.value is None:
            return None
        if self.kind == "balance":
            return _trim(self.latest.value, self.latest.raw)
        return _raw_decimal(self.latest)


def _status(
    kind: str,
    code: str,
    equipment: Equipment | None,
    tag: Tag | None,
    capture: Callable[[], CapturedReading | TagCapture],
    mode: str = "at_confirm",
) -> LiveStatus:
    latest = latest_value(tag) if tag is not None else None
    age = (utcnow() - latest.measured_at).total_seconds() if latest is not None else None
    link = link_state(equipment, connection_of(tag) if tag else code) if equipment else None
    calibration = equipment.calibration_state(local_today()) if equipment else None
    try:
        preview = capture()
    except (errors.ReadingRefused, ValidationFailed, NotFound) as exc:
        return LiveStatus(
            kind, code, equipment, tag, latest, age, link, calibration, False, exc.message,
            getattr(exc, "code", "refused"), None, mode,
        )  # fmt: skip
    return LiveStatus(
        kind, code, equipment, tag, latest, age, link, calibration, True, "", "", preview, mode
    )


def balance_status(code: str) -> LiveStatus:
    equipment = Equipment.objects.select_related("gateway").filter(code=code).first()
    tag = None
    if equipment is not None:
        tag = equipment.tags.filter(is_active=True, code=f"{equipment.code}.weight").first()
        tag = tag or equipment.tags.filter(is_active=True).order_by("code").first()

    def capture() -> CapturedReading:
        if not code:
            raise ValidationFailed("Name the balance to read.", field="instrument")
        return balance_reading_for_capture(code)

    return _status("balance", code, equipment, tag, capture)


def tag_status(
    code: str, *, mode: CaptureMode = "at_confirm", since: datetime | None = None
) -> LiveStatus:
    """``mode`` min/max/mean: the figure so far over [since, now] (the step's window)."""
    tag = Tag.objects.select_related("equipment", "equipment__gateway").filter(code=code).first()
    equipment = tag.equipment if tag else None

    def capture() -> TagCapture:
        if tag is None:
            raise errors.UnregisteredDevice(f"No tag {code!r} is defined.", field="tag")
        if mode == "at_confirm" or since is None:
            return tag_value_for_capture(tag)
        return tag_value_for_capture(tag, mode=mode, window=(since, utcnow()))

    return _status("tag", code, equipment, tag, capture, mode)


def existing_tags(codes: Iterable[str]) -> set[str]:
    return set(
        Tag.objects.filter(code__in=list(codes), is_active=True).values_list("code", flat=True)
    )


def balances() -> list[Equipment]:
    """Registered balances in service (the choices beside a "Read balance" button)."""
    return list(
        Equipment.objects.filter(
            kind=EquipmentKind.BALANCE, status=EquipmentStatus.IN_SERVICE
        ).order_by("code")
    )
