"""The audit trail page: filters, an htmx-updated table, export links, times with their zone,
a navigation entry for readers only, and on-demand verification for those who may verify."""

from __future__ import annotations

from django.db import transaction

from galenic.audit import services as audit
from galenic.core.navigation import nav_items_for


def _page(client, path="/audit/", **headers):
    response = client.get(path, **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_audit_page_lists_events_with_zone_and_exports(personas, logged_in, settings):
    settings.DISPLAY_TIME_ZONE = "Europe/Berlin"
    with transaction.atomic():
        audit.record(
            actor=personas["engineer"],
            action="recipes.mbr.update",
            object_type="recipes.mbr",
            object_id="7",
            object_repr="MBR-7",
            old={"status": "draft"},
            new={"status": "in review"},
            reason="ready",
        )
    html = _page(logged_in(personas["inspector"]))
    assert 'data-testid="audit-table"' in html
    assert "recipes.mbr.update" in html
    assert "MBR-7" in html
    assert "draft" in html
    assert "in review" in html
    assert "(UTC+01:00)" in html or "(UTC+02:00)" in html  # gmp_datetime: zone and offset
    assert "/api/v1/audit/export.csv" in html
    assert "/api/v1/audit/export.json" in html


def test_audit_page_filters_by_object_via_htmx(personas, logged_in):
    with transaction.atomic():
        audit.record(actor=None, action="test.a", object_type="test.thing", object_id="1")
        audit.record(actor=None, action="test.b", object_type="test.thing", object_id="2")
    html = _page(
        logged_in(personas["admin"]),
        "/audit/?object_type=test.thing&object_id=2",
        HTTP_HX_REQUEST="true",
    )
    assert "<html" not in html  # a fragment for htmx to swap in
    assert "test.b" in html
    assert "test.a" not in html
    assert "export.csv?object_type=test.thing&amp;object_id=2" in html


def test_audit_page_shows_bad_filter_input(personas, logged_in):
    html = _page(logged_in(personas["admin"]), "/audit/?since=not-a-date")
    assert "since" in html
    assert "is not a date" in html


def test_audit_page_refused_to_operators(personas, logged_in):
    response = logged_in(personas["operator"]).get("/audit/")
    assert response.status_code == 403


def test_audit_nav_item_only_for_readers(personas):
    def labels(user):
        return [item.label for item in nav_items_for(user)]

    assert "Audit trail" in labels(personas["inspector"])
    assert "Audit trail" in labels(personas["reviewer"])
    assert "Audit trail" not in labels(personas["operator"])


def test_audit_page_verify_button(personas, logged_in):
    with transaction.atomic():
        audit.record(actor=None, action="test.a")
    client = logged_in(personas["inspector"])
    assert 'data-testid="verify-button"' in _page(client)
    response = client.post(
        "/audit/verify/", HTTP_HX_REQUEST="true", HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value
    )
    assert response.status_code == 200
    assert 'data-testid="verify-ok"' in response.content.decode()
    reviewer = logged_in(personas["reviewer"])  # may read, may not verify
    assert 'data-testid="verify-button"' not in _page(reviewer)
