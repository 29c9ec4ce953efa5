"""Units of measure and quantities with Decimal magnitudes.

Units are real units (pint's registry, created with ``non_int_type=Decimal`` so conversion factors
are exact decimals): ``500 mg`` equals ``0.5 g``, ``60 °C`` compares with ``333.15 K``. Shop-floor
count units (tablet, capsule, bottle, vial, …) share the dimension ``[item]``; pH has its own
dimension so it never converts into anything else.

Unit text is checked against a small grammar before pint sees it (names, ``*``, ``/``, ``·``,
``^n``, ``²``, ``³``), so an author's unit can never be an arbitrary pint expression.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

from galenic.rules.numbers import CONTEXT, NumberError, check_decimal, parse_decimal, plain, tidy

MAX_UNIT_LENGTH = 32

_TERM = r"[A-Za-zµμ°%Ω_]+(?:\^-?[1-4]|[²³])?"
_UNIT_TEXT = re.compile(rf"^{_TERM}(?:\s*[*/·]\s*{_TERM}){{0,4}}$")
_QUANTITY_TEXT = re.compile(r"^\s*([+-]?[0-9][0-9.,]*(?:[eE][+-]?\d+)?|[+-]?\.[0-9]+)\s*(.*?)\s*$")

# Definitions added to pint's defaults: shop-floor counting units and pH.
_EXTRA_DEFINITIONS = (
    "item = [item] = ea = each = unit_count",
    "tablet = item = tab",
    "capsule = item = caps",
    "bottle = item",
    "vial = item",
    "ampoule = item",
    "sachet = item",
    "blister = item",
    "carton = item",
    "pH = [acidity]",
    "NTU = [turbidity]",
)

# Non-metric units: a master record must state its components in one unit system (211.186(b)(4)).
_IMPERIAL = {
    "pound",
    "ounce",
    "grain",
    "dram",
    "stone",
    "short_ton",
    "long_ton",
    "gallon",
    "quart",
    "pint",
    "fluid_ounce",
    "fluid_dram",
    "gill",
    "cup",
    "tablespoon",
    "teaspoon",
    "minim",
    "inch",
    "foot",
    "yard",
    "mile",
    "degree_Fahrenheit",
    "degree_Rankine",
    "pound_force_per_square_inch",
    "troy_pound",
    "troy_ounce",
    "pennyweight",
    "imperial_gallon",
    "imperial_pint",
    "imperial_fluid_ounce",
    "imperial_quart",
    "US_liquid_gallon",
    "US_liquid_quart",
    "US_fluid_ounce",
}


class UnitError(ValueError):
    """A unit problem a person can fix; ``str()`` is the reason."""


class UnknownUnit(UnitError):
    pass


class IncompatibleUnits(UnitError):
    pass


@lru_cache(maxsize=1)
def registry() -> Any:
    import pint  # loaded lazily: building the registry takes a few hundred milliseconds

    ureg: Any = pint.UnitRegistry(
        non_int_type=Decimal, autoconvert_offset_to_baseunit=False, cache_folder=None
    )
    for definition in _EXTRA_DEFINITIONS:
        ureg.define(definition)
    return ureg


def _pint_text(text: str) -> str:
    return (
        text.replace("·", "*")
        .replace("^", "**")
        .replace("²", "**2")
        .replace("³", "**3")
        .replace("μ", "µ")
    )


# Unit texts that arithmetic produced (e.g. "Δ°C", "1 / min"): trusted, they came from pint.
_DERIVED: dict[str, Any] = {}


@lru_cache(maxsize=2048)
def _unit(text: str) -> Any:
    """pint ``Unit`` for checked unit text ('' is dimensionless)."""
    if text == "":
        return registry().dimensionless
    derived = _DERIVED.get(text)
    if derived is not None:
        return derived
    if len(text) > MAX_UNIT_LENGTH:
        raise UnknownUnit(
            f"unit {text[:MAX_UNIT_LENGTH]!r}… is longer than {MAX_UNIT_LENGTH} characters"
        )
    if not _UNIT_TEXT.match(text):
        raise UnknownUnit(f"{text!r} is not a unit (write e.g. mg, kg, mL, g/mL, °C, %, rpm)")
    import pint

    try:
        return registry().parse_units(_pint_text(text))
    except (pint.UndefinedUnitError, pint.DefinitionSyntaxError, AttributeError, TypeError) as exc:
        raise UnknownUnit(f"unknown unit {text!r}") from exc
    except Exception as exc:  # pint's parser raises assorted errors on odd input
        raise UnknownUnit(f"unknown unit {text!r}") from exc


def check_unit(text: str) -> str:
    """Return the unit text stripped, or raise ``UnknownUnit`` with the reason."""
    if not isinstance(text, str):
        raise UnknownUnit("a unit is text, e.g. 'mg'")
    cleaned = text.strip()
    _unit(cleaned)
    return cleaned


def is_unit(text: str) -> bool:
    try:
        check_unit(text)
    except UnknownUnit:
        return False
    return True


@lru_cache(maxsize=2048)
def dimension(text: str) -> str:
    """A printable dimension, e.g. ``[mass]``, ``[mass] / [length] ** 3``, ``dimensionless``."""
    return str(_unit(text).dimensionality) or "dimensionless"


def compatible(a: str, b: str) -> bool:
    return dimension(a) == dimension(b)


def require_compatible(a: str, b: str) -> None:
    if not compatible(a, b):
        raise IncompatibleUnits(
            f"{display(a) or 'no unit'} ({dimension(a)}) cannot be compared with "
            f"{display(b) or 'no unit'} ({dimension(b)})"
        )


def is_percent(text: str) -> bool:
    return text.strip() in {"%", "percent"}


def is_offset(text: str) -> bool:
    """Temperatures on a shifted scale (°C, °F): they may be compared, not added."""
    return bool(text) and not registry().Quantity(1, _unit(text))._is_multiplicative


@lru_cache(maxsize=2048)
def unit_system(text: str) -> str:
    """``imperial`` if any part of the unit is a non-metric unit, else ``metric``."""
    names = set(_unit(text)._units.keys()) if text else set()
    return "imperial" if names & _IMPERIAL else "metric"


def display(text: str) -> str:
    return text


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Exact decimal conversion, e.g. ``convert(Decimal('500'), 'mg', 'g') == Decimal('0.5')``."""
    if from_unit == to_unit:
        return value
    require_compatible(from_unit, to_unit)
    with decimal.localcontext(CONTEXT):
        q = registry().Quantity(value, _unit(from_unit)).to(_unit(to_unit))
        return tidy(_magnitude(q.magnitude))


