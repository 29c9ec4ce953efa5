"""The equipment pages show registry, calibration, connection states and live values with age."""

from __future__ import annotations

import json
from datetime import timedelta

from equipment_helpers import ingest, item, weight

from galenic.core.timefmt import utcnow


def test_registry_live_values_and_stale_marking(plant, personas, logged_in):
    ingest(plant, weight("12.340"), item(value="24.5", at=utcnow() - timedelta(seconds=40)))
    client = logged_in(personas["operator"])
    page = client.get("/equipment/").content.decode()
    assert "B512345678" in page
    assert "Calibrated" in page
    assert "12.34 g" in page
    assert "stale (max 10 s)" in page  # the temperature is 40 s old
    live = client.get("/equipment/live/", headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in live
    assert "GRN-T1.temp" in live


def test_connection_state_is_shown(plant, personas, logged_in, csrf_client):
    csrf_client.post(
        "/api/v1/equipment/gateway/status",
        data=json.dumps(
            {
                "connections": [
                    {
                        "name": "mqtt",
                        "kind": "mqtt",
                        "state": "disconnected",
                        "detail": "mqtt://127.0.0.1:1883: connection refused; reconnecting",
                    }
                ]
            }
        ),
        content_type="application/json",
        headers={"Authorization": f"Bearer {plant.token}"},
    )
    page = logged_in(personas["inspector"]).get("/equipment/live/").content.decode()
    assert "disconnected" in page
    assert "reconnecting" in page


def test_detail_page(plant, personas, logged_in):
    client = logged_in(personas["reviewer"])
    page = client.get("/equipment/BAL-T1/").content.decode()
    assert "Calibration history" in page
    assert "B512345678" in page
    assert client.get("/equipment/NOPE/").status_code == 404


def test_anonymous_is_sent_to_login(client, db):
    response = client.get("/equipment/")
    assert response.status_code == 302
