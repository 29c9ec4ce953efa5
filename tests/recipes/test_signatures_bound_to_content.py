"""Authoring, checking and approval signatures are bound to the document (21 CFR 11.70): a draft
sent back and edited shows its earlier authoring signature as changed after signing, and the
review starts over with new signatures."""

from __future__ import annotations

import pytest

from galenic.core.errors import Conflict
from galenic.recipes.editing import EditOp
from galenic.recipes.models import VersionStatus
from galenic.signatures.verify import SignatureStatus


def test_editing_after_authoring_invalidates_the_signature(mbr, events):
    from galenic.core.context import action_context
    from galenic.recipes import selectors, services

    version = mbr.submit(mbr.create())
    authored = version.authored_signature
    with action_context("test"):
        version = services.reject(
            actor=mbr.p["reviewer"], version=version, reason="dissolve time too short"
        )
        assert version.status == VersionStatus.DRAFT
        assert version.authored_signature is None
        version = services.edit_document(
            actor=mbr.p["engineer"],
            version=version,
            ops=[
                EditOp(
                    "set",
                    "unit_procedures[0].operations[3].steps[0].duration",
                    values={"min": "20 min"},
                )
            ],
            expected_row_version=version.row_version,
            reason="longer dissolving",
        )
    entries = {e.signature.pk: e for e in selectors.signatures(version)}
    assert entries[authored.pk].status is SignatureStatus.CHANGED
    assert "document" in entries[authored.pk].changed_fields

    version = mbr.submit(version)
    assert version.authored_signature.pk != authored.pk
    version = mbr.effective(mbr.approve(mbr.check(version)))
    assert version.status == VersionStatus.EFFECTIVE


def test_sign_form_fingerprint_must_match(mbr):
    from mbr_helpers import authority_for

    from galenic.core.context import action_context
    from galenic.recipes import services

    version = mbr.create()
    user = mbr.p["engineer"]
    with action_context("test"), pytest.raises(Conflict, match="changed after it was shown"):
        services.submit_for_review(
            actor=user,
            version=version,
            authority=authority_for(user),
            expected_content_sha256="0" * 64,
        )
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
