"""Fixtures for the database-free rules: the small master record in data/tiny.yaml."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from galenic.recipes.document import MasterBatchRecord, load_yaml
from galenic.recipes.document.io import read_yaml

DATA = Path(__file__).parent / "data"
TINY_TEXT = (DATA / "tiny.yaml").read_text(encoding="utf-8")
_TINY_DATA = read_yaml(TINY_TEXT)


@pytest.fixture
def tiny_data() -> dict[str, Any]:
    """The tiny master record as plain data, safe to modify."""
    return copy.deepcopy(_TINY_DATA)


@pytest.fixture
def tiny_doc() -> MasterBatchRecord:
    return load_yaml(TINY_TEXT)


@pytest.fixture(scope="session", autouse=True)
def _units_registry_loaded() -> None:
    """Build pint's registry once up front, so no hypothesis example pays for it (deadlines)."""
    from galenic.rules.units import registry

    registry()
