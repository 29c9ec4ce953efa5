"""STYLE.md: views, API endpoints and commands never write with the ORM; every change is a call
to a service (execution and quality)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "galenic"
WRITES = {
    "save",
    "create",
    "update",
    "delete",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "update_audited",
    "execute",
}


@pytest.mark.parametrize(
    "name",
    [
        "execution/views.py",
        "execution/api.py",
        "execution/cli.py",
        "execution/schemas.py",
        "execution/selectors.py",
        "quality/api.py",
        "quality/cli.py",
        "quality/selectors.py",
    ],
)
def test_no_orm_writes_outside_services(name):
    tree = ast.parse((SRC / name).read_text(encoding="utf-8"))
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]
    assert calls == []
