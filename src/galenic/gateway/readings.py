"""A reading: one value of one tag from one device, as the gateway hands it to the server.

The idempotency key is (source, tag, seq). ``seq`` comes from the device when it has one (its own
counter or its timestamp), so a message the broker redelivers after a gateway crash maps to the same
key; otherwise the outbox assigns a strictly increasing number (see ``outbox.py``).
"""

from __future__ import annotations

import json
import json.encoder
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Quality(StrEnum):
    GOOD = "good"  # for a balance: a stable weight
    UNSTABLE = "unstable"  # balance still moving (MT-SICS "S D")
    OVERLOAD = "overload"
    UNDERLOAD = "underload"
    ERROR = "error"  # the device answered but gave no value


@dataclass(slots=True)
class Reading:
    source: str  # device id registered on the server, e.g. "BAL-01"
    tag: str  # tag code, e.g. "GRN-01.product_temp"
    value: Decimal | None
    unit: str
    received_at: datetime  # gateway clock when the value arrived
    device_time: datetime | None = None  # the device's own timestamp, if it sends one
    seq: int | None = None
    quality: Quality = Quality.GOOD
    serial: str = ""  # serial number the device reported with this value
    raw: str = ""  # the value exactly as the device sent it (211.68(b): raw next to converted)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_micros(moment: datetime) -> int:
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).isoformat()


def parse_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {text!r}")
    return moment.astimezone(UTC)


_text = json.encoder.encode_basestring_ascii  # the C string encoder json.dumps itself uses


def wire_text(reading: Reading, seq: int) -> str:
    """``json.dumps(to_wire(reading, seq))`` without building the dict (the outbox's hot path)."""
    value = "null" if reading.value is None else _text(str(reading.value))
    device_time = "null" if reading.device_time is None else _text(iso(reading.device_time) or "")
    return (
        f'{{"source":{_text(reading.source)},"tag":{_text(reading.tag)},"seq":{int(seq)},'
        f'"value":{value},"unit":{_text(reading.unit)},"device_time":{device_time},'
        f'"received_at":{_text(iso(reading.received_at) or "")},"quality":{_text(str(reading.quality))},'
        f'"serial":{_text(reading.serial)},"raw":{_text(reading.raw)}}}'
    )


def to_wire(reading: Reading, seq: int) -> dict[str, Any]:
    return {
        "source": reading.source,
        "tag": reading.tag,
        "seq": seq,
        "value": None if reading.value is None else str(reading.value),
        "unit": reading.unit,
        "device_time": iso(reading.device_time),
        "received_at": iso(reading.received_at),
        "quality": str(reading.quality),
        "serial": reading.serial,
        "raw": reading.raw,
    }
