"""Checking a captured value against its limits, the moment it is captured.

Boundary semantics (the same everywhere in Galenic):

* The value is first converted exactly into the parameter's unit (``0.598 g`` → ``598 mg``).
* If the parameter has a ``precision`` (decimal places), the converted value is rounded half away
  from zero to that many places before it is compared, as USP <General Notices 7.20> rounds an
  observed value before comparing it with a specification. The raw value is kept; only the
  comparison uses the rounded one.
* Limits are inclusive: a value exactly at a limit meets it. ``action_high = 65`` and a value of
  65.0 is not an action excursion; 65.1 is.
* Action limits win over alert limits: a value beyond both is an action excursion.
* Outcome names: ``in_range``, ``alert_low``, ``alert_high``, ``action_low``, ``action_high``, and
  ``not_expected`` for a choice, yes/no, text or barcode that is allowed but not the expected one.
  ``severity`` groups them into ``none``, ``alert`` and ``action``.

A value that cannot be a value of the parameter at all (wrong type, unknown or incompatible unit,
a choice that is not offered, a naive date-time) raises ``InvalidValue``: that is a bad input to
refuse, not an excursion to record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from galenic.rules.numbers import NumberError, parse_decimal, plain, round_to
from galenic.rules.units import Quantity, UnitError, check_unit, compatible

MAX_TEXT = 2000
MAX_BARCODE = 200
MAX_PATTERN = 200


class InvalidValue(ValueError):
    """The input cannot be recorded as a value of this parameter; ``str()`` says why."""


class Outcome(StrEnum):
    IN_RANGE = "in_range"
    ALERT_LOW = "alert_low"
    ALERT_HIGH = "alert_high"
    ACTION_LOW = "action_low"
    ACTION_HIGH = "action_high"
    NOT_EXPECTED = "not_expected"

    @property
    def severity(self) -> Severity:
        if self is Outcome.IN_RANGE:
            return Severity.NONE
        if self in (Outcome.ALERT_LOW, Outcome.ALERT_HIGH):
            return Severity.ALERT
        return Severity.ACTION


class Severity(StrEnum):
    NONE = "none"
    ALERT = "alert"
    ACTION = "action"


@dataclass(frozen=True)
class Evaluation:
    """The result of one check. ``compared`` is the value as compared (converted, rounded)."""

    outcome: Outcome
    message: str
    compared: str = ""
    limit: str = ""  # which limit decided: "action_high", "alert_low", "expected", ...
    limit_value: str = ""

    @property
    def severity(self) -> Severity:
        return self.outcome.severity

    @property
    def excursion(self) -> bool:
        return self.outcome is not Outcome.IN_RANGE

    def as_dict(self) -> dict[str, str]:
        return {
            "outcome": self.outcome.value,
            "severity": self.severity.value,
            "message": self.message,
            "compared": self.compared,
            "limit": self.limit,
            "limit_value": self.limit_value,
        }


# ---------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NumericLimits:
    """Target and limits of a numeric parameter, all in ``unit``. Any limit may be absent."""

    unit: str
    target: Decimal | None = None
    alert_low: Decimal | None = None
    alert_high: Decimal | None = None
    action_low: Decimal | None = None
    action_high: Decimal | None = None
    precision: int | None = None

    def ordered(self) -> list[tuple[str, Decimal]]:
        fields = ("action_low", "alert_low", "target", "alert_high", "action_high")
        return [(name, value) for name in fields if (value := getattr(self, name)) is not None]

    def problems(self) -> list[tuple[str, str]]:
        """(field, reason) for every limit that is out of order. Equal limits are allowed (a limit
        equal to the next one simply never fires on its own)."""
        found: list[tuple[str, str]] = []
        ordered = self.ordered()
        reported: set[str] = set()
        for i, (name, value) in enumerate(ordered):
            for other_name, other_value in ordered[i + 1 :]:
                if value > other_value and other_name not in reported:
                    reported.add(other_name)
                    found.append(
                        (
                            other_name,
                            f"{other_name} {plain(other_value)} is below {name} {plain(value)}",
                        )
                    )
        if self.precision is not None and not 0 <= self.precision <= 10:
            found.append(("precision", "precision is a number of decimals from 0 to 10"))
        return found

    def scaled(self, factor: Decimal) -> NumericLimits:
        def s(v: Decimal | None) -> Decimal | None:
            return None if v is None else v * factor

        return NumericLimits(
            self.unit,
            s(self.target),
            s(self.alert_low),
            s(self.alert_high),
            s(self.action_low),
            s(self.action_high),
            self.precision,
        )


def to_quantity(value: object, unit: str, *, allow_decimal_comma: bool = False) -> Quantity:
    """Input for a numeric parameter: a ``Quantity``, a number (taken in ``unit``) or text such as
    ``"598.2"`` or ``"0.5982 g"``. Refuses unknown or incompatible units with the reason."""
    try:
        if isinstance(value, Quantity):
            quantity = value
        elif isinstance(value, str):
            quantity = Quantity.parse(value, allow_decimal_comma=allow_decimal_comma)
            if quantity.unit == "" and unit:
                quantity = Quantity(quantity.magnitude, unit)
        else:
            quantity = Quantity(parse_decimal(value), unit)
    except (UnitError, NumberError) as exc:
        raise InvalidValue(str(exc)) from exc
    if not compatible(quantity.unit, unit):
        raise InvalidValue(
            f"{quantity} cannot be recorded in {unit or 'a unitless value'}: incompatible units"
        )
    return quantity


def evaluate_number(value: Quantity | object, limits: NumericLimits) -> Evaluation:
    quantity = to_quantity(value, limits.unit)
    try:
        converted = quantity.magnitude_in(limits.unit)
    except UnitError as exc:
        raise InvalidValue(str(exc)) from exc
    compared = converted if limits.precision is None else round_to(converted, limits.precision)
    shown = f"{plain(compared)} {limits.unit}".rstrip()

    def fired(outcome: Outcome, name: str, limit: Decimal, words: str) -> Evaluation:
        limit_text = f"{plain(limit)} {limits.unit}".rstrip()
        return Evaluation(outcome, f"{shown} is {words} {limit_text}", shown, name, limit_text)

    if limits.action_low is not None and compared < limits.action_low:
        return fired(Outcome.ACTION_LOW, "action_low", limits.action_low, "below the action limit")
    if limits.action_high is not None and compared > limits.action_high:
        return fired(
            Outcome.ACTION_HIGH, "action_high", limits.action_high, "above the action limit"
        )
    if limits.alert_low is not None and compared < limits.alert_low:
        return fired(Outcome.ALERT_LOW, "alert_low", limits.alert_low, "below the alert limit")
    if limits.alert_high is not None and compared > limits.alert_high:
        return fired(Outcome.ALERT_HIGH, "alert_high", limits.alert_high, "above the alert limit")
    return Evaluation(Outcome.IN_RANGE, f"{shown} is within limits", shown)


def tolerance_limits(
    target: Quantity, tolerance: Quantity, *, precision: int | None = None
) -> NumericLimits:
    """Action limits target ± tolerance (tolerance in % of target or in a compatible unit)."""
    if tolerance.unit in {"%", "percent"}:
        delta = target.magnitude * tolerance.magnitude / Decimal(100)
    else:
        delta = tolerance.magnitude_in(target.unit)
    return NumericLimits(
        unit=target.unit,
        target=target.magnitude,
        action_low=target.magnitude - delta,
        action_high=target.magnitude + delta,
        precision=precision,
    )


# ---------------------------------------------------------------------------------------------
# Other types
# ---------------------------------------------------------------------------------------------


def evaluate_choice(
    value: object, choices: Sequence[str], expected: Sequence[str] = ()
) -> Evaluation:
    if not isinstance(value, str):
        raise InvalidValue("choose one of the offered options")
    if value not in choices:
        raise InvalidValue(f"{value!r} is not one of: {', '.join(choices)}")
    if expected and value not in expected:
        return Evaluation(
            Outcome.NOT_EXPECTED,
            f"{value!r} is not the expected {' or '.join(repr(e) for e in expected)}",
            value,
            "expected",
            ", ".join(expected),
        )
    return Evaluation(Outcome.IN_RANGE, f"{value!r} is as expected", value)


def to_boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"true", "yes"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"false", "no"}:
        return False
    raise InvalidValue("answer yes or no")


def evaluate_boolean(value: object, expected: bool | None = None) -> Evaluation:
    answer = to_boolean(value)
    shown = "yes" if answer else "no"
    if expected is not None and answer != expected:
        return Evaluation(
            Outcome.NOT_EXPECTED,
            f"answered {shown}, expected {'yes' if expected else 'no'}",
            shown,
            "expected",
            "yes" if expected else "no",
        )
    return Evaluation(Outcome.IN_RANGE, f"answered {shown}", shown)


def check_pattern(pattern: str) -> re.Pattern[str]:
    """Compile an author's pattern; refuses overlong or broken patterns with the reason."""
    if len(pattern) > MAX_PATTERN:
        raise InvalidValue(f"pattern longer than {MAX_PATTERN} characters")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise InvalidValue(f"invalid pattern: {exc}") from exc


