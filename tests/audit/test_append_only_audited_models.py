"""STYLE.md #3: bulk update()/delete() on audited models raise; update_audited writes one event
per changed row, with old and new values, in the caller's transaction."""

from __future__ import annotations

import pytest
from django.db import connection, models, transaction

from galenic.audit.models import AppendOnlyViolation, AuditedModel, AuditEvent


class Vessel(AuditedModel):
    """A stand-in GMP record (table created by the test; not part of any migration)."""

    code = models.CharField(max_length=20)
    status = models.CharField(max_length=20)

    class Meta:
        app_label = "audit"
        db_table = "test_audited_vessel"
        managed = False

    def __str__(self) -> str:
        return self.code


@pytest.fixture
def vessels(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE test_audited_vessel (id INTEGER PRIMARY KEY, code VARCHAR(20), "
            "status VARCHAR(20))"
        )
    for i, status in enumerate(["clean", "clean", "dirty"], start=1):
        Vessel.objects.create(id=i, code=f"V-{i}", status=status)
    return Vessel


def test_append_only_audited_model_refuses_bulk_update(vessels):
    with pytest.raises(AppendOnlyViolation, match="bulk update"):
        vessels.objects.filter(status="clean").update(status="dirty")
    assert vessels.objects.filter(status="clean").count() == 2


def test_append_only_audited_model_refuses_bulk_delete(vessels):
    with pytest.raises(AppendOnlyViolation, match="bulk delete"):
        vessels.objects.all().delete()
    with pytest.raises(AppendOnlyViolation):
        vessels.objects.bulk_update(list(vessels.objects.all()), ["status"])
    assert vessels.objects.count() == 3


def test_update_audited_writes_one_event_per_changed_row(vessels, personas):
    with transaction.atomic():
        changed = vessels.objects.filter(code__in=["V-1", "V-3"]).update_audited(
            actor=personas["supervisor"],
            action="test.vessel.mark_dirty",
            reason="spill",
            status="dirty",
        )
    assert changed == 1  # V-3 was already dirty: nothing to record
    events = list(AuditEvent.objects.filter(action="test.vessel.mark_dirty"))
    assert len(events) == 1
    assert events[0].object_id == "1"
    assert events[0].old_values == '{"status":"clean"}'
    assert events[0].new_values == '{"status":"dirty"}'
    assert events[0].reason == "spill"
    assert events[0].actor_username == personas["supervisor"].username


def test_single_instance_save_still_works(vessels):
    vessel = vessels.objects.get(code="V-2")
    vessel.status = "in use"
    vessel.save()
    assert vessels.objects.get(code="V-2").status == "in use"
