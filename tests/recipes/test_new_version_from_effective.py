"""Editing an approved MBR makes a new version: a draft copied from it, based on it, with the
reason; only one version is worked on at a time."""

from __future__ import annotations

import pytest

from galenic.core.errors import Conflict, ValidationFailed
from galenic.recipes.models import VersionStatus


def test_new_version_copies_the_effective_one(mbr, events):
    from galenic.core.context import action_context
    from galenic.recipes import services

    v1 = mbr.to_effective()
    with action_context("test"):
        v2 = services.new_version(actor=mbr.p["engineer"], version=v1, reason="new supplier")
    assert (v2.version, v2.status, v2.based_on_id) == (2, VersionStatus.DRAFT, v1.pk)
    assert v2.document_json == v1.document_json
    assert v2.content_hash == v1.content_hash
    assert v2.change_reason == "new supplier"
    created = events("recipes.version.create")[-1]
    assert created["new"]["based_on"] == 1
    assert created["new"]["changes"] == 0
    assert created["reason"] == "new supplier"
    v1.refresh_from_db()
    assert v1.status == VersionStatus.EFFECTIVE  # stays in use until v2 takes effect


def test_only_one_working_copy(mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services

    v1 = mbr.to_effective()
    with action_context("test"):
        services.new_version(actor=mbr.p["engineer"], version=v1, reason="one")
        with pytest.raises(Conflict, match="already has version 2 draft"):
            services.new_version(actor=mbr.p["engineer"], version=v1, reason="two")


def test_draft_is_not_a_base_and_reason_is_required(mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services

    draft = mbr.create()
    with action_context("test"):
        with pytest.raises(Conflict, match="base of a new version"):
            services.new_version(actor=mbr.p["engineer"], version=draft, reason="x")
        v1 = mbr.to_effective(draft)
        with pytest.raises(ValidationFailed, match="reason"):
            services.new_version(actor=mbr.p["engineer"], version=v1, reason="  ")


def test_approved_version_cannot_be_edited(mbr, tiny_doc):
    from galenic.core.context import action_context
    from galenic.recipes import services

    v1 = mbr.approve(mbr.check(mbr.submit(mbr.create())))
    with action_context("test"), pytest.raises(Conflict, match="Only a version that is draft"):
        services.replace_document(
            actor=mbr.p["engineer"], version=v1, document=tiny_doc, expected_row_version=None
        )