def evaluate_text(
    value: object, *, max_length: int = MAX_TEXT, pattern: str | None = None
) -> Evaluation:
    if not isinstance(value, str):
        raise InvalidValue("expected text")
    if len(value) > min(max_length, MAX_TEXT):
        raise InvalidValue(f"text longer than {min(max_length, MAX_TEXT)} characters")
    if pattern and not check_pattern(pattern).fullmatch(value):
        return Evaluation(
            Outcome.NOT_EXPECTED,
            f"{value!r} does not have the expected form",
            value,
            "pattern",
            pattern,
        )
    return Evaluation(Outcome.IN_RANGE, "recorded", value)


def to_datetime(value: object) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError as exc:
            raise InvalidValue("expected a date-time such as 2026-03-01T14:30:00+01:00") from exc
    if not isinstance(value, datetime):
        raise InvalidValue("expected a date-time")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidValue("a date-time needs its time zone (e.g. +01:00 or Z)")
    return value


def evaluate_datetime(
    value: object, *, not_before: datetime | None = None, not_after: datetime | None = None
) -> Evaluation:
    moment = to_datetime(value)
    shown = moment.isoformat()
    if not_before is not None and moment < not_before:
        return Evaluation(
            Outcome.ACTION_LOW, f"{shown} is before {not_before.isoformat()}", shown, "not_before"
        )
    if not_after is not None and moment > not_after:
        return Evaluation(
            Outcome.ACTION_HIGH, f"{shown} is after {not_after.isoformat()}", shown, "not_after"
        )
    return Evaluation(Outcome.IN_RANGE, "recorded", shown)


