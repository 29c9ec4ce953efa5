"""Alert and action limits of a process tag, and the excursion state machine. No Django here.

Alert limits sit inside action limits: ``action_low ≤ alert_low < alert_high ≤ action_high`` (each
optional). A value beyond an alert limit is an *alert* excursion; beyond an action limit an *action*
excursion. One excursion lasts from the first value outside the alert band to the first value back
inside it; its level is the worst level seen and its peak the most extreme value.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    ALERT = "alert"
    ACTION = "action"


SEVERITY = {Level.OK: 0, Level.ALERT: 1, Level.ACTION: 2}


@dataclass(frozen=True)
class Limits:
    alert_low: Decimal | None = None
    alert_high: Decimal | None = None
    action_low: Decimal | None = None
    action_high: Decimal | None = None

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every inconsistency; empty when the limits make sense."""
        found: list[tuple[str, str]] = []
        order = [
            ("action_low", self.action_low),
            ("alert_low", self.alert_low),
            ("alert_high", self.alert_high),
            ("action_high", self.action_high),
        ]
        for name, value in order:
            if value is not None and not value.is_finite():
                found.append((name, "must be a finite number"))
        present = [(n, v) for n, v in order if v is not None and v.is_finite()]
        for (low_name, low), (high_name, high) in itertools.pairwise(present):
            strict = low_name.endswith("low") and high_name.endswith("high")
            if (low >= high) if strict else (low > high):
                relation = "below" if strict else "at or below"
                found.append(
                    (high_name, f"{low_name} ({low}) must be {relation} {high_name} ({high})")
                )
        return found


@dataclass(frozen=True)
class Evaluation:
    level: Level
    direction: str = ""  # "low" | "high" | ""
    limit: Decimal | None = None  # the limit crossed


OK = Evaluation(Level.OK)


def evaluate(value: Decimal, limits: Limits) -> Evaluation:
    if limits.action_high is not None and value > limits.action_high:
        return Evaluation(Level.ACTION, "high", limits.action_high)
    if limits.action_low is not None and value < limits.action_low:
        return Evaluation(Level.ACTION, "low", limits.action_low)
    if limits.alert_high is not None and value > limits.alert_high:
        return Evaluation(Level.ALERT, "high", limits.alert_high)
    if limits.alert_low is not None and value < limits.alert_low:
        return Evaluation(Level.ALERT, "low", limits.alert_low)
    return OK


@dataclass(frozen=True)
class OpenExcursion:
    level: Level
    direction: str
    limit: Decimal | None
    started_at: datetime
    first_value: Decimal
    peak_value: Decimal
    last_at: datetime
    count: int


@dataclass(frozen=True)
class Step:
    """What one value did to a tag's excursion state."""

    state: OpenExcursion | None  # the excursion open after this value
    opened: bool = False
    escalated: bool = False  # alert → action
    closed: OpenExcursion | None = None  # the excursion this value ended (ended at ``at``)


def _more_extreme(direction: str, a: Decimal, b: Decimal) -> Decimal:
    return max(a, b) if direction == "high" else min(a, b)


def advance(state: OpenExcursion | None, value: Decimal, at: datetime, limits: Limits) -> Step:
    """Feed one value (in time order) into a tag's excursion state."""
    result = evaluate(value, limits)
    if result.level is Level.OK:
        return Step(state=None, closed=state)
    if state is None or state.direction != result.direction:
        opened = OpenExcursion(
            level=result.level,
            direction=result.direction,
            limit=result.limit,
            started_at=at,
            first_value=value,
            peak_value=value,
            last_at=at,
            count=1,
        )
        # Jumping straight from high to low closes one excursion and opens another.
        return Step(state=opened, opened=True, closed=state)
    escalated = SEVERITY[result.level] > SEVERITY[state.level]
    return Step(
        state=replace(
            state,
            level=result.level if escalated else state.level,
            limit=result.limit if escalated else state.limit,
            peak_value=_more_extreme(state.direction, state.peak_value, value),
            last_at=at,
            count=state.count + 1,
        ),
        escalated=escalated,
    )
