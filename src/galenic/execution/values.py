"""Captured values as stored in the batch record, and back (pure: no Django import).

An entry keeps three things about a value:

* ``raw``/``raw_unit``: exactly what was typed, scanned or read from the device;
* the normalised value as text in the parameter's own unit (``0.5982 g`` for a parameter in mg is
  stored as ``598.2`` ``mg``), exact (Decimal), never a float;
* its limit evaluation, computed the moment it was captured.

``encode``/``decode`` turn a flow-engine value (``Quantity``, ``bool``, ``str``, aware
``datetime``) into that text form and back, so the flow state can be replayed from stored entries
in any process.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from galenic.recipes.document.model import DataType, Parameter
from galenic.rules import limits as limit_rules
from galenic.rules.expressions import Value
from galenic.rules.numbers import NumberError, parse_decimal, plain
from galenic.rules.units import Quantity, UnitError, check_unit


@dataclass(frozen=True)
class Stored:
    """A value as the record stores it: type, text in the parameter's unit, unit."""

    type: str
    text: str
    unit: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"type": self.type, "value": self.text, "unit": self.unit}


def encode(value: Value, unit: str = "") -> Stored:
    """A flow value as stored text; numbers are expressed in ``unit`` when one is given."""
    if isinstance(value, bool):
        return Stored(DataType.BOOLEAN.value, "true" if value else "false")
    if isinstance(value, Quantity):
        quantity = value.to(unit) if unit and unit != value.unit else value
        return Stored(DataType.NUMBER.value, plain(quantity.magnitude), quantity.unit)
    if isinstance(value, datetime):
        return Stored(DataType.DATETIME.value, value.isoformat())
    if isinstance(value, str):
        return Stored(DataType.TEXT.value, value)
    raise TypeError(f"cannot store a value of type {type(value).__name__}")


def decode(type_: str, text: str, unit: str = "") -> Value:
    """The flow value of a stored entry."""
    if type_ == DataType.NUMBER.value:
        return Quantity(Decimal(text), unit)
    if type_ == DataType.BOOLEAN.value:
        return text == "true"
    if type_ == DataType.DATETIME.value:
        return datetime.fromisoformat(text)
    return text


def encode_map(values: Mapping[str, Value]) -> dict[str, dict[str, str]]:
    return {key: encode(value).as_dict() for key, value in values.items()}


def decode_map(data: Mapping[str, Mapping[str, str]]) -> dict[str, Value]:
    return {key: decode(v["type"], v["value"], v.get("unit", "")) for key, v in data.items()}


@dataclass(frozen=True)
class Captured:
    """One captured input turned into a parameter value, with what was given."""

    value: Value
    stored: Stored
    raw: str
    raw_unit: str


def raw_text(raw: Any) -> str:
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, datetime):
        return raw.isoformat()
    return str(raw)


def capture(param: Parameter, raw: Any, unit: str | None = None) -> Captured:
    """Turn input for ``param`` into its value, or raise ``InvalidValue`` saying why.

    ``unit`` is the unit the person gave separately from the number (``"0.5"`` + ``"g"``); a
    number given without any unit is taken in the parameter's unit. Units must be compatible
    with the parameter's (``g`` for ``mg`` is fine, ``mL`` is not).
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise limit_rules.InvalidValue("a value is required")
    given_unit = (unit or "").strip()
    if param.type is DataType.NUMBER:
        if isinstance(raw, bool):
            raise limit_rules.InvalidValue("expected a number, got a yes/no value")
        text = raw_text(raw).strip()
        try:
            if given_unit:
                quantity = Quantity(parse_decimal(raw), check_unit(given_unit))
                quantity = limit_rules.to_quantity(quantity, param.unit)
            elif isinstance(raw, str):
                quantity = limit_rules.to_quantity(text, param.unit)
            else:  # a JSON number: taken in the parameter's unit (a float by its repr)
                quantity = limit_rules.to_quantity(raw, param.unit)
        except (UnitError, NumberError) as exc:
            raise limit_rules.InvalidValue(str(exc)) from exc
        try:
            stored = encode(quantity, param.unit)
        except (UnitError, NumberError) as exc:
            raise limit_rules.InvalidValue(f"{quantity} in {param.unit}: {exc}") from exc
        return Captured(quantity, stored, raw_text(raw).strip(), given_unit or quantity.unit)
    if given_unit:
        raise limit_rules.InvalidValue(f"a {param.type.value} value has no unit")
    value = param.coerce(raw)
    if param.type is DataType.CHOICE or param.type is DataType.BARCODE:
        stored = Stored(param.type.value, str(value))
    else:
        stored = encode(value)
    return Captured(value, stored, raw_text(raw), "")


__all__ = [
    "Captured",
    "Stored",
    "capture",
    "decode",
    "decode_map",
    "encode",
    "encode_map",
    "raw_text",
]
