"""Who may do what to an MBR version (211.186: one person prepares, a second checks; QA
approves; nobody checks or approves their own version)."""

from __future__ import annotations

import pytest
from mbr_helpers import authority_for

from galenic.core.errors import Conflict, PermissionDenied
from galenic.recipes.models import VersionStatus


def test_operator_cannot_author(mbr, personas):
    with pytest.raises(PermissionDenied, match=r"recipes\.author"):
        mbr.create(by=personas["operator"])


def test_qa_approver_cannot_author(mbr, personas):
    with pytest.raises(PermissionDenied):
        mbr.create(by=personas["approver"])


def test_author_cannot_check_own_version(mbr, make_user, signers):
    from galenic.core.context import action_context
    from galenic.signatures import services as signing

    # An engineer who is also a QA reviewer still cannot check what they prepared.
    both = make_user("pat", ["process_engineer", "qa_reviewer", "qa_approver"])
    with action_context("test"):
        signing.acknowledge_policy(actor=both, authority=authority_for(both))
    version = mbr.submit(mbr.create(by=both), by=both)
    with pytest.raises(PermissionDenied, match="second person"):
        mbr.check(version, by=both)
    version = mbr.check(version)  # quinn
    with pytest.raises(PermissionDenied, match="nobody approves their own"):
        mbr.approve(version, by=both)
    version.refresh_from_db()
    assert version.status == VersionStatus.IN_REVIEW


def test_checker_cannot_also_approve(mbr, make_user):
    from galenic.core.context import action_context
    from galenic.signatures import services as signing

    qa = make_user("quentin", ["qa_reviewer", "qa_approver"])
    with action_context("test"):
        signing.acknowledge_policy(actor=qa, authority=authority_for(qa))
    version = mbr.check(mbr.submit(mbr.create()), by=qa)
    with pytest.raises(PermissionDenied, match="You checked"):
        mbr.approve(version, by=qa)


def test_approval_needs_the_check_first(mbr):
    version = mbr.submit(mbr.create())
    with pytest.raises(Conflict, match="second person must check"):
        mbr.approve(version)


def test_reviewer_cannot_approve_or_make_effective(mbr, personas):
    version = mbr.check(mbr.submit(mbr.create()))
    with pytest.raises(PermissionDenied, match=r"recipes\.approve"):
        mbr.approve(version, by=personas["reviewer"])
    version = mbr.approve(version)
    with pytest.raises(PermissionDenied, match=r"recipes\.make_effective"):
        mbr.effective(version, by=personas["engineer"])


def test_operator_cannot_check(mbr, personas):
    version = mbr.submit(mbr.create())
    with pytest.raises(PermissionDenied, match=r"recipes\.check"):
        mbr.check(version, by=personas["operator"])


def test_full_lifecycle_statuses_and_signatures(mbr, personas):
    from galenic.recipes import selectors

    version = mbr.create()
    assert version.status == VersionStatus.DRAFT
    version = mbr.submit(version)
    assert version.status == VersionStatus.IN_REVIEW
    version = mbr.check(version)
    assert version.status == VersionStatus.IN_REVIEW
    version = mbr.approve(version)
    assert version.status == VersionStatus.APPROVED
    version = mbr.effective(version)
    assert version.status == VersionStatus.EFFECTIVE
    assert version.effective_at is not None
    assert selectors.effective_version(version.master.code).pk == version.pk
    entries = selectors.signatures(version)
    assert [(e.signature.meaning, e.signature.signer_user_id) for e in entries] == [
        ("authored", personas["engineer"].username),
        ("checked", personas["reviewer"].username),
        ("approved", personas["approver"].username),
    ]
    assert all(e.ok for e in entries)


def test_whoever_edited_the_draft_cannot_check_it(mbr, make_user):
    from galenic.core.context import action_context
    from galenic.recipes import services
    from galenic.recipes.editing import EditOp
    from galenic.signatures import services as signing

    # An engineer who only edited someone else's draft still prepared it.
    editor = make_user("ed", ["process_engineer"])
    with action_context("test"):
        signing.acknowledge_policy(actor=editor, authority=authority_for(editor))
        version = services.edit_document(
            actor=editor,
            version=mbr.create(),
            ops=[EditOp("set", "", values={"title": "Tiny, edited"})],
            expected_row_version=None,
        )
    version = mbr.submit(version)  # petra signs as author
    with pytest.raises(PermissionDenied, match="You prepared this version"):
        mbr.check(version, by=editor)
    assert mbr.check(version).checked_signature is not None
