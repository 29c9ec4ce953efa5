"""211.188(a): a supervisor issues a batch from the effective MBR version; the batch keeps a
frozen copy of the document and its hash; the batch size scales the quantities."""

from __future__ import annotations

from decimal import Decimal

import pytest
from execution_helpers import DATA, effective_version

from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from galenic.execution import selectors, services
from galenic.execution.models import Batch, BatchStatus
from galenic.recipes.document import io

pytestmark = pytest.mark.django_db


def _create(personas, **kw):
    kw.setdefault("mbr", "MBR-LINE")
    kw.setdefault("number", "B100")
    with action_context("test"):
        return services.create_batch(actor=personas["supervisor"], **kw)


def test_batch_is_a_frozen_copy_of_the_effective_version(personas):
    version = effective_version(personas["engineer"])
    batch = _create(personas, batch_size="2000 tablet", planned_start="2026-12-01T06:00:00+01:00")
    assert batch.status == BatchStatus.CREATED
    assert batch.master_version == version
    assert (batch.mbr_code, batch.mbr_version) == ("MBR-LINE", 1)
    assert batch.document_json == version.document_json
    assert (
        batch.document_hash
        == version.content_hash
        == io.content_hash(io.load_json(batch.document_json))
    )
    assert batch.batch_size == "2000 tablet"
    assert batch.product_name == "Linetab 500 mg tablets"
    event = AuditEvent.objects.get(action="execution.batch.create")
    assert '"document_hash"' in event.new_values
    # A later version does not change the issued batch.
    text = (DATA / "line.yaml").read_text()
    effective_version(personas["engineer"], text=text.replace("Line test record", "Line v2"))
    assert Batch.objects.get(pk=batch.pk).document_hash == version.content_hash


def test_quantities_scale_with_the_batch_size(personas):
    effective_version(personas["engineer"])
    batch = _create(personas, batch_size="2000 tablet")
    [api] = selectors.flow_of(batch).materials("weigh")
    assert api.quantity.magnitude == Decimal("1000")
    assert api.quantity.unit == "g"
    assert api.limits is not None
    assert (api.limits.action_low, api.limits.action_high) == (Decimal("990"), Decimal("1010"))


def test_default_size_is_the_nominal_one(personas):
    effective_version(personas["engineer"])
    assert _create(personas).batch_size == "1000 tablet"


@pytest.mark.parametrize(
    ("kw", "field", "words"),
    [
        ({"batch_size": "5000 tablet"}, "batch_size", "above the largest"),
        ({"batch_size": "100 tablet"}, "batch_size", "below the smallest"),
        ({"batch_size": "12 kg"}, "batch_size", "cannot be compared"),
        ({"batch_size": "12 blorbs"}, "batch_size", "unknown unit"),
        ({"number": "B 1/2"}, "number", "letters, digits"),
        (
            {"planned_start": "2026-12-02T00:00:00Z", "planned_end": "2026-12-01T00:00:00Z"},
            "planned_end",
            "before",
        ),
        ({"planned_start": "tomorrow"}, "planned_start", "date-time"),
    ],
)
def test_bad_creation_input_names_the_field(personas, kw, field, words):
    effective_version(personas["engineer"])
    with pytest.raises(ValidationFailed) as refused:
        _create(personas, **kw)
    assert refused.value.field == field
    assert words in refused.value.message
    assert not Batch.objects.exists()


def test_no_effective_version_is_not_found(personas):
    with pytest.raises(NotFound) as missing:
        _create(personas, mbr="MBR-NOPE")
    assert missing.value.field == "mbr"


def test_batch_numbers_are_unique(personas):
    effective_version(personas["engineer"])
    _create(personas)
    with pytest.raises(Conflict) as refused:
        _create(personas)
    assert refused.value.field == "number"


@pytest.mark.parametrize(
    "role", ["operator", "verifier", "engineer", "reviewer", "approver", "admin", "inspector"]
)
def test_only_supervisors_create(personas, role):
    effective_version(personas["engineer"])
    with action_context("test"), pytest.raises(PermissionDenied):
        services.create_batch(actor=personas[role], mbr="MBR-LINE", number="B1")
