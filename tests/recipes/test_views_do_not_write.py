"""STYLE.md: views and API endpoints never write with the ORM; every change is a service call."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "src" / "galenic" / "recipes"
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
}


@pytest.mark.parametrize("name", ["views.py", "api.py", "cli.py"])
def test_no_orm_writes_outside_services(name):
    tree = ast.parse((APP / name).read_text(encoding="utf-8"))
    calls = [
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in WRITES
    ]
    assert calls == []
