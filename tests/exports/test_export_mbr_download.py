"""MBR downloads through the API and the UI link: PDF to read, YAML/JSON to reuse; each export
is audited; a stranger gets 401, an unknown version 404, an unknown format 400."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from galenic.audit.models import AuditEvent
from galenic.recipes.document import content_hash, load_json, load_yaml

pytestmark = pytest.mark.django_db


def test_ui_links_download_pdf_yaml_and_json(
    mbr_version: Any, personas: dict[str, Any], logged_in: Any
) -> None:
    client = logged_in(personas["operator"])
    pdf = client.get(reverse("exports:mbr_pdf", args=[mbr_version.pk]))
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert 'filename="MBR-PCM500-TAB-v1.pdf"' in pdf["Content-Disposition"]
    assert len(pdf["X-Record-SHA256"]) == 64

    yaml_text = client.get(reverse("exports:mbr_yaml", args=[mbr_version.pk])).content.decode()
    json_text = client.get(reverse("exports:mbr_json", args=[mbr_version.pk])).content.decode()
    # Re-imported, both are exactly the stored document (same content hash).
    assert content_hash(load_yaml(yaml_text)) == mbr_version.content_hash
    assert content_hash(load_json(json_text)) == mbr_version.content_hash


def test_api_download_and_audit_event(
    mbr_version: Any, personas: dict[str, Any], logged_in: Any
) -> None:
    client = logged_in(personas["inspector"])
    response = client.get(f"/api/v1/exports/mbr-versions/{mbr_version.pk}/pdf")
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="exports.mbr.export")
    assert event.actor_username == "ian"
    assert event.object_id == str(mbr_version.pk)
    assert response["X-Record-SHA256"] in event.new_values


def test_refusals(mbr_version: Any, personas: dict[str, Any], client: Any, logged_in: Any) -> None:
    assert client.get(f"/api/v1/exports/mbr-versions/{mbr_version.pk}/pdf").status_code == 401
    c = logged_in(personas["operator"])
    missing = c.get("/api/v1/exports/mbr-versions/999999/pdf")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["field"] == "version"
    bad = c.get(f"/api/v1/exports/mbr-versions/{mbr_version.pk}/docx")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "format"
    assert not AuditEvent.objects.filter(action="exports.mbr.export").exists()


def test_links_snippet_for_the_recipes_ui(mbr_version: Any) -> None:
    from django.template.loader import render_to_string

    html = render_to_string("exports/_mbr_links.html", {"version": mbr_version})
    assert f"/exports/mbr-versions/{mbr_version.pk}.pdf" in html
    assert f"/exports/mbr-versions/{mbr_version.pk}.yaml" in html
