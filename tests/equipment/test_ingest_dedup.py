"""At-least-once delivery: the same (source, tag, seq) delivered twice is stored once."""

from __future__ import annotations

from datetime import timedelta

from equipment_helpers import D, ingest, item

from galenic.core.timefmt import utcnow
from galenic.equipment.models import TagValue


def test_batch_is_stored_with_its_provenance(plant):
    at = utcnow() - timedelta(seconds=2)
    result = ingest(plant, item(value="24.5", at=at, seq=7))
    assert (result.accepted, result.duplicates, result.rejected) == (1, 0, [])
    stored = TagValue.objects.get(tag=plant.temp_tag, seq=7)
    assert stored.value == D("24.5")
    assert stored.measured_at == at
    assert stored.device_time == at
    assert stored.gateway_received_at == at
    assert stored.stored_at >= at  # the server's own clock
    assert stored.gateway_id == plant.gateway.pk
    assert stored.limit_state == "ok"


def test_redelivered_batch_is_not_duplicated(plant):
    batch = [item(value=str(20 + n), seq=n) for n in range(1, 6)]
    first = ingest(plant, *batch)
    again = ingest(plant, *batch, item(value="25", seq=6))
    assert (first.accepted, first.duplicates) == (5, 0)
    assert (again.accepted, again.duplicates) == (1, 5)
    assert TagValue.objects.filter(tag=plant.temp_tag).count() == 6


def test_same_seq_twice_in_one_batch_is_stored_once(plant):
    result = ingest(plant, item(seq=1), item(seq=1))
    assert (result.accepted, result.duplicates) == (1, 1)


def test_tag_values_are_append_only(plant):
    ingest(plant, item(seq=1))
    import pytest

    with pytest.raises(PermissionError):
        TagValue.objects.filter(tag=plant.temp_tag).update(value=D("1"))
    with pytest.raises(PermissionError):
        TagValue.objects.filter(tag=plant.temp_tag).delete()
    value = TagValue.objects.get(tag=plant.temp_tag)
    value.value = D("99")
    with pytest.raises(PermissionError):
        value.save()
