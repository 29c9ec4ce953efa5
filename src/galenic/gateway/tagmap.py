"""The tag map: which MQTT topic and JSON field becomes which equipment tag, in which unit.

Pure Python (no I/O): ``TagMap.decode(topic, payload, received_at)`` turns one MQTT message into
readings or says exactly why it could not. Numbers are parsed straight to ``Decimal`` (never through
float), NaN/Infinity and booleans are refused.

YAML shape (one entry per topic; ``field`` is a dotted path into the JSON, omitted when the payload
is the bare number)::

    topics:
      - topic: plant/granulation/GRN-01/telemetry
        source: GRN-01            # device id registered on the server
        timestamp: ts             # optional: device time, ISO 8601 with zone or epoch seconds
        seq: seq                  # optional: device counter, the idempotency key
        serial: serial            # optional: serial number sent by the device
        values:
          - {field: product_temp, tag: GRN-01.product_temp, unit: degC}
          - {field: impeller.load_pct, tag: GRN-01.impeller_load, unit: "%"}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from galenic.gateway.readings import Reading, parse_iso, to_micros


class MappingError(ValueError):
    """A message that matched the tag map but cannot become a reading."""


@dataclass(frozen=True)
class ValueMap:
    tag: str
    unit: str
    field: str = ""  # dotted JSON path; "" = the payload is the value


@dataclass(frozen=True)
class TopicMap:
    topic: str
    source: str
    values: tuple[ValueMap, ...]
    timestamp: str = ""
    seq: str = ""
    serial: str = ""


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT filter matching: ``+`` one level, ``#`` the rest."""
    p_parts = pattern.split("/")
    t_parts = topic.split("/")
    for i, part in enumerate(p_parts):
        if part == "#":
            return True
        if i >= len(t_parts) or (part != "+" and part != t_parts[i]):
            return False
    return len(p_parts) == len(t_parts)


def _refuse_constant(name: str) -> Any:
    raise MappingError(f"{name} is not a measured value")


def _lookup(document: Any, path: str) -> Any:
    current = document
    for key in path.split("."):
        if not isinstance(current, Mapping) or key not in current:
            raise MappingError(f"field {path!r} missing")
        current = current[key]
    return current


def to_decimal(value: Any, what: str) -> Decimal:
    if isinstance(value, bool) or value is None:
        raise MappingError(f"{what}: {value!r} is not a number")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            raise MappingError(f"{what}: {value!r} is not a number") from None
    else:
        raise MappingError(f"{what}: {value!r} is not a number")
    if not number.is_finite():
        raise MappingError(f"{what}: {value!r} is not a finite number")
    return number


def to_time(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            moment = parse_iso(value)
        except ValueError as exc:
            raise MappingError(f"timestamp {value!r}: {exc}") from None
        assert moment is not None
        return moment
    seconds = to_decimal(value, "timestamp")
    try:
        return datetime.fromtimestamp(float(seconds), tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise MappingError(f"timestamp {value!r} out of range") from None


class TagMap:
    def __init__(self, topics: Iterable[TopicMap]) -> None:
        self.topics = list(topics)
        self._exact: dict[str, list[TopicMap]] = {}
        self._wild: list[TopicMap] = []
        for entry in self.topics:
            if "+" in entry.topic or "#" in entry.topic:
                self._wild.append(entry)
            else:
                self._exact.setdefault(entry.topic, []).append(entry)

    @classmethod
    def from_config(cls, entries: list[dict[str, Any]]) -> TagMap:
        topics = []
        for n, entry in enumerate(entries):
            try:
                values = tuple(
                    ValueMap(tag=str(v["tag"]), unit=str(v["unit"]), field=str(v.get("field", "")))
                    for v in entry["values"]
                )
                topics.append(
                    TopicMap(
                        topic=str(entry["topic"]),
                        source=str(entry["source"]),
                        values=values,
                        timestamp=str(entry.get("timestamp", "")),
                        seq=str(entry.get("seq", "")),
                        serial=str(entry.get("serial", "")),
                    )
                )
            except (KeyError, TypeError) as exc:
                raise ValueError(f"tag map entry {n + 1}: missing or bad {exc}") from None
        return cls(topics)

    def subscriptions(self) -> list[str]:
        return sorted({t.topic for t in self.topics})

    def tags(self) -> list[str]:
        return [v.tag for t in self.topics for v in t.values]

    def entries_for(self, topic: str) -> list[TopicMap]:
        found = list(self._exact.get(topic, ()))
        found.extend(t for t in self._wild if topic_matches(t.topic, topic))
        return found

    def decode(self, topic: str, payload: bytes, received_at: datetime) -> list[Reading]:
        """One message → its readings. Raises MappingError when nothing usable is in it."""
        entries = self.entries_for(topic)
        if not entries:
            raise MappingError(f"topic {topic!r} is not in the tag map")
        try:
            text = payload.decode("utf-8")
            document = json.loads(
                text, parse_float=Decimal, parse_int=Decimal, parse_constant=_refuse_constant
            )
        except (UnicodeDecodeError, ValueError) as exc:
            raise MappingError(f"payload on {topic!r} is not JSON: {exc}") from None
        readings: list[Reading] = []
        for entry in entries:
            device_time = None
            if entry.timestamp:
                device_time = to_time(_lookup(document, entry.timestamp))
            seq: int | None = None
            if entry.seq:
                seq_value = to_decimal(_lookup(document, entry.seq), "seq")
                if seq_value != seq_value.to_integral_value() or seq_value < 0:
                    raise MappingError(f"seq {seq_value} is not a whole number ≥ 0")
                seq = int(seq_value)
            elif device_time is not None:
                # The device's timestamp identifies the sample: a redelivered message keeps its key.
                seq = to_micros(device_time)
            serial = str(_lookup(document, entry.serial)) if entry.serial else ""
            for value_map in entry.values:
                raw_value = _lookup(document, value_map.field) if value_map.field else document
                value = to_decimal(raw_value, value_map.tag)
                readings.append(
                    Reading(
                        source=entry.source,
                        tag=value_map.tag,
                        value=value,
                        unit=value_map.unit,
                        received_at=received_at,
                        device_time=device_time,
                        seq=seq,
                        serial=serial,
                        raw=str(raw_value)[:120],
                    )
                )
        return readings
