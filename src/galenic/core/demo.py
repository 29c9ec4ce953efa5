"""Demo site seeding. Each context contributes an idempotent ``seed()``; order matters."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import import_module

from galenic.core.context import action_context

SEEDERS = [
    "galenic.accounts.demo",
    "galenic.equipment.demo",
    "galenic.recipes.demo",
    "galenic.execution.demo",
]


def seed_all() -> Iterator[str]:
    with action_context("system"):
        for module_name in SEEDERS:
            module = import_module(module_name)
            yield from module.seed()