def _magnitude(m: Any) -> Decimal:
    if isinstance(m, Decimal):
        return m
    if isinstance(m, int) and not isinstance(m, bool):
        return Decimal(m)
    if isinstance(m, float):  # pint falls back to float for a few factors; keep them exact-ish
        return Decimal(repr(m))
    raise UnitError(f"unexpected magnitude {m!r}")


def _unit_text(u: Any) -> str:
    """Readable symbol text for a pint unit that came out of arithmetic."""
    if u.dimensionless and not u._units:
        return ""
    text = format(u, "~")
    text = re.sub(
        r"(?<![A-Za-zµ])(µ|m|c|d|k)?l(?![A-Za-z])", lambda m: (m.group(1) or "") + "L", text
    )
    text = text.replace(" ** ", "^").replace("**", "^")
    if len(_DERIVED) < 10_000:
        _DERIVED.setdefault(text, u)
    return text


@lru_cache(maxsize=2048)
def _scales_plainly(text: str) -> str | None:
    """The unit text pint gives for ``text`` times a plain number, when that product is plain
    arithmetic on the magnitude: a multiplicative unit (not °C or °F, whose zero is offset) that
    is not a dimensionless ratio (%, ppm: pint turns those into plain numbers). Else None."""
    u = _unit(text)
    if u.dimensionless and u._units:
        return None
    if not registry().Quantity(Decimal(1), u)._is_multiplicative:
        return None
    return _unit_text(u)


