"""Strict decimal numbers for GMP values.

Every quantity, limit and yield is a ``Decimal``; a float never takes part in a calculation.
Text is parsed strictly: NaN, infinities, absurd magnitudes (1e308), thousands separators and
comma decimals are refused with a reason, unless the caller explicitly allows a decimal comma
(and then records that it converted one).
"""

from __future__ import annotations

import decimal
import re
from decimal import Decimal

# Plenty for any shop-floor figure (300 000 tablets, 0.01 mg) and far below anything absurd.
MAX_INTEGER_DIGITS = 15
MAX_FRACTION_DIGITS = 15
MAX_TEXT_LENGTH = 40
LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS

# Arithmetic context for every calculation: 34 significant digits (IEEE decimal128), traps on
# overflow, invalid operations and division by zero so nothing silently becomes NaN or Infinity.
CONTEXT = decimal.Context(
    prec=34,
    rounding=decimal.ROUND_HALF_EVEN,
    Emin=-999,
    Emax=999,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_PLAIN = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_EXPONENT = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)[eE][+-]?\d{1,3}$")


class NumberError(ValueError):
    """A value that is not an acceptable number; ``str()`` says why in plain words."""


def parse_decimal(
    value: object,
    *,
    allow_decimal_comma: bool = False,
    allow_exponent: bool = False,
) -> Decimal:
    """Turn user or file input into a bounded, finite ``Decimal``.

    Accepts ``Decimal``, ``int`` and ``str``; a ``float`` is taken by its shortest repr (so
    ``0.1`` is ``Decimal("0.1")``), which is what the person typed into a JSON or YAML file.
    ``bool`` is refused (it is an ``int`` in Python but never a measurement).
    """
    if isinstance(value, bool):
        raise NumberError("expected a number, got a yes/no value")
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NumberError("not a finite number")
        number = Decimal(repr(value))
    elif isinstance(value, str):
        number = _parse_text(value, allow_decimal_comma, allow_exponent)
    else:
        raise NumberError(f"expected a number, got {type(value).__name__}")
    check_decimal(number)
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_FRACTION_DIGITS:
        raise NumberError(f"more than {MAX_FRACTION_DIGITS} decimals")
    return number


def _parse_text(text: str, allow_decimal_comma: bool, allow_exponent: bool) -> Decimal:
    raw = text.strip()
    if not raw:
        raise NumberError("a number is required")
    if len(raw) > MAX_TEXT_LENGTH:
        raise NumberError(f"number is longer than {MAX_TEXT_LENGTH} characters")
    lowered = raw.lower().lstrip("+-")
    if lowered in {"nan", "snan", "inf", "infinity"}:
        raise NumberError("not a finite number")
    if "," in raw:
        if allow_decimal_comma and raw.count(",") == 1 and "." not in raw:
            raw = raw.replace(",", ".")
        elif "." in raw or raw.count(",") > 1:
            raise NumberError(
                f"{text.strip()!r}: thousands separators are not accepted; write 1000.5"
            )
        else:
            raise NumberError(
                f"{text.strip()!r}: use a point as decimal separator (e.g. 0.5, not 0,5)"
            )
    if _PLAIN.match(raw):
        return Decimal(raw)
    if _EXPONENT.match(raw):
        if not allow_exponent:
            raise NumberError(f"{raw!r}: write the number in plain decimal form")
        return Decimal(raw)
    raise NumberError(f"{text.strip()!r} is not a number")


def check_decimal(number: Decimal) -> Decimal:
    """Refuse NaN, infinities and magnitudes no measurement or calculation of ours reaches."""
    if not number.is_finite():
        raise NumberError("not a finite number")
    if number != 0 and abs(number) >= LIMIT:
        raise NumberError(
            f"number too large (at most {MAX_INTEGER_DIGITS} digits before the point)"
        )
    return number


def plain(number: Decimal) -> str:
    """The number in positional notation, exactly as held (``1E+3`` -> ``1000``)."""
    text = format(number, "f")
    return "0" if text in {"-0", "+0"} else text


def round_to(number: Decimal, places: int) -> Decimal:
    """Commercial rounding (half away from zero) to ``places`` decimals, as USP <General
    Notices 7.20> rounds an observed value before comparing it with a limit."""
    return number.quantize(
        Decimal(1).scaleb(-places), rounding=decimal.ROUND_HALF_UP, context=CONTEXT
    )


def tidy(number: Decimal) -> Decimal:
    """Drop artefact trailing zeros a division left (3.5000…0 → 3.5) without touching a value
    that carries its own decimals (12.50 stays 12.50)."""
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -20:
        number = number.normalize(CONTEXT)
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent > 0:
            number = number.quantize(Decimal(1), context=CONTEXT)
    return number
