"""Generated expressions: the parser's precedence and the Decimal evaluation agree with a
reference computation, and rendering then re-parsing changes nothing."""

from __future__ import annotations

import decimal
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from galenic.rules.expressions import Expression, ExpressionError
from galenic.rules.numbers import CONTEXT, plain
from galenic.rules.units import Quantity

LEAF = st.decimals(min_value=-50, max_value=50, places=1).map(lambda d: d.normalize() + 0)


def trees() -> st.SearchStrategy[object]:
    return st.recursive(
        LEAF,
        lambda inner: st.tuples(st.sampled_from(["+", "-", "*"]), inner, inner),
        max_leaves=12,
    )


def text(tree: object, parent: str = "", right: bool = False) -> str:
    """Render with only the parentheses the precedence rules require, so the parser's precedence
    and associativity decide the meaning."""
    if isinstance(tree, Decimal):
        literal = plain(tree)
        return f"({literal})" if tree < 0 else literal
    op, left, right_tree = tree  # type: ignore[misc]
    rendered = f"{text(left, op)} {op} {text(right_tree, op, right=True)}"
    weaker_under_product = op in "+-" and parent == "*"
    sum_right_of_minus = op in "+-" and parent == "-" and right
    return f"({rendered})" if weaker_under_product or sum_right_of_minus else rendered


LIMIT = Decimal(10) ** 15


def reference(tree: object) -> Decimal | None:
    """Plain Decimal arithmetic; None when any intermediate result leaves the bounded range
    (which Galenic refuses)."""
    if isinstance(tree, Decimal):
        return tree
    op, left, right = tree  # type: ignore[misc]
    a, b = reference(left), reference(right)
    if a is None or b is None:
        return None
    with decimal.localcontext(CONTEXT):
        result = a + b if op == "+" else a - b if op == "-" else a * b
    return None if abs(result) >= LIMIT else result


@settings(max_examples=400, deadline=None)
@given(trees())
def test_precedence_and_arithmetic_match_a_reference(tree: object) -> None:
    source = text(tree)
    expected = reference(tree)
    if expected is None:
        with pytest.raises(ExpressionError, match=r"too large|out of range"):
            Expression.parse(source).evaluate({})
        return
    result = Expression.parse(source).evaluate({})
    assert isinstance(result, Quantity)
    assert result.magnitude == expected, source


@given(st.sampled_from(["+", "-", "*", "/"]), st.sampled_from(["+", "-", "*", "/"]))
def test_left_associativity_and_precedence(first: str, second: str) -> None:
    a, b, c = Decimal(7), Decimal(3), Decimal(2)

    def apply(op: str, x: Decimal, y: Decimal) -> Decimal:
        with decimal.localcontext(CONTEXT):
            return {"+": x + y, "-": x - y, "*": x * y, "/": x / y}[op]

    strong = {"*", "/"}
    if second in strong and first not in strong:
        expected = apply(first, a, apply(second, b, c))
    else:
        expected = apply(second, apply(first, a, b), c)
    result = Expression.parse(f"7 {first} 3 {second} 2").evaluate({})
    assert isinstance(result, Quantity)
    assert result.magnitude == expected
