"""Every change to an MBR is audited with a reason; document changes record the content hashes
before and after and a summary of the semantic diff."""

from __future__ import annotations

import pytest

from galenic.core.errors import ValidationFailed
from galenic.recipes.editing import EditOp


def test_edit_records_hashes_and_diff_summary(mbr, events):
    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.create()
    old_hash = version.content_hash
    with action_context("test"):
        version = services.edit_document(
            actor=mbr.p["engineer"],
            version=version,
            ops=[
                EditOp(
                    "set",
                    "unit_procedures[0].operations[1].steps[0].parameters[0]",
                    values={"action_high": "32"},
                )
            ],
            expected_row_version=version.row_version,
            reason="wider range after validation",
        )
    event = events("recipes.version.edit")[-1]
    assert event["old"] == {"content_hash": old_hash}
    assert event["new"]["content_hash"] == version.content_hash != old_hash
    assert event["new"]["changes"] == 1
    assert "action_high" in event["new"]["diff"][0]
    assert "30 → 32" in event["new"]["diff"][0]
    assert event["reason"] == "wider range after validation"
    assert event["actor"] == mbr.p["engineer"].username


def test_reason_defaults_to_the_drafts_change_reason(mbr, events):
    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.create()
    with action_context("test"):
        services.edit_document(
            actor=mbr.p["engineer"],
            version=version,
            ops=[EditOp("set", "", values={"title": "Tiny"})],
            expected_row_version=None,
        )
    assert events("recipes.version.edit")[-1]["reason"] == "new product"


def test_structure_error_names_the_path_and_keeps_the_draft(mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.create()
    with action_context("test"), pytest.raises(ValidationFailed) as caught:
        services.edit_document(
            actor=mbr.p["engineer"],
            version=version,
            ops=[
                EditOp(
                    "set",
                    "unit_procedures[0].operations[1].steps[0].parameters[0]",
                    values={"target": "twenty"},
                )
            ],
            expected_row_version=version.row_version,
        )
    assert caught.value.errors[0].field == (
        "unit_procedures[0].operations[1].steps[0].parameters[0].target"
    )
    version.refresh_from_db()
    assert version.row_version == 1


def test_unchanged_document_records_nothing(mbr, events, tiny_doc):
    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.create()
    with action_context("test"):
        services.replace_document(
            actor=mbr.p["engineer"],
            version=version,
            document=tiny_doc,
            expected_row_version=version.row_version,
            reason="same",
        )
    assert events("recipes.version.replace_document") == []


def test_lifecycle_actions_need_a_reason(mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.approve(mbr.check(mbr.submit(mbr.create())))
    with action_context("test"), pytest.raises(ValidationFailed, match="reason"):
        services.make_effective(actor=mbr.p["approver"], version=version, reason="")
    version = mbr.effective(version)
    with action_context("test"), pytest.raises(ValidationFailed, match="reason"):
        services.retire(actor=mbr.p["approver"], version=version, reason=" ")
    with action_context("test"):
        retired = services.retire(
            actor=mbr.p["approver"], version=version, reason="product discontinued"
        )
    assert retired.status == "retired"
    assert retired.retired_at is not None
