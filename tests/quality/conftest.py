"""Deviations arise from batches: these tests drive batches with the execution tests' helpers
(``execution_helpers``, found beside the execution tests)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "execution"))

from execution_helpers import Floor, acknowledge


@pytest.fixture
def floor(personas: dict[str, Any]) -> Floor:
    for role in ("operator", "verifier", "supervisor", "approver", "reviewer"):
        acknowledge(personas[role])
    return Floor(personas)
