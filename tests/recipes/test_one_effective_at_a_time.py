"""Only one version of an MBR is effective at a time: making a new one effective supersedes the
old one in the same transaction, and the database refuses a second effective version."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, transaction

from galenic.recipes.models import MasterRecordVersion, VersionStatus


def _new_version(mbr, version, reason="tighten limits"):
    from galenic.core.context import action_context
    from galenic.recipes import services

    with action_context("test"):
        return services.new_version(actor=mbr.p["engineer"], version=version, reason=reason)


def test_making_v2_effective_supersedes_v1(mbr, events):
    from galenic.recipes import selectors

    v1 = mbr.to_effective()
    v2 = mbr.to_effective(_new_version(mbr, v1))
    v1.refresh_from_db()
    assert v1.status == VersionStatus.SUPERSEDED
    assert v2.status == VersionStatus.EFFECTIVE
    assert selectors.effective_version(v1.master.code).pk == v2.pk
    assert (
        MasterRecordVersion.objects.filter(master=v1.master, status=VersionStatus.EFFECTIVE).count()
        == 1
    )
    actions = [e["action"] for e in events()][-2:]
    assert actions == ["recipes.version.supersede", "recipes.version.make_effective"]
    assert events("recipes.version.supersede")[0]["new"]["superseded_by"] == 2


def test_database_refuses_two_effective_versions(mbr):
    v1 = mbr.to_effective()
    v2 = _new_version(mbr, v1)
    v2.status = VersionStatus.EFFECTIVE
    with pytest.raises(IntegrityError), transaction.atomic():
        v2.save(update_fields=["status"])
