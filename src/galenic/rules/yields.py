"""Yield and scaling maths, in Decimal (21 CFR 211.186(b)(7), 211.188(b)(7), 211.192).

* ``scale``: a quantity stated for the nominal batch size, scaled to the actual batch size.
* ``evaluate_yield``: actual vs theoretical as a percentage, compared with the percentage limits
  outside which an investigation is required. The percentage is rounded half away from zero to
  ``precision`` decimals (default 1) before the comparison; limits are inclusive, so 97.0 % with
  limits 97.0-101.0 % is within limits.
* Counts and masses are bridged by a unit weight (300 000 tablet x 600 mg/tablet = 180 kg).
"""

from __future__ import annotations

import decimal
from dataclasses import dataclass
from decimal import Decimal

from galenic.rules.numbers import CONTEXT, plain, round_to, tidy
from galenic.rules.units import IncompatibleUnits, Quantity, UnitError


class YieldError(ValueError):
    pass


def scale_factor(nominal_batch: Quantity, actual_batch: Quantity) -> Decimal:
    """actual / nominal batch size (exact to 34 digits)."""
    if not nominal_batch.compatible(actual_batch):
        raise IncompatibleUnits(
            f"batch size {actual_batch} is not in the unit of the master record ({nominal_batch.unit})"
        )
    if nominal_batch.magnitude <= 0:
        raise YieldError("the nominal batch size must be positive")
    if actual_batch.magnitude <= 0:
        raise YieldError("the batch size must be positive")
    with decimal.localcontext(CONTEXT):
        return actual_batch.magnitude_in(nominal_batch.unit) / nominal_batch.magnitude


def scale(quantity: Quantity, nominal_batch: Quantity, actual_batch: Quantity) -> Quantity:
    """``quantity`` (per nominal batch) for the actual batch, in the same unit. Multiplies before
    dividing, so a result that has an exact decimal value gets it."""
    scale_factor(nominal_batch, actual_batch)  # checks units and signs
    with decimal.localcontext(CONTEXT):
        actual = actual_batch.magnitude_in(nominal_batch.unit)
        magnitude = tidy(quantity.magnitude * actual / nominal_batch.magnitude)
    return Quantity(magnitude, quantity.unit)


def bridge(quantity: Quantity, target_unit: str, unit_weight: Quantity | None) -> Quantity:
    """``quantity`` in ``target_unit``, crossing count ↔ mass through ``unit_weight`` if needed
    (``unit_weight`` like ``600 mg/tablet``, or ``600 mg`` meaning per dosage unit)."""
    if quantity.compatible(target_unit):
        return quantity.to(target_unit)
    if unit_weight is None:
        raise IncompatibleUnits(f"{quantity} cannot be expressed in {target_unit}")
    per_item = unit_weight
    if per_item.dimension == Quantity(Decimal(1), "mg").dimension:
        per_item = per_item / Quantity(Decimal(1), "item")
    try:
        with decimal.localcontext(CONTEXT):
            if (quantity * per_item).compatible(target_unit):
                return (quantity * per_item).to(target_unit)
            if (quantity / per_item).compatible(target_unit):
                return (quantity / per_item).to(target_unit)
    except UnitError as exc:  # pragma: no cover - defensive
        raise IncompatibleUnits(str(exc)) from exc
    raise IncompatibleUnits(f"{quantity} cannot be expressed in {target_unit} via {unit_weight}")


def percent_of(
    actual: Quantity, theoretical: Quantity, unit_weight: Quantity | None = None
) -> Decimal:
    """actual / theoretical * 100, exact to 34 significant digits."""
    expected = theoretical
    got = bridge(actual, expected.unit, unit_weight)
    if expected.magnitude == 0:
        raise YieldError("theoretical yield is zero")
    with decimal.localcontext(CONTEXT):
        return got.magnitude * Decimal(100) / expected.magnitude


@dataclass(frozen=True)
class YieldResult:
    actual: Quantity
    theoretical: Quantity
    percent: Decimal  # exact
    percent_rounded: Decimal
    low: Decimal | None
    high: Decimal | None
    within_limits: bool

    @property
    def needs_investigation(self) -> bool:
        return not self.within_limits

    @property
    def message(self) -> str:
        shown = f"{plain(self.percent_rounded)} %"
        if self.within_limits:
            return f"yield {shown} of theoretical {self.theoretical} is within limits"
        if self.low is not None and self.percent_rounded < self.low:
            bound = f"below {plain(self.low)} %"
        else:
            bound = f"above {plain(self.high or Decimal(0))} %"
        return f"yield {shown} of theoretical {self.theoretical} is {bound}: investigate (211.192)"


def evaluate_yield(
    actual: Quantity,
    theoretical: Quantity,
    *,
    low_percent: Decimal | None,
    high_percent: Decimal | None,
    precision: int = 1,
    unit_weight: Quantity | None = None,
) -> YieldResult:
    percent = percent_of(actual, theoretical, unit_weight)
    rounded = round_to(percent, precision)
    within = (low_percent is None or rounded >= low_percent) and (
        high_percent is None or rounded <= high_percent
    )
    return YieldResult(actual, theoretical, percent, rounded, low_percent, high_percent, within)


__all__ = [
    "YieldError",
    "YieldResult",
    "bridge",
    "evaluate_yield",
    "percent_of",
    "scale",
    "scale_factor",
]