# -- barcodes ---------------------------------------------------------------------------------

# Fixed-length and variable-length GS1 application identifiers we read (the common ones on
# pharmaceutical packs and material labels).
_GS1_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "13": 6, "15": 6, "17": 6}
_GS1_VARIABLE = {"10": 20, "21": 20, "240": 30, "241": 30, "250": 30, "30": 8, "37": 8, "400": 30}
_GS1_NUMERIC = {"00", "01", "02", "11", "13", "15", "17", "30", "37"}
GROUP_SEPARATOR = "\x1d"


def gs1_check_digit_ok(digits: str) -> bool:
    """Mod-10 check digit of GTIN-8/12/13/14 and SSCC."""
    if not digits.isdigit() or len(digits) < 2:
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def parse_gs1(text: str) -> dict[str, str]:
    """Parse a GS1 element string, in human-readable ``(01)…(10)…`` form or raw with FNC1 as
    the ASCII group separator. Raises ``InvalidValue`` naming the problem."""
    if len(text) > MAX_BARCODE:
        raise InvalidValue(f"barcode longer than {MAX_BARCODE} characters")
    fields: dict[str, str] = {}
    if text.startswith("("):
        parts = re.findall(r"\((\d{2,4})\)([^(]*)", text)
        if "".join(f"({ai}){value}" for ai, value in parts) != text:
            raise InvalidValue("not a GS1 element string")
        pairs = parts
    else:
        pairs = []
        rest = text.lstrip(GROUP_SEPARATOR)
        while rest:
            ai = next(
                (a for a in sorted({*_GS1_FIXED, *_GS1_VARIABLE}, key=len) if rest.startswith(a)),
                None,
            )
            if ai is None:
                raise InvalidValue(f"unknown GS1 application identifier at {rest[:4]!r}")
            rest = rest[len(ai) :]
            if ai in _GS1_FIXED:
                value, rest = rest[: _GS1_FIXED[ai]], rest[_GS1_FIXED[ai] :]
            else:
                value, _, rest = rest.partition(GROUP_SEPARATOR)
            pairs.append((ai, value))
            rest = rest.lstrip(GROUP_SEPARATOR)
    for ai, value in pairs:
        if ai not in _GS1_FIXED and ai not in _GS1_VARIABLE:
            raise InvalidValue(f"unknown GS1 application identifier ({ai})")
        if ai in _GS1_FIXED and len(value) != _GS1_FIXED[ai]:
            raise InvalidValue(f"GS1 ({ai}) must have {_GS1_FIXED[ai]} characters")
        if ai in _GS1_VARIABLE and not 1 <= len(value) <= _GS1_VARIABLE[ai]:
            raise InvalidValue(f"GS1 ({ai}) must have 1 to {_GS1_VARIABLE[ai]} characters")
        if ai in _GS1_NUMERIC and not value.isdigit():
            raise InvalidValue(f"GS1 ({ai}) must be digits")
        if ai in {"00", "01", "02"} and not gs1_check_digit_ok(value):
            raise InvalidValue(f"GS1 ({ai}) {value} has a wrong check digit")
        if ai in fields:
            raise InvalidValue(f"GS1 ({ai}) appears twice")
        fields[ai] = value
    if not fields:
        raise InvalidValue("empty GS1 element string")
    return fields


