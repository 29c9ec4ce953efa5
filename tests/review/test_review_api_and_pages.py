"""The review API and pages: the report with its summary, acknowledging, signing and releasing
through HTTP; who may see and do what."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db
CSRF = "r" * 32


class Api:
    def __init__(self, user: Any) -> None:
        from django.test import Client

        self.client = Client(enforce_csrf_checks=True)
        self.client.cookies["csrftoken"] = CSRF
        self.client.force_login(user)

    def get(self, path: str) -> Any:
        return self.client.get(path)

    def post(self, path: str, data: Any) -> Any:
        import json

        return self.client.post(
            path, json.dumps(data), content_type="application/json", headers={"X-CSRFToken": CSRF}
        )


def test_api_review_flow(run: Any, personas: dict[str, Any]) -> None:
    r = run()
    r.check(temperature="23.5")
    r.dry()
    r.count()
    r.complete()
    reviewer = Api(personas["reviewer"])
    got = reviewer.get(f"/api/v1/review/batches/{r.number}")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["summary"]["exceptions"] == 1
    assert {b["field"] for b in body["blockers"]} == {"review", "items"}
    [item] = body["items"]
    assert item["kind"] == "limit_excursion_alert"
    assert item["step"] == "check"

    empty = reviewer.post(
        f"/api/v1/review/batches/{r.number}/items/{item['id']}/acknowledge", {"comment": " "}
    )
    assert empty.status_code == 400
    assert empty.json()["errors"][0]["field"] == "comment"
    ok = reviewer.post(
        f"/api/v1/review/batches/{r.number}/items/{item['id']}/acknowledge",
        {"comment": "Within validated range."},
    )
    assert ok.status_code == 200
    assert ok.json()["acknowledgement"]["by"] == "quinn"

    signed = reviewer.post(
        f"/api/v1/review/batches/{r.number}/sign", {"user_id": "quinn", "password": PASSWORD}
    )
    assert signed.status_code == 200, signed.content
    assert signed.json()["status"] == "reviewed"

    denied = reviewer.post(f"/api/v1/review/batches/{r.number}/release", {"password": PASSWORD})
    assert denied.status_code == 403
    approver = Api(personas["approver"])
    released = approver.post(
        f"/api/v1/review/batches/{r.number}/release", {"user_id": "rita", "password": PASSWORD}
    )
    assert released.status_code == 200, released.content
    assert released.json()["batch_status"] == "released"
    assert [s["meaning"] for s in released.json()["signatures"]] == ["reviewed", "released"]


def test_pages(run: Any, personas: dict[str, Any], logged_in: Any) -> None:
    r = run()
    r.check(temperature="23.5")
    r.dry()
    r.count()
    r.complete()
    client = logged_in(personas["reviewer"])
    listing = client.get(reverse("review:list"))
    assert listing.status_code == 200
    assert r.number in listing.content.decode()
    page = client.get(reverse("review:detail", args=[r.number])).content.decode()
    assert 'data-testid="exception-report"' in page
    assert "Alert-limit excursion" in page
    assert reverse("review:record", args=[r.number]) in page  # the full record, one click away
    record = client.get(reverse("review:record", args=[r.number])).content.decode()
    assert "Room temperature" in record
    assert "23.5" in record
    assert (
        logged_in(personas["operator"]).get(reverse("review:detail", args=[r.number])).status_code
        == 403
    )
