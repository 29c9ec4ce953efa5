"""An MBR with any validation problem cannot be sent for review; every problem is listed with
its path (and nothing is recorded)."""

from __future__ import annotations

import pytest

from galenic.core.errors import ValidationFailed
from galenic.recipes.models import VersionStatus
from galenic.signatures.models import Signature


def test_invalid_draft_cannot_be_sent_for_review(mbr, tiny_doc):
    from galenic.recipes.document import to_data
    from galenic.recipes.document.validate import parse

    data = to_data(tiny_doc)
    step = data["unit_procedures"][0]["operations"][1]["steps"][0]
    step["parameters"][0]["alert_low"] = 35  # above alert_high 28 and action_high 30
    del data["precautions"]
    version = mbr.create(parse(data))

    with pytest.raises(ValidationFailed) as caught:
        mbr.submit(version)
    fields = {e.field for e in caught.value.errors}
    assert "unit_procedures[0].operations[1].steps[0].parameters[0].alert_high" in fields
    assert "precautions" in fields
    assert "cannot be sent for review" in caught.value.message
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    assert version.authored_signature is None
    assert not Signature.objects.filter(meaning="authored").exists()


def test_valid_draft_can_be_sent(mbr):
    version = mbr.submit(mbr.create())
    assert version.status == VersionStatus.IN_REVIEW
    assert version.authored_signature.meaning == "authored"
