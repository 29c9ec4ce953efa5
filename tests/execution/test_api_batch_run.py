"""The API runs a batch end to end, each person through their own session, and answers with
what the operator's screen needs (current steps, limits, instant evaluation)."""

from __future__ import annotations

from typing import Any

import pytest
from execution_helpers import effective_version

from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

B = "/api/v1/batches"


def _sign(user: Any, **extra: Any) -> dict[str, Any]:
    return {"user_id": user.username, "password": PASSWORD, **extra}


def test_a_batch_runs_through_the_api(floor, api):
    effective_version(floor.personas["engineer"])
    sam, olivia, victor = (api(floor.supervisor), api(floor.operator), api(floor.verifier))

    created = sam.post(f"{B}/", {"mbr": "MBR-LINE", "number": "API-1", "batch_size": "2000 tablet"})
    assert created.status_code == 201, created.json()
    assert created.json()["status"] == "created"
    assert sam.post(f"{B}/API-1/release", _sign(floor.supervisor)).json()["status"] == (
        "released_to_floor"
    )
    assert olivia.post(f"{B}/API-1/start").json()["status"] == "in_progress"

    detail = olivia.get(f"{B}/API-1").json()
    assert [s["key"] for s in detail["current"]] == ["clearance"]
    [clearance] = detail["current"]
    temperature = next(p for p in clearance["parameters"] if p["key"] == "temperature")
    assert temperature["limits"]["action_high"] == "25"
    assert temperature["unit"] == "°C"
    assert {s["flow_status"] for s in detail["steps"][1:]} == {"pending"}

    answer = olivia.post(f"{B}/API-1/steps/clearance/values", {"key": "temperature", "value": "24"})
    assert answer.status_code == 201
    body = answer.json()
    assert body["entries"][0]["outcome"] == "alert_high"
    assert body["entries"][0]["evaluation"] == "24.0 °C is above the alert limit 23 °C"
    assert body["comment_required"] == []
    olivia.post(f"{B}/API-1/steps/clearance/values", {"key": "room_clear", "value": True})
    step = olivia.get(f"{B}/API-1/steps/clearance").json()
    performed = olivia.post(
        f"{B}/API-1/steps/clearance/perform",
        _sign(floor.operator, content_sha256=step["content_sha256"]),
    )
    assert performed.status_code == 200, performed.json()
    assert performed.json()["status"] == "completed"

    weigh = olivia.get(f"{B}/API-1/steps/weigh").json()
    assert weigh["materials"][0]["quantity"] == "1000 g"  # scaled to 2000 tablets
    assert (weigh["materials"][0]["low"], weigh["materials"][0]["high"]) == ("990", "1010")
    many = olivia.post(
        f"{B}/API-1/steps/weigh/values/batch",
        {
            "values": [
                {"material": "API-L", "value": "1.0003", "unit": "kg"},
                {"key": "check_weight", "value": "0.5", "unit": "g"},
            ]
        },
    )
    assert many.status_code == 201, many.json()
    assert [e["value"] for e in many.json()["entries"]] == ["1000.3", "500"]
    olivia.post(f"{B}/API-1/steps/weigh/perform", _sign(floor.operator))
    verified = victor.post(f"{B}/API-1/steps/weigh/verify", _sign(floor.verifier))
    assert verified.status_code == 200, verified.json()
    assert verified.json()["verified_by"] == "victor"
    assert [s["meaning"] for s in verified.json()["signatures"]] == ["performed", "verified"]

    olivia.post(f"{B}/API-1/steps/press/values", {"key": "force", "value": 12})
    olivia.post(f"{B}/API-1/steps/press/perform", _sign(floor.operator))
    olivia.post(
        f"{B}/API-1/steps/count/values/batch",
        {"values": [{"key": "good_tablets", "value": "1970"}, {"key": "rejected", "value": "20"}]},
    )
    count = olivia.get(f"{B}/API-1/steps/count").json()
    total = next(p for p in count["parameters"] if p["key"] == "total")
    assert total["provisional"]["value"] == "1990"  # shown before performing, never typed
    olivia.post(f"{B}/API-1/steps/count/perform", _sign(floor.operator))
    sam.post(f"{B}/API-1/steps/count/approve", _sign(floor.supervisor))
    done = sam.post(f"{B}/API-1/complete")
    assert done.status_code == 200, done.json()
    assert done.json()["yield_result"] == {
        "actual": "1970 tablet",
        "theoretical": "2000 tablet",
        "percent": "98.5",
        "within_limits": True,
    }
    exceptions = sam.get(f"{B}/API-1/exceptions").json()
    assert [x["kind"] for x in exceptions] == ["limit_excursion_alert"]
    entries = sam.get(f"{B}/API-1/entries").json()
    assert [e["key"] for e in entries if e["kind"] == "calculated"] == ["total"]
    assert sam.get(f"{B}/", {"status": "completed"}).json()[0]["number"] == "API-1"


def test_openapi_documents_the_batch_endpoints(client, db):
    spec = client.get("/api/v1/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/v1/batches/",
        "/api/v1/batches/{number}",
        "/api/v1/batches/{number}/steps/{step_key}/values",
        "/api/v1/batches/{number}/steps/{step_key}/perform",
        "/api/v1/batches/{number}/steps/{step_key}/verify",
        "/api/v1/batches/{number}/entries/{entry_id}/correct",
        "/api/v1/batches/{number}/exceptions",
        "/api/v1/batches/{number}/hold",
        "/api/v1/deviations/",
    ):
        assert path in paths, path
