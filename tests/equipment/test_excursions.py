"""Limit checks on ingest: excursions open, escalate and close, and execution can find them."""

from __future__ import annotations

from datetime import timedelta

from equipment_helpers import D, ingest, item

from galenic.audit.models import AuditEvent
from galenic.core.timefmt import utcnow
from galenic.equipment import selectors
from galenic.equipment.models import Excursion, TagValue


def test_alert_then_action_then_back_in_range(plant):
    t0 = utcnow() - timedelta(seconds=60)
    values = ["25", "29", "33", "30", "26", "27"]
    result = ingest(
        plant, *[item(value=v, at=t0 + timedelta(seconds=n)) for n, v in enumerate(values)]
    )
    assert result.excursions_opened == 1
    excursion = Excursion.objects.get()
    assert (excursion.level, excursion.direction) == ("action", "high")
    assert excursion.limit == D("32")
    assert excursion.first_value == D("29")
    assert excursion.peak_value == D("33")
    assert excursion.started_at == t0 + timedelta(seconds=1)
    assert excursion.ended_at == t0 + timedelta(seconds=4)
    states = list(
        TagValue.objects.filter(tag=plant.temp_tag)
        .order_by("measured_at")
        .values_list("limit_state", flat=True)
    )
    assert states == ["ok", "alert", "action", "alert", "ok", "ok"]
    actions = list(
        AuditEvent.objects.filter(action__startswith="equipment.excursion").values_list(
            "action", flat=True
        )
    )
    assert actions == [
        "equipment.excursion.open",
        "equipment.excursion.escalate",
        "equipment.excursion.close",
    ]


def test_excursion_spanning_deliveries_stays_one(plant):
    t0 = utcnow() - timedelta(seconds=60)
    ingest(plant, item(value="10", at=t0))
    ingest(plant, item(value="11", at=t0 + timedelta(seconds=1)))
    ingest(plant, item(value="9", at=t0 + timedelta(seconds=2)))
    excursion = Excursion.objects.get()
    assert excursion.ended_at is None
    assert excursion.peak_value == D("9")
    assert excursion.value_count == 3


def test_redelivery_does_not_double_count(plant):
    t0 = utcnow() - timedelta(seconds=60)
    batch = [item(value="35", at=t0), item(value="36", at=t0 + timedelta(seconds=1))]
    ingest(plant, *batch)
    ingest(plant, *batch)
    assert Excursion.objects.get().value_count == 2


def test_execution_finds_excursions_during_a_step(plant):
    t0 = utcnow() - timedelta(minutes=10)
    ingest(plant, item(value="35", at=t0), item(value="25", at=t0 + timedelta(seconds=5)))
    ingest(plant, item(value="18", at=t0 + timedelta(minutes=5)))
    step = selectors.excursions_between(
        ["GRN-T1.temp"], t0 - timedelta(seconds=1), t0 + timedelta(minutes=1)
    )
    assert [(e.level, e.direction) for e in step] == [("action", "high")]
    later = selectors.excursions_between(None, t0 + timedelta(minutes=4), None)
    assert [(e.level, e.direction, e.ended_at) for e in later] == [("alert", "low", None)]
