from __future__ import annotations

from decimal import Decimal

from django import template

from galenic.equipment.selectors import plain

register = template.Library()


@register.filter
def number(value: Decimal | None) -> str:
    """A stored value without the column's trailing zeros; a dash when there is none."""
    return "-" if value is None else str(plain(value))


@register.simple_tag
def band(low: Decimal | None, high: Decimal | None) -> str:
    """``20-28``, ``≤ 65``, ``≥ 10`` or ``none``: a limit band in a few characters."""
    if low is None and high is None:
        return "none"
    if low is None:
        return f"≤ {number(high)}"
    if high is None:
        return f"≥ {number(low)}"
    return f"{number(low)}-{number(high)}"


_UNIT_SIGNS = {"degC": "°C", "degF": "°F", "percent": "%"}


@register.filter
def unit_sign(unit: str | None) -> str:
    """A tag's unit as people write it (``degC`` is stored, ``°C`` is shown)."""
    return _UNIT_SIGNS.get(unit or "", unit or "")
