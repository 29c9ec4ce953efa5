"""The expression language gives no access to Python: no eval, no attributes, no imports, no
calls of arbitrary names, and bounded size, depth and exponents."""

from __future__ import annotations

import ast
import builtins
import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import galenic.rules.expressions as expressions_module
from galenic.rules.expressions import Expression, ExpressionError, evaluate
from galenic.rules.units import Quantity

HOSTILE = [
    '__import__("os").system("true")',
    "a.__class__",
    "a.__class__.__mro__",
    "__builtins__",
    "_secret",
    'open("/etc/passwd")',
    'eval("1")',
    'exec("1")',
    'getattr(a, "x")',
    "lambda: 1",
    "[x for x in a]",
    "a[0]",
    "{}",
    "a; b",
    "import os",
    "a if b else c",
    "a = 1",
    "a := 1",
    'f"{a}"',
    "'single'",
    "a.b.c",
    "print(1)",
    "1e308",
    "9" * 41,
    "2^100",
    "10^11",
    "a ** 2",
    "a && b",
    "a || b",
    "!a",
    "(" * 60 + "1" + ")" * 60,
    "1 + " * 500 + "1",
    "x" * 1001,
]


@pytest.mark.parametrize("source", HOSTILE)
def test_hostile_input_is_refused_with_a_clear_error(source: str) -> None:
    with pytest.raises(ExpressionError) as info:
        Expression.parse(source).evaluate({"a": Quantity.parse("1 g"), "b": True, "c": True})
    assert str(info.value)  # a readable reason


def test_the_module_never_uses_eval_exec_compile_or_dynamic_attributes() -> None:
    tree = ast.parse(Path(expressions_module.__file__).read_text(encoding="utf-8"))
    forbidden = {"eval", "exec", "compile", "__import__", "getattr", "setattr", "globals", "vars"}
    calls = [
        node.func.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
    ]
    assert not forbidden & set(calls)
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert not {"importlib", "builtins", "ast"} & imported


def test_evaluation_does_not_call_builtins_eval(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("eval/exec/compile must never run")

    monkeypatch.setattr(builtins, "eval", boom)
    monkeypatch.setattr(builtins, "exec", boom)
    monkeypatch.setattr(builtins, "compile", boom)
    assert evaluate("min(1 g, 2 g) + 3 g", {}) == Quantity.parse("4 g")


def test_only_listed_functions_exist() -> None:
    with pytest.raises(ExpressionError, match="unknown function 'system'"):
        Expression.parse("system(1)")


def test_underscore_names_are_refused_before_lookup() -> None:
    looked_up: list[str] = []

    def lookup(name: str) -> Quantity:
        looked_up.append(name)
        return Quantity.parse("1 g")

    with pytest.raises(ExpressionError, match="underscore"):
        Expression.parse("__class__ + 1 g").evaluate(lookup)
    assert looked_up == []


@settings(max_examples=300)
@given(st.text(max_size=120))
def test_arbitrary_text_either_parses_or_raises_expression_error(text: str) -> None:
    try:
        expr = Expression.parse(text)
    except ExpressionError:
        return
    with contextlib.suppress(ExpressionError):
        expr.evaluate(lambda name: Quantity.parse("1 g"))
