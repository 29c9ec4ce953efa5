"""Wire items and ingest helpers for the equipment tests (imported as ``equipment_helpers``)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from galenic.core.context import action_context
from galenic.core.timefmt import utcnow
from galenic.equipment import services
from galenic.gateway.readings import to_micros


def item(
    tag: str = "GRN-T1.temp",
    value: str | None = "24.5",
    *,
    source: str | None = None,
    seq: int | None = None,
    unit: str = "degC",
    at=None,
    quality: str = "good",
    serial: str = "",
    raw: str | None = None,
) -> dict[str, Any]:
    at = at or utcnow()
    return {
        "source": source or tag.split(".")[0],
        "tag": tag,
        "seq": seq if seq is not None else to_micros(at),
        "value": value,
        "unit": unit,
        "device_time": at.isoformat(),
        "received_at": at.isoformat(),
        "quality": quality,
        "serial": serial,
        "raw": raw if raw is not None else (value or ""),
    }


def weight(
    value: str = "12.345", *, quality: str = "good", serial: str = "B512345678", at=None, seq=None
) -> dict[str, Any]:
    raw = f"S {'S' if quality == 'good' else 'D'} {value:>10} g" if value else "S +"
    return item(
        "BAL-T1.weight", value, unit="g", quality=quality, serial=serial, at=at, seq=seq, raw=raw
    )


def ingest(plant: Any, *items: dict[str, Any]):
    with action_context("test"):
        return services.ingest_readings(actor=plant.device, items=list(items))


D = Decimal