def _simple_binary(a: Quantity, b: Quantity, op: str) -> Quantity | None:
    """What pint computes for the everyday cases, without pint (a tenth of the time): sums and
    differences in one and the same unit, and scaling by a plain number. None for the rest.
    Call under ``CONTEXT``."""
    if op in "+-":
        if a.unit != b.unit or _scales_plainly(a.unit) is None:
            return None
        magnitude = a.magnitude + b.magnitude if op == "+" else a.magnitude - b.magnitude
        unit = a.unit
    elif b.unit == "" and (scaled := _scales_plainly(a.unit)) is not None:
        magnitude = a.magnitude * b.magnitude if op == "*" else a.magnitude / b.magnitude
        unit = scaled
    elif op == "*" and a.unit == "" and (scaled := _scales_plainly(b.unit)) is not None:
        magnitude = a.magnitude * b.magnitude
        unit = scaled
    else:
        return None
    return Quantity(_result(magnitude), unit)


def _result(magnitude: Decimal) -> Decimal:
    """A calculation's magnitude, checked (finite, within Galenic's number limits) and tidied."""
    if not magnitude.is_finite():
        raise UnitError("calculation produced no finite number")
    try:
        check_decimal(magnitude)
    except NumberError as exc:
        raise UnitError(str(exc)) from exc
    return tidy(magnitude)


