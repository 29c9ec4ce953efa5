"""Display of server timestamps: always with the zone, never ambiguous (21 CFR 11.50)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings


def display_zone() -> ZoneInfo:
    return ZoneInfo(settings.DISPLAY_TIME_ZONE)


def format_datetime(value: datetime | None, *, zone: str | None = None) -> str:
    """``2026-11-23 19:05:12 CET (UTC+01:00)``: local time, zone name and offset."""
    if value is None:
        return ""
    if value.tzinfo is None:
        raise ValueError("naive datetime: Galenic stores aware UTC datetimes only")
    local = value.astimezone(ZoneInfo(zone) if zone else display_zone())
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} (UTC{offset[:3]}:{offset[3:]})"


def utcnow() -> datetime:
    """The server's clock, the only clock Galenic trusts."""
    return datetime.now(UTC)


def local_today() -> date:
    """Today at the site (its display time zone): the calendar day training and calibration
    dates are read in."""
    return utcnow().astimezone(display_zone()).date()
