"""A small, safe expression language for calculated parameters and step conditions.

Parsed by our own tokenizer and Pratt parser into a tree of plain dataclasses and evaluated by
walking that tree: Python's ``eval``/``exec``/``compile`` are never used, no attribute of any
Python object is ever looked up, and the only callable names are the fixed functions below.

Syntax::

    500 mg   2.5 %   60 °C   1.25 [g/mL]        numbers, optionally with a unit (compound units
                                                in brackets; no scientific notation)
    + - * / ^   ( )                             arithmetic (^ takes a small constant exponent)
    < <= > >= == !=                             comparisons (units are converted)
    and or not   true false   "text"            logic, booleans, text
    dry_granule_mass   drying.lod   batch_size  references to earlier values
    min max abs round sum mean   if(c, a, b)    functions

Unit-aware evaluation with ``Decimal``. ``analyse`` checks types and units before anything runs.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from galenic.rules import units
from galenic.rules.numbers import CONTEXT, NumberError, check_decimal, parse_decimal, plain
from galenic.rules.units import Quantity, UnitError

MAX_LENGTH = 1000
MAX_TOKENS = 400
MAX_DEPTH = 40
MAX_EXPONENT = 10
MAX_STRING = 200
MAX_ROUND_PLACES = 15

KEYWORDS = {"and", "or", "not", "true", "false", "if"}
FUNCTIONS = {"min", "max", "abs", "round", "sum", "mean", "if"}
REFERENCE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)?$")

Value = Quantity | bool | str | datetime


class ExpressionError(ValueError):
    """Refused expression or failed evaluation. ``position`` is a 0-based column when known."""

    def __init__(self, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        if self.position is None:
            return self.message
        return f"{self.message} (at character {self.position + 1})"


class MissingValue(ExpressionError):
    """A referenced value has not been recorded (yet)."""


# ---------------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # number, name, string, unit, op, end
    text: str
    pos: int


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<name>[A-Za-z_µμ°Ω][A-Za-z0-9_µμ°Ω]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<string>"[^"\\]*")
  | (?P<unit>\[[^\[\]]{1,32}\])
  | (?P<op><=|>=|==|!=|&&|\|\||\*\*|[-+*/^(),<>%=!&|])
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    if not isinstance(text, str):
        raise ExpressionError("an expression is text")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is longer than {MAX_LENGTH} characters")
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            char = text[pos]
            if char == '"':
                raise ExpressionError('unterminated text (missing closing ")', pos)
            raise ExpressionError(f"unexpected character {char!r}", pos)
        kind = match.lastgroup or ""
        value = match.group()
        if kind != "space":
            if kind == "op" and value in {"&&", "||", "!", "&", "|"}:
                hint = {"&&": "and", "&": "and", "||": "or", "|": "or", "!": "not"}[value]
                raise ExpressionError(f"write {hint!r} instead of {value!r}", pos)
            if kind == "op" and value == "=":
                raise ExpressionError("write '==' to compare", pos)
            if kind == "op" and value == "**":
                raise ExpressionError("write '^' for a power", pos)
            if kind == "string" and len(value) - 2 > MAX_STRING:
                raise ExpressionError(f"text longer than {MAX_STRING} characters", pos)
            tokens.append(Token(kind, value, pos))
            if len(tokens) > MAX_TOKENS:
                raise ExpressionError(f"expression has more than {MAX_TOKENS} parts", pos)
        pos = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# ---------------------------------------------------------------------------------------------
# Tree
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Num:
    value: Decimal
    unit: str
    pos: int


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    pos: int


@dataclass(frozen=True, slots=True)
class Bool:
    value: bool
    pos: int


@dataclass(frozen=True, slots=True)
class Ref:
    name: str
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    op: str  # "-", "+", "not"
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # + - * / ^ < <= > >= == != and or
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Call:
    func: str
    args: tuple[Node, ...]
    pos: int


Node = Num | Text | Bool | Ref | Unary | Binary | Call

_COMPARISONS = {"<", "<=", ">", ">=", "==", "!="}
_BINDING = {
    "or": 1,
    "and": 2,
    **dict.fromkeys(_COMPARISONS, 4),
    "+": 5,
    "-": 5,
    "*": 6,
    "/": 6,
    "^": 8,
}
_NOT_POWER = 3
_UNARY_POWER = 7


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.i + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, text: str) -> Token:
        token = self.next()
        if token.text != text:
            found = "the end" if token.kind == "end" else repr(token.text)
            raise ExpressionError(f"expected {text!r}, found {found}", token.pos)
        return token

    def parse(self) -> Node:
        node = self.expression(0)
        token = self.peek()
        if token.kind != "end":
            raise ExpressionError(f"unexpected {token.text!r}", token.pos)
        return node

    def _infix(self, token: Token) -> str | None:
        if token.kind == "op" and token.text in _BINDING:
            return token.text
        if token.kind == "name" and token.text in {"and", "or"}:
            return token.text
        return None

    def expression(self, min_power: int) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExpressionError(
                f"expression nested deeper than {MAX_DEPTH} levels", self.peek().pos
            )
        left = self.prefix()
        while True:
            token = self.peek()
            op = self._infix(token)
            if op is None:
                break
            power = _BINDING[op]
            if power <= min_power:
                break
            self.next()
            # ^ is right-associative: 2^3^2 is 2^(3^2)
            right = self.expression(power - 1) if op == "^" else self.expression(power)
            if op in _COMPARISONS and self._infix(self.peek()) in _COMPARISONS:
                raise ExpressionError(
                    "comparisons cannot be chained; write 'a < b and b < c'", self.peek().pos
                )
            left = Binary(op, left, right, token.pos)
        self.depth -= 1
        return left

    def prefix(self) -> Node:
        token = self.next()
        if token.kind == "number":
            return self.number(token)
        if token.kind == "string":
            return Text(token.text[1:-1], token.pos)
        if token.kind == "op" and token.text in {"-", "+"}:
            self.depth += 1
            operand = self.expression(_UNARY_POWER)
            self.depth -= 1
            return Unary(token.text, operand, token.pos)
        if token.kind == "op" and token.text == "(":
            node = self.expression(0)
            self.expect(")")
            return node
        if token.kind == "name":
            word = token.text
            if word == "not":
                return Unary("not", self.expression(_NOT_POWER), token.pos)
            if word in {"true", "false"}:
                return Bool(word == "true", token.pos)
            if word in {"and", "or"}:
                raise ExpressionError(f"{word!r} needs a value on its left", token.pos)
            if self.peek().text == "(":
                return self.call(token)
            return self.reference(token)
        if token.kind == "end":
            raise ExpressionError("expression is incomplete", token.pos)
        raise ExpressionError(f"unexpected {token.text!r}", token.pos)

    def number(self, token: Token) -> Num:
        try:
            value = parse_decimal(token.text)
        except NumberError as exc:
            raise ExpressionError(str(exc), token.pos) from exc
        unit = ""
        following = self.peek()
        if following.kind == "unit":
            unit = following.text[1:-1].strip()
            self.next()
        elif following.kind == "op" and following.text == "%":
            unit = "%"
            self.next()
        elif (
            following.kind == "name" and following.text not in KEYWORDS and self.peek(1).text != "("
        ):
            unit = following.text
            self.next()
        if unit:
            try:
                unit = units.check_unit(unit)
            except UnitError as exc:
                raise ExpressionError(str(exc), following.pos) from exc
        return Num(value, unit, token.pos)

    def call(self, token: Token) -> Call:
        name = token.text
        if name not in FUNCTIONS:
            raise ExpressionError(
                f"unknown function {name!r}; available: {', '.join(sorted(FUNCTIONS))}", token.pos
            )
        self.expect("(")
        args: list[Node] = []
        if self.peek().text != ")":
            while True:
                args.append(self.expression(0))
                if self.peek().text == ",":
                    self.next()
                    continue
                break
        self.expect(")")
        _check_arity(name, len(args), token.pos)
        return Call(name, tuple(args), token.pos)

    def reference(self, token: Token) -> Ref:
        name = token.text
        if name.startswith("_") or "._" in name or "__" in name:
            raise ExpressionError(f"names cannot start with an underscore: {name!r}", token.pos)
        if name.count(".") > 1:
            raise ExpressionError(
                f"{name!r}: refer to a value as 'parameter' or 'step.parameter'", token.pos
            )
        if not REFERENCE.match(name):
            if units.is_unit(name):
                raise ExpressionError(
                    f"{name!r} is a unit, not a value; a unit follows a number "
                    "(write 1.25 [g/mL] for a compound unit)",
                    token.pos,
                )
            raise ExpressionError(
                f"{name!r} is not a valid name (lowercase letters, digits and _)", token.pos
            )
        return Ref(name, token.pos)


_ARITY: dict[str, tuple[int, int]] = {
    "min": (1, 50),
    "max": (1, 50),
    "sum": (1, 50),
    "mean": (1, 50),
    "abs": (1, 1),
    "round": (1, 2),
    "if": (3, 3),
}


def _check_arity(name: str, count: int, pos: int) -> None:
    low, high = _ARITY[name]
    if not low <= count <= high:
        wanted = str(low) if low == high else f"{low} to {high}"
        raise ExpressionError(f"{name}() takes {wanted} argument(s), got {count}", pos)


def walk(node: Node) -> Iterator[Node]:
    yield node
    if isinstance(node, Unary):
        yield from walk(node.operand)
    elif isinstance(node, Binary):
        yield from walk(node.left)
        yield from walk(node.right)
    elif isinstance(node, Call):
        for arg in node.args:
            yield from walk(arg)


# ---------------------------------------------------------------------------------------------
# Static types
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Type:
    """What an expression yields: ``number`` (with a dimension), ``bool``, ``text`` or ``datetime``.

    ``percent`` marks a value declared in %; ``bare`` a number literal written without a unit.
    Both exist to catch ``lod <= 2.5`` when ``lod`` is in % (0.025 ≤ 2.5 would always hold).
    """

    kind: str
    dimension: str = ""
    percent: bool = False
    bare: bool = False
    offset: bool = False

    def describe(self) -> str:
        if self.kind != "number":
            return {"bool": "true/false", "text": "text", "datetime": "a date-time"}.get(
                self.kind, self.kind
            )
        return "a number" if self.dimension == "dimensionless" else f"a {self.dimension} quantity"


NUMBER = Type("number", "dimensionless")
BOOL = Type("bool")
TEXT = Type("text")
DATETIME = Type("datetime")


def number_type(unit: str) -> Type:
    return Type(
        "number",
        units.dimension(unit),
        percent=units.is_percent(unit),
        offset=units.is_offset(unit),
    )


@dataclass
class Analysis:
    type: Type | None
    references: list[str]
    errors: list[ExpressionError] = field(default_factory=list)


def _type_error(message: str, node: Node) -> ExpressionError:
    return ExpressionError(message, node.pos)


class _Checker:
    def __init__(self, types: Callable[[str], Type | None]) -> None:
        self.types = types
        self.errors: list[ExpressionError] = []

    def fail(self, message: str, node: Node) -> None:
        self.errors.append(_type_error(message, node))

    def check(self, node: Node) -> Type | None:
        if isinstance(node, Num):
            if node.unit:
                return number_type(node.unit)
            return Type("number", "dimensionless", bare=True)
        if isinstance(node, Text):
            return TEXT
        if isinstance(node, Bool):
            return BOOL
        if isinstance(node, Ref):
            found = self.types(node.name)
            if found is None:
                self.fail(f"unknown value {node.name!r}", node)
            return found
        if isinstance(node, Unary):
            inner = self.check(node.operand)
            if inner is None:
                return None
            if node.op == "not":
                if inner.kind != "bool":
                    self.fail(f"'not' needs true/false, got {inner.describe()}", node)
                return BOOL
            if inner.kind != "number":
                self.fail(f"'{node.op}' needs a number, got {inner.describe()}", node)
                return None
            return Type("number", inner.dimension, inner.percent, inner.bare)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def _same_dimension(self, a: Type, b: Type, node: Node, what: str) -> bool:
        if a.kind != "number" or b.kind != "number":
            self.fail(f"{what} needs numbers, got {a.describe()} and {b.describe()}", node)
            return False
        if a.dimension != b.dimension:
            self.fail(f"{what}: {a.describe()} and {b.describe()} have incompatible units", node)
            return False
        if (a.percent and b.bare) or (b.percent and a.bare):
            self.fail(
                f"{what}: a number without unit beside a value in %; write the % "
                "(e.g. 2.5 %), since 2.5 without unit means 250 %",
                node,
            )
            return False
        return True

    def binary(self, node: Binary) -> Type | None:
        left, right = self.check(node.left), self.check(node.right)
        if left is None or right is None:
            return BOOL if node.op in _COMPARISONS | {"and", "or"} else None
        op = node.op
        if op in {"and", "or"}:
            if left.kind != "bool" or right.kind != "bool":
                self.fail(f"'{op}' needs true/false on both sides", node)
            return BOOL
        if op in _COMPARISONS:
            if left.kind != right.kind:
                self.fail(f"cannot compare {left.describe()} with {right.describe()}", node)
            elif left.kind == "number":
                self._same_dimension(left, right, node, f"'{op}'")
            elif left.kind in {"text", "bool"} and op not in {"==", "!="}:
                self.fail(f"{left.describe()} values can only be compared with == or !=", node)
            return BOOL
        if op in {"+", "-"}:
            if op == "-" and left.kind == right.kind == "datetime":
                return Type("number", units.dimension("s"))
            if not self._same_dimension(left, right, node, f"'{op}'"):
                return None
            if left.offset and right.offset and op == "+":
                self.fail("temperatures in °C/°F cannot be added; subtract them instead", node)
            if left.offset and right.offset and op == "-":
                return Type("number", left.dimension)
            return Type(
                "number", left.dimension, left.percent or right.percent, left.bare and right.bare
            )
        if op in {"*", "/"}:
            if left.kind != "number" or right.kind != "number":
                self.fail(
                    f"'{op}' needs numbers, got {left.describe()} and {right.describe()}", node
                )
                return None
            if left.offset or right.offset:
                self.fail("a temperature in °C/°F cannot be multiplied or divided; use K", node)
                return None
            return self._product_type(left, right, op, node)
        if op == "^":
            if left.kind != "number" or right.kind != "number":
                self.fail("'^' needs numbers", node)
                return None
            if right.dimension != "dimensionless":
                self.fail("an exponent has no unit", node)
                return None
            exponent = _constant(node.right)
            if exponent is None:
                self.fail("an exponent must be a constant number", node)
                return None
            if abs(exponent) > MAX_EXPONENT:
                self.fail(f"exponent {plain(exponent)} is larger than {MAX_EXPONENT}", node)
                return None
            if left.dimension != "dimensionless":
                if exponent != exponent.to_integral_value():
                    self.fail("a quantity with a unit takes only a whole exponent", node)
                    return None
                return Type("number", _power_dimension(left.dimension, int(exponent)))
            return Type("number", "dimensionless")
        self.fail(f"unknown operator {op!r}", node)  # pragma: no cover - parser prevents it
        return None

    def _product_type(self, a: Type, b: Type, op: str, node: Node) -> Type:
        try:
            ua = units.registry().Quantity(1, _dimension_unit(a.dimension))
            ub = units.registry().Quantity(1, _dimension_unit(b.dimension))
            q = ua * ub if op == "*" else ua / ub
            dim = str(q.dimensionality) or "dimensionless"
        except Exception:  # pragma: no cover - dimensions come from real units
            dim = "dimensionless"
        percent = (a.percent and b.dimension == "dimensionless" and op == "*") or (
            b.percent and a.dimension == "dimensionless" and op == "*" and not a.bare
        )
        return Type("number", dim, percent=percent, bare=a.bare and b.bare)

    def call(self, node: Call) -> Type | None:
        name = node.func
        if name == "if":
            cond, a, b = (self.check(arg) for arg in node.args)
            if cond is not None and cond.kind != "bool":
                self.fail(
                    f"the first argument of if() must be true/false, got {cond.describe()}", node
                )
            if a is None or b is None:
                return a or b
            if a.kind != b.kind:
                self.fail(f"if() branches give {a.describe()} and {b.describe()}", node)
                return a
            if a.kind == "number" and not self._same_dimension(a, b, node, "if()"):
                return a
            return a if not a.bare else b
        arg_types = [self.check(arg) for arg in node.args]
        if any(t is None for t in arg_types):
            return None
        types = [t for t in arg_types if t is not None]
        if name in {"abs"}:
            if types[0].kind != "number":
                self.fail(f"abs() needs a number, got {types[0].describe()}", node)
            return types[0]
        if name == "round":
            if types[0].kind != "number":
                self.fail(f"round() needs a number, got {types[0].describe()}", node)
                return None
            if len(node.args) == 2:
                places = _constant(node.args[1])
                if (
                    places is None
                    or places != places.to_integral_value()
                    or not 0 <= places <= MAX_ROUND_PLACES
                    or types[1].dimension != "dimensionless"
                ):
                    self.fail(
                        f"round(x, n): n is a whole number from 0 to {MAX_ROUND_PLACES}", node
                    )
            return types[0]
        # min, max, sum, mean: numbers of one dimension
        first = types[0]
        for other in types[1:]:
            if not self._same_dimension(first, other, node, f"{name}()"):
                return first
        if first.kind != "number":
            self.fail(f"{name}() needs numbers, got {first.describe()}", node)
            return None
        if first.offset and name in {"sum"} and len(types) > 1:
            self.fail("temperatures in °C/°F cannot be summed", node)
        return first


def _dimension_unit(dimension: str) -> str:
    """A unit with the given dimension, for computing product dimensions with pint."""
    if dimension == "dimensionless":
        return ""
    reg = units.registry()
    base = {
        "[mass]": "kg",
        "[length]": "m",
        "[time]": "s",
        "[temperature]": "K",
        "[substance]": "mol",
        "[current]": "A",
        "[luminosity]": "cd",
        "[item]": "item",
        "[acidity]": "pH",
        "[turbidity]": "NTU",
    }
    text = dimension
    for dim, unit in base.items():
        text = text.replace(dim, unit)
    return str(reg.parse_units(text))


def _power_dimension(dimension: str, exponent: int) -> str:
    reg = units.registry()
    q = reg.Quantity(1, _dimension_unit(dimension)) ** exponent
    return str(q.dimensionality) or "dimensionless"


def _constant(node: Node) -> Decimal | None:
    if isinstance(node, Num) and not node.unit:
        return node.value
    if isinstance(node, Unary) and node.op in {"-", "+"}:
        inner = _constant(node.operand)
        return None if inner is None else (-inner if node.op == "-" else inner)
    return None


# ---------------------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------------------

Lookup = Callable[[str], Value]


def _describe_value(value: Value) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, Quantity):
        return "a number"
    if isinstance(value, datetime):
        return "a date-time"
    return "text"


class _Evaluator:
    def __init__(self, lookup: Lookup) -> None:
        self.lookup = lookup

    def number(self, node: Node) -> Quantity:
        value = self.eval(node)
        if isinstance(value, bool) or not isinstance(value, Quantity):
            raise ExpressionError(f"expected a number, got {_describe_value(value)}", node.pos)
        return value

    def boolean(self, node: Node) -> bool:
        value = self.eval(node)
        if not isinstance(value, bool):
            raise ExpressionError(f"expected true/false, got {_describe_value(value)}", node.pos)
        return value

    def eval(self, node: Node) -> Value:
        try:
            return self._eval(node)
        except UnitError as exc:
            raise ExpressionError(str(exc), node.pos) from exc
        except NumberError as exc:
            raise ExpressionError(str(exc), node.pos) from exc
        except (decimal.InvalidOperation, decimal.Overflow) as exc:
            raise ExpressionError("calculation out of range", node.pos) from exc
        except decimal.DivisionByZero as exc:
            raise ExpressionError("division by zero", node.pos) from exc

    def _eval(self, node: Node) -> Value:
        if isinstance(node, Num):
            return Quantity(node.value, node.unit)
        if isinstance(node, Text):
            return node.value
        if isinstance(node, Bool):
            return node.value
        if isinstance(node, Ref):
            value = self.lookup(node.name)
            if isinstance(value, float) or value is None:
                raise ExpressionError(f"{node.name!r} has no usable value", node.pos)
            return value
        if isinstance(node, Unary):
            if node.op == "not":
                return not self.boolean(node.operand)
            operand = self.number(node.operand)
            return -operand if node.op == "-" else operand
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def binary(self, node: Binary) -> Value:
        op = node.op
        if op == "and":
            return self.boolean(node.left) and self.boolean(node.right)
        if op == "or":
            return self.boolean(node.left) or self.boolean(node.right)
        left = self.eval(node.left)
        right = self.eval(node.right)
        if op in _COMPARISONS:
            return _compare(op, left, right, node)
        if op == "-" and isinstance(left, datetime) and isinstance(right, datetime):
            delta = left - right
            seconds = Decimal(delta.days * 86400 + delta.seconds) + Decimal(
                delta.microseconds
            ).scaleb(-6)
            return Quantity(seconds, "s")
        if not isinstance(left, Quantity) or isinstance(left, bool):
            raise ExpressionError(f"'{op}' needs numbers, got {_describe_value(left)}", node.pos)
        if not isinstance(right, Quantity) or isinstance(right, bool):
            raise ExpressionError(f"'{op}' needs numbers, got {_describe_value(right)}", node.pos)
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            if right.magnitude == 0:
                raise ExpressionError("division by zero", node.pos)
            return left / right
        # ^
        if not right.dimensionless:
            raise ExpressionError("an exponent has no unit", node.pos)
        exponent = right.magnitude_in("")
        if abs(exponent) > MAX_EXPONENT:
            raise ExpressionError(
                f"exponent {plain(exponent)} is larger than {MAX_EXPONENT}", node.pos
            )
        return left.power(exponent)

    def call(self, node: Call) -> Value:
        name = node.func
        if name == "if":
            condition = self.boolean(node.args[0])
            return self.eval(node.args[1] if condition else node.args[2])
        if name == "abs":
            return abs(self.number(node.args[0]))
        if name == "round":
            value = self.number(node.args[0])
            places = Decimal(0)
            if len(node.args) == 2:
                places = self.number(node.args[1]).magnitude_in("")
            if places != places.to_integral_value() or not 0 <= places <= MAX_ROUND_PLACES:
                raise ExpressionError(
                    f"round(x, n): n is a whole number from 0 to {MAX_ROUND_PLACES}", node.pos
                )
            quantum = Decimal(1).scaleb(-int(places))
            rounded = value.magnitude.quantize(
                quantum, rounding=decimal.ROUND_HALF_UP, context=CONTEXT
            )
            return Quantity(rounded, value.unit)
        values = [self.number(arg) for arg in node.args]
        first = values[0]
        for other in values[1:]:
            if not first.compatible(other):
                raise ExpressionError(
                    f"{name}(): {first.unit or 'no unit'} and {other.unit or 'no unit'} are incompatible",
                    node.pos,
                )
        if name == "min":
            best = first
            for other in values[1:]:
                if other < best:
                    best = other
            return best
        if name == "max":
            best = first
            for other in values[1:]:
                if other > best:
                    best = other
            return best
        total = Quantity(sum((v.magnitude_in(first.unit) for v in values), Decimal(0)), first.unit)
        if name == "sum":
            return total
        mean = total.magnitude / Decimal(len(values))
        return Quantity(check_decimal(mean), first.unit)


def _compare(op: str, left: Value, right: Value, node: Node) -> bool:
    if isinstance(left, bool) or isinstance(right, bool):
        if not (isinstance(left, bool) and isinstance(right, bool)) or op not in {"==", "!="}:
            raise ExpressionError(
                f"cannot compare {_describe_value(left)} with {_describe_value(right)} using {op}",
                node.pos,
            )
        return (left == right) == (op == "==")
    if isinstance(left, Quantity) and isinstance(right, Quantity):
        if not left.compatible(right):
            raise ExpressionError(
                f"cannot compare {left} with {right}: incompatible units", node.pos
            )
        a, b = left.magnitude, right.magnitude_in(left.unit)
    elif isinstance(left, str) and isinstance(right, str):
        if op not in {"==", "!="}:
            raise ExpressionError("text can only be compared with == or !=", node.pos)
        return (left == right) == (op == "==")
    elif isinstance(left, datetime) and isinstance(right, datetime):
        a_dt, b_dt = left, right
        return {
            "<": a_dt < b_dt,
            "<=": a_dt <= b_dt,
            ">": a_dt > b_dt,
            ">=": a_dt >= b_dt,
            "==": a_dt == b_dt,
            "!=": a_dt != b_dt,
        }[op]
    else:
        raise ExpressionError(
            f"cannot compare {_describe_value(left)} with {_describe_value(right)}", node.pos
        )
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}[op]


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Expression:
    """A parsed expression. ``references`` lists referenced names in order of first use."""

    source: str
    tree: Node
    references: tuple[str, ...]

    @classmethod
    def parse(cls, source: str) -> Expression:
        tree = _Parser(source).parse()
        seen: dict[str, None] = {}
        for node in walk(tree):
            if isinstance(node, Ref):
                seen.setdefault(node.name, None)
        return cls(source, tree, tuple(seen))

    def analyse(self, types: Callable[[str], Type | None] | Mapping[str, Type]) -> Analysis:
        """Static type and unit check; ``types`` gives the type of each referenced name."""
        lookup = types.get if isinstance(types, Mapping) else types
        checker = _Checker(lookup)
        result = checker.check(self.tree)
        return Analysis(result, list(self.references), checker.errors)

    def evaluate(self, values: Lookup | Mapping[str, Value]) -> Value:
        """Evaluate against recorded values. Raises ``ExpressionError`` (``MissingValue`` for a
        reference with no value) with a readable reason."""
        lookup: Lookup
        if isinstance(values, Mapping):
            mapping = values

            def from_mapping(name: str) -> Value:
                if name not in mapping:
                    raise MissingValue(f"no value recorded for {name!r}")
                return mapping[name]

            lookup = from_mapping
        else:
            lookup = values
        with decimal.localcontext(CONTEXT):
            return _Evaluator(lookup).eval(self.tree)

    def is_constant(self) -> bool:
        return not self.references

    def multiplies_by_hundred(self) -> bool:
        """True if the expression multiplies or divides by a bare 100 (a percent done by hand)."""
        for node in walk(self.tree):
            if isinstance(node, Binary) and node.op in {"*", "/"}:
                for side in (node.left, node.right):
                    if isinstance(side, Num) and not side.unit and side.value == 100:
                        return True
        return False


def parse(source: str) -> Expression:
    return Expression.parse(source)


def evaluate(source: str, values: Mapping[str, Value]) -> Value:
    return Expression.parse(source).evaluate(values)


def render(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Quantity):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return f'"{value}"'


__all__: Sequence[str] = (
    "BOOL",
    "DATETIME",
    "NUMBER",
    "TEXT",
    "Analysis",
    "Expression",
    "ExpressionError",
    "MissingValue",
    "Type",
    "Value",
    "evaluate",
    "number_type",
    "parse",
    "render",
)
