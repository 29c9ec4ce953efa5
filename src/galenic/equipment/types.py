"""What the equipment context hands to other contexts (execution binds these to step parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class CapturedReading:
    """A stable balance weight accepted for a batch record, with its full provenance."""

    value: Decimal
    unit: str
    instrument_code: str  # registered equipment code, e.g. "BAL-01"
    device_id: str  # the source id the gateway delivered it under
    serial: str  # serial number the balance itself reported (checked against the registry)
    model: str
    tag_code: str
    reading_id: int  # TagValue id: the raw record this value came from
    seq: int
    raw: str  # the balance's reply line, e.g. "S S      12.345 g"
    measured_at: datetime  # device time (else gateway receipt)
    gateway_received_at: datetime
    stored_at: datetime  # server clock at ingest
    captured_at: datetime  # server clock when the operator pressed "read"
    gateway_code: str
    calibration_due: date | None

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class TagCapture:
    """A process value for a step parameter: the live value at confirmation, or min/max/mean."""

    tag_code: str
    mode: str  # at_confirm | min | max | mean
    value: Decimal
    unit: str
    equipment_code: str
    device_id: str
    serial: str
    captured_at: datetime  # server clock
    count: int  # values the figure is computed from
    first_at: datetime  # measured time of the first / last value used
    last_at: datetime
    window_start: datetime | None = None
    window_end: datetime | None = None
    reading_id: int | None = None  # for at_confirm: the TagValue used
    max_gap_s: float = 0.0  # longest stretch without a value (window edges included)
    complete: bool = True  # no gap longer than the tag's max age
    excursions: list[ExcursionInfo] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out = {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}
        out["excursions"] = [e.as_dict() for e in self.excursions]
        return out


@dataclass(frozen=True)
class ExcursionInfo:
    id: int
    tag_code: str
    equipment_code: str
    level: str  # alert | action
    direction: str  # low | high
    limit: Decimal | None
    started_at: datetime
    ended_at: datetime | None  # None: still outside the limits
    first_value: Decimal
    peak_value: Decimal
    unit: str

    def as_dict(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in self.__dict__.items()}


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)  # {"index", "reason", "code"}
    excursions_opened: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "excursions_opened": self.excursions_opened,
        }