def evaluate_barcode(
    value: object,
    *,
    symbology: str = "any",
    pattern: str | None = None,
    expected: str | None = None,
) -> Evaluation:
    """``symbology``: ``any``, ``gtin`` (8/12/13/14 digits, valid check digit) or ``gs1`` (element
    string). A scan that has the wrong form or is not the expected code is recorded and flagged
    ``not_expected`` (the truth is never refused), except unreadable input (too long, not text)."""
    if not isinstance(value, str) or not value:
        raise InvalidValue("scan or type the barcode")
    if len(value) > MAX_BARCODE:
        raise InvalidValue(f"barcode longer than {MAX_BARCODE} characters")
    if any(ord(c) < 32 and c != GROUP_SEPARATOR for c in value):
        raise InvalidValue("barcode contains control characters")
    problem = ""
    if symbology == "gtin":
        if not (value.isdigit() and len(value) in {8, 12, 13, 14} and gs1_check_digit_ok(value)):
            problem = "is not a valid GTIN"
    elif symbology == "gs1":
        try:
            parse_gs1(value)
        except InvalidValue as exc:
            problem = f"is not a valid GS1 code ({exc})"
    if not problem and pattern and not check_pattern(pattern).fullmatch(value):
        problem = "does not have the expected form"
    if problem:
        return Evaluation(
            Outcome.NOT_EXPECTED, f"{value!r} {problem}", value, "pattern", pattern or symbology
        )
    if expected is not None and value != expected:
        return Evaluation(
            Outcome.NOT_EXPECTED,
            f"scanned {value!r}, expected {expected!r}",
            value,
            "expected",
            expected,
        )
    return Evaluation(Outcome.IN_RANGE, "barcode accepted", value)


__all__ = [
    "Evaluation",
    "InvalidValue",
    "NumericLimits",
    "Outcome",
    "Severity",
    "check_pattern",
    "check_unit",
    "evaluate_barcode",
    "evaluate_boolean",
    "evaluate_choice",
    "evaluate_datetime",
    "evaluate_number",
    "evaluate_text",
    "gs1_check_digit_ok",
    "parse_gs1",
    "to_boolean",
    "to_datetime",
    "to_quantity",
    "tolerance_limits",
]
