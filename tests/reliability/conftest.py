"""Fixtures of the reliability suite (see reliability_support and docs/reliability.md).

These tests drive real processes against sites of their own; they need no pytest-django
database. Each pass of ``./run test`` tests its own database: the SQLite pass builds SQLite
sites, the PostgreSQL pass builds databases on the shared server (never stopped or restarted:
faults of the database itself use a private cluster). A test about one engine only is marked
``sqlite_only`` or ``postgres_only`` and is deselected, not skipped, in the other pass.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from reliability_support import (
    SOAK,
    AppServer,
    Site,
    SiteTemplate,
    shared_pg_server,
    soak,
    tested_vendor,
)

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    vendor = tested_vendor()
    other = "sqlite_only" if vendor == "postgresql" else "postgres_only"
    keep, drop = [], []
    for item in items:
        mine = str(item.path).startswith(str(HERE))
        if mine:
            item.add_marker(pytest.mark.reliability)
        (drop if mine and item.get_closest_marker(other) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture(scope="session", autouse=True)
def _no_server_left_behind() -> Iterator[None]:
    """A test that failed half-way must not leave its gunicorn running."""
    yield
    for server in list(AppServer.started):
        server.kill()


@pytest.fixture(scope="session")
def site_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SiteTemplate]:
    template = SiteTemplate(
        tmp_path_factory.mktemp("reliability"), shared_pg_server(), batches=soak(14, 80)
    )
    yield template
    template.drop()


@pytest.fixture
def site(site_template: SiteTemplate, tmp_path: Path) -> Iterator[Site]:
    """A fresh seeded site of this pass's engine: demo people (demo password), demo MBRs, and
    started batches REL-0001... of MBR-REL (tests/reliability/data/reliability.yaml)."""
    made = site_template.clone(tmp_path / "site")
    yield made
    made.drop()


@pytest.fixture
def soak_mode() -> bool:
    return SOAK
