"""Turning instrument readings over a step into the one value that is recorded.

A tag parameter captures ``at_confirm`` (the reading when the operator confirms), or the
``minimum``, ``maximum`` or ``mean`` of the readings taken while the step ran. Readings may come
in different but compatible units; the result is in the unit of the first reading. The mean is
exact Decimal arithmetic (34 digits).
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from decimal import Decimal

from galenic.rules.numbers import CONTEXT, tidy
from galenic.rules.units import IncompatibleUnits, Quantity

MODES = ("at_confirm", "minimum", "maximum", "mean")


class NoReadings(ValueError):
    pass


def aggregate(readings: Sequence[Quantity], mode: str) -> Quantity:
    """The recorded value for ``mode`` (see the module docstring); ``at_confirm`` is the last
    reading. Raises ``NoReadings`` for an empty sequence, ``IncompatibleUnits`` for mixed
    dimensions and ``ValueError`` for an unknown mode."""
    if mode not in MODES:
        raise ValueError(f"unknown capture mode {mode!r}; one of {', '.join(MODES)}")
    if not readings:
        raise NoReadings("no readings were received during the step")
    unit = readings[0].unit
    for reading in readings:
        if not reading.compatible(unit):
            raise IncompatibleUnits(f"reading {reading} is not comparable with {readings[0]}")
    magnitudes = [r.magnitude_in(unit) for r in readings]
    if mode == "at_confirm":
        return readings[-1]
    if mode == "minimum":
        return Quantity(min(magnitudes), unit)
    if mode == "maximum":
        return Quantity(max(magnitudes), unit)
    with decimal.localcontext(CONTEXT):
        mean = sum(magnitudes, Decimal(0)) / Decimal(len(magnitudes))
    return Quantity(tidy(mean), unit)
