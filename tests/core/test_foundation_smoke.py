from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_health_needs_no_login(client):
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.django_db
def test_home_redirects_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_api_unauthenticated_is_401(client):
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.django_db
def test_openapi_is_served(client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "Galenic API"


def test_api_me_shows_roles(personas, logged_in):
    client = logged_in(personas["operator"])
    assert client.get("/api/v1/accounts/me").json()["roles"] == ["operator"]


def test_every_response_has_request_id(client, db):
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
