"""Optimistic concurrency: a write based on a stale row_version is refused with a Conflict and
changes nothing; the fresh one goes through."""

from __future__ import annotations

import pytest

from galenic.core.errors import Conflict
from galenic.recipes.editing import EditOp
from galenic.recipes.models import MasterRecordVersion


def _rename(version, title, row_version, actor):
    from galenic.core.context import action_context
    from galenic.recipes import services

    with action_context("test"):
        return services.edit_document(
            actor=actor,
            version=version,
            ops=[EditOp("set", "", values={"title": title})],
            expected_row_version=row_version,
            reason="title",
        )


def test_stale_row_version_is_refused(mbr):
    version = mbr.create()
    seen = version.row_version
    first = _rename(version, "First title", seen, mbr.p["engineer"])
    assert first.row_version == seen + 1

    with pytest.raises(Conflict, match="changed by someone else") as caught:
        _rename(version, "Second title", seen, mbr.p["engineer"])
    assert caught.value.field == "row_version"
    stored = MasterRecordVersion.objects.get(pk=version.pk)
    assert stored.document().title == "First title"
    assert stored.row_version == seen + 1

    again = _rename(stored, "Second title", stored.row_version, mbr.p["engineer"])
    assert again.document().title == "Second title"


def test_stale_row_version_refused_for_lifecycle_actions(mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.submit(mbr.create())
    with action_context("test"), pytest.raises(Conflict, match="changed by someone else"):
        services.reject(
            actor=mbr.p["reviewer"],
            version=version,
            reason="x",
            expected_row_version=version.row_version - 1,
        )
