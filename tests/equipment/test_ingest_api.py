"""The ingest endpoint: a gateway authenticates with its own token; people and bad tokens cannot."""

from __future__ import annotations

import json

from equipment_helpers import item

from galenic.core.context import action_context
from galenic.equipment import services
from galenic.equipment.models import TagValue


def _post(client, token, body, path="/api/v1/equipment/ingest"):
    return client.post(
        path,
        data=json.dumps(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"} if token else {},
    )


def test_gateway_delivers_with_its_token(plant, csrf_client):
    response = _post(csrf_client, plant.token, {"items": [item(seq=1), item(value="x", seq=2)]})
    assert response.status_code == 200
    answer = response.json()
    assert answer["accepted"] == 1
    assert answer["duplicates"] == 0
    assert answer["rejected"][0]["index"] == 1
    assert TagValue.objects.filter(tag=plant.temp_tag).count() == 1


def test_bad_or_rotated_token_is_401(plant, csrf_client):
    assert _post(csrf_client, "GW-T:wrong", {"items": []}).status_code == 401
    assert _post(csrf_client, "", {"items": []}).status_code == 401
    with action_context("test"):
        services.issue_gateway_token(actor=plant.admin, code="GW-T", reason="token leaked")
    assert _post(csrf_client, plant.token, {"items": []}).status_code == 401


def test_a_person_cannot_ingest(plant, personas, logged_in):
    client = logged_in(personas["admin"])
    response = client.post("/api/v1/equipment/ingest", data="{}", content_type="application/json")
    assert response.status_code == 401


def test_malformed_body_is_a_clear_400(plant, csrf_client):
    response = _post(csrf_client, plant.token, {"items": "nope"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "items"


def test_status_report_is_stored_and_changes_audited(plant, csrf_client):
    from galenic.audit.models import AuditEvent

    def report(state):
        return _post(
            csrf_client,
            plant.token,
            {"pending": 3, "connections": [{"name": "mqtt", "kind": "mqtt", "state": state}]},
            "/api/v1/equipment/gateway/status",
        )

    assert report("connected").status_code == 200
    assert report("connected").status_code == 200
    assert report("disconnected").status_code == 200
    connection = plant.gateway.connections.get(name="mqtt")
    assert connection.state == "disconnected"
    events = AuditEvent.objects.filter(action="equipment.gateway.connection")
    assert events.count() == 2  # connected, then disconnected; the repeat is not a change