@dataclass(frozen=True, slots=True)
class Quantity:
    """An amount with a unit. Equality and ordering convert units: 500 mg == 0.5 g."""

    magnitude: Decimal
    unit: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.magnitude, Decimal):
            raise TypeError("Quantity magnitude must be a Decimal")
        try:
            check_decimal(self.magnitude)
        except NumberError as exc:
            raise UnitError(str(exc)) from exc
        _unit(self.unit)

    @classmethod
    def of(cls, value: object, unit: str = "") -> Quantity:
        return cls(parse_decimal(value), check_unit(unit))

    @classmethod
    def parse(cls, text: str, *, allow_decimal_comma: bool = False) -> Quantity:
        """``"500 mg"`` → ``Quantity(Decimal('500'), 'mg')``; ``"2.5 %"``; ``"12"`` (no unit)."""
        if not isinstance(text, str):
            raise UnitError("a quantity is text such as '500 mg'")
        if len(text) > 80:
            raise UnitError("quantity text is too long")
        match = _QUANTITY_TEXT.match(text)
        if not match:
            raise UnitError(f"{text.strip()!r} is not a quantity (write e.g. '500 mg')")
        number, unit = match.groups()
        try:
            magnitude = parse_decimal(number, allow_decimal_comma=allow_decimal_comma)
        except NumberError as exc:
            raise UnitError(str(exc)) from exc
        return cls(magnitude, check_unit(unit))

    # -- conversion ------------------------------------------------------------------------
    @property
    def dimension(self) -> str:
        return dimension(self.unit)

    @property
    def dimensionless(self) -> bool:
        return self.dimension == "dimensionless"

    def to(self, unit: str) -> Quantity:
        unit = check_unit(unit)
        return Quantity(convert(self.magnitude, self.unit, unit), unit)

    def magnitude_in(self, unit: str) -> Decimal:
        return convert(self.magnitude, self.unit, unit)

    def compatible(self, other: Quantity | str) -> bool:
        return compatible(self.unit, other.unit if isinstance(other, Quantity) else other)

    # -- comparison ------------------------------------------------------------------------
    def _other_in_my_unit(self, other: object) -> Decimal:
        if not isinstance(other, Quantity):
            raise TypeError(f"cannot compare a quantity with {type(other).__name__}")
        return convert(other.magnitude, other.unit, self.unit)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        if not compatible(self.unit, other.unit):
            return False
        return self.magnitude == self._other_in_my_unit(other)

    def __hash__(self) -> int:
        with decimal.localcontext(CONTEXT):
            base = registry().Quantity(self.magnitude, _unit(self.unit)).to_base_units()
            return hash((self.dimension, _magnitude(base.magnitude).normalize()))

    def __lt__(self, other: Quantity) -> bool:
        return self.magnitude < self._other_in_my_unit(other)

    def __le__(self, other: Quantity) -> bool:
        return self.magnitude <= self._other_in_my_unit(other)

    def __gt__(self, other: Quantity) -> bool:
        return self.magnitude > self._other_in_my_unit(other)

    def __ge__(self, other: Quantity) -> bool:
        return self.magnitude >= self._other_in_my_unit(other)

    # -- arithmetic ------------------------------------------------------------------------
    def _pint(self) -> Any:
        return registry().Quantity(self.magnitude, _unit(self.unit))

    @staticmethod
    def _from_pint(q: Any, *, keep: str | None = None) -> Quantity:
        unit = q.units
        if unit.dimensionless and unit._units:
            q = q.to(registry().dimensionless)
            unit = q.units
        text = keep if keep is not None else _unit_text(unit)
        return Quantity(_result(_magnitude(q.magnitude)), text)

    def _binary(self, other: object, op: str) -> Quantity:
        import pint

        if not isinstance(other, Quantity):
            return NotImplemented
        try:
            with decimal.localcontext(CONTEXT):
                simple = _simple_binary(self, other, op)
                if simple is not None:
                    return simple
                if op in "+-":
                    require_compatible(self.unit, other.unit)
                    a, b = self._pint(), other._pint()
                    result = a + b if op == "+" else a - b
                    keep = self.unit if result.units == a.units else None
                    return self._from_pint(result, keep=keep)
                a, b = self._pint(), other._pint()
                return self._from_pint(a * b if op == "*" else a / b)
        except pint.OffsetUnitCalculusError as exc:
            raise UnitError(
                f"cannot {'add' if op == '+' else 'combine'} temperatures in {self.unit} this way; "
                "subtract two temperatures to get a difference"
            ) from exc
        except pint.DimensionalityError as exc:
            raise IncompatibleUnits(str(exc)) from exc
        except decimal.DivisionByZero as exc:
            raise UnitError("division by zero") from exc
        except (decimal.InvalidOperation, decimal.Overflow) as exc:
            raise UnitError("calculation out of range") from exc

    def __add__(self, other: object) -> Quantity:
        return self._binary(other, "+")

    def __sub__(self, other: object) -> Quantity:
        return self._binary(other, "-")

    def __mul__(self, other: object) -> Quantity:
        return self._binary(other, "*")

    def __truediv__(self, other: object) -> Quantity:
        if isinstance(other, Quantity) and other.magnitude == 0:
            raise UnitError("division by zero")
        return self._binary(other, "/")

    def __neg__(self) -> Quantity:
        return Quantity(-self.magnitude, self.unit)

    def __abs__(self) -> Quantity:
        return Quantity(abs(self.magnitude), self.unit)

    def power(self, exponent: Decimal) -> Quantity:
        """``self ^ exponent``; a quantity with a unit takes only small whole exponents."""
        try:
            with decimal.localcontext(CONTEXT):
                if self.dimensionless:
                    base = self.magnitude_in("")
                    if base < 0 and exponent != exponent.to_integral_value():
                        raise UnitError("a negative number has no fractional power")
                    if base == 0 and exponent < 0:
                        raise UnitError("division by zero")
                    return self._from_pint(registry().Quantity(base**exponent, ""))
                if exponent != exponent.to_integral_value():
                    raise UnitError(f"{self.unit} can only be raised to a whole power")
                return self._from_pint(self._pint() ** int(exponent))
        except (decimal.InvalidOperation, decimal.Overflow) as exc:
            raise UnitError("calculation out of range") from exc

    # -- text ------------------------------------------------------------------------------
    def __str__(self) -> str:
        return f"{plain(self.magnitude)} {self.unit}".rstrip()

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"
