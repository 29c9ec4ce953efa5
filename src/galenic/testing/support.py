"""Helpers for tests in any folder (conftest modules cannot be imported by name)."""

from __future__ import annotations

import os

import pytest

# Services CI makes mandatory (GALENIC_REQUIRE=postgres,mqtt,browser): a skip becomes a failure.
REQUIRED = {s.strip() for s in os.environ.get("GALENIC_REQUIRE", "").split(",") if s.strip()}
# The password of every persona made by the `personas` / `make_user` fixtures.
PASSWORD = "Correct-horse-42"  # noqa: S105 - test credential


def service_unavailable(service: str, reason: str) -> None:
    """Skip locally; fail when CI made the service mandatory."""
    if service in REQUIRED:
        pytest.fail(f"{service} is required (GALENIC_REQUIRE) but unavailable: {reason}")
    pytest.skip(f"{service} unavailable: {reason}")
