"""Deviations (211.100(b), 211.192): opened at once by execution or by a person, classified
and investigated by QA, closed with a signature by someone other than who opened it."""

from __future__ import annotations

import pytest

from galenic.audit.models import AuditEvent
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed
from galenic.quality.models import Deviation, DeviationStatus
from galenic.signatures.models import Signature
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

D = "/api/v1/deviations"


@pytest.fixture
def excursion(floor):
    floor.start()
    floor.record("clearance", "temperature", "30", comment="HVAC down")
    return Deviation.objects.get()


def _client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def _post(client, path, data):
    return client.post(path, data, content_type="application/json")


def test_excursion_deviation_is_listed_for_its_batch(excursion, personas):
    answer = _client(personas["inspector"]).get(D + "/", {"batch": "B001", "open": True})
    [row] = answer.json()
    assert row["number"] == excursion.number
    assert (row["batch"], row["step"], row["source"]) == ("B001", "clearance", "limit_excursion")
    assert row["entry"] == excursion.entry_id


def test_classify_investigate_close(excursion, personas):
    quinn, rita = _client(personas["reviewer"]), _client(personas["approver"])
    path = f"{D}/{excursion.number}"
    refused = _post(quinn, f"{path}/classify", {"classification": "minor", "reason": ""})
    assert refused.json()["errors"][0]["field"] == "reason"
    classified = _post(
        quinn, f"{path}/classify", {"classification": "minor", "reason": "no product exposed"}
    )
    assert classified.json()["classification"] == "minor"
    bad = _post(quinn, f"{path}/classify", {"classification": "tiny", "reason": "x"})
    assert bad.json()["errors"][0]["field"] == "classification"
    investigated = _post(quinn, f"{path}/investigate", {"investigation": "Chiller fault logged"})
    assert investigated.json()["status"] == "under_investigation"
    assert (
        _post(quinn, f"{path}/close", {"conclusion": "ok", "password": PASSWORD}).status_code == 403
    )
    closed = _post(
        rita,
        f"{path}/close",
        {"conclusion": "Chiller repaired; CAPA-12", "user_id": "rita", "password": PASSWORD},
    )
    assert closed.status_code == 200, closed.json()
    body = closed.json()
    assert body["status"] == "closed"
    assert [s["meaning"] for s in body["signatures"]] == ["approved"]
    assert Signature.objects.get(object_type="quality.deviation").signer_user_id == "rita"
    again = _post(
        rita, f"{path}/close", {"conclusion": "x", "user_id": "rita", "password": PASSWORD}
    )
    assert again.status_code == 409
    actions = set(
        AuditEvent.objects.filter(object_type="quality.deviation").values_list("action", flat=True)
    )
    assert {
        "quality.deviation.open",
        "quality.deviation.classify",
        "quality.deviation.investigate",
        "quality.deviation.close",
    } <= actions


def test_a_person_reports_a_deviation_on_a_step(floor, personas):
    from galenic.core.context import action_context
    from galenic.execution.models import BatchException
    from galenic.quality import services

    floor.start()
    with action_context("test"):
        deviation = services.open_deviation(
            actor=floor.operator,
            title="Wrong gloves",
            description="Latex gloves used instead of nitrile.",
            batch_number="B001",
            step_key="clearance",
        )
    assert deviation.status == DeviationStatus.OPEN
    assert deviation.step.step_key == "clearance"
    assert BatchException.objects.get(kind="deviation").deviations.get() == deviation
    with action_context("test"), pytest.raises(ValidationFailed):
        services.open_deviation(actor=floor.operator, title="", description="x")
    with action_context("test"), pytest.raises(PermissionDenied):
        services.open_deviation(
            actor=personas["inspector"], title="x", description="y", batch_number="B001"
        )


def test_nobody_closes_their_own_deviation(floor, personas):
    from galenic.core.context import action_context
    from galenic.quality import services
    from galenic.signatures import services as signatures

    with action_context("test"):
        deviation = services.open_deviation(
            actor=personas["approver"], title="Audit finding", description="Logbook gap."
        )
    authority = signatures.authenticate_signer(
        session=None, actor=personas["approver"], user_id="rita", password=PASSWORD
    )
    with action_context("test"), pytest.raises(PermissionDenied):
        services.close_deviation(
            actor=personas["approver"],
            authority=authority,
            number=deviation.number,
            conclusion="fine",
        )


def test_stale_row_version_is_a_conflict(excursion, personas):
    from galenic.core.context import action_context
    from galenic.quality import services

    with action_context("test"):
        services.classify_deviation(
            actor=personas["reviewer"],
            number=excursion.number,
            classification="minor",
            reason="r",
            row_version=1,
        )
        with pytest.raises(Conflict):
            services.classify_deviation(
                actor=personas["reviewer"],
                number=excursion.number,
                classification="critical",
                reason="r",
                row_version=1,
            )
