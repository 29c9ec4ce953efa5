"""Oversized requests are refused with 413 and a message saying the limit, before anything is
read into memory or recorded; an attachment over its own limit is refused naming the field."""

from __future__ import annotations

import json

import pytest

from galenic.audit.models import AuditEvent

pytestmark = pytest.mark.django_db

B = "/api/v1/batches"


def _head() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def test_defaults_are_set_and_sane(settings):
    assert settings.MAX_REQUEST_BYTES > 10 * 1024 * 1024  # room for a full-size attachment
    assert 1024 * 1024 <= settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= settings.MAX_REQUEST_BYTES


def test_a_request_over_the_limit_is_refused_before_reading_it(caller, settings):
    settings.MAX_REQUEST_BYTES = 4096
    head = _head()
    olivia = caller("operator")
    body = {"key": "note", "value": "x" * 5000}
    answer = olivia.call("POST", f"{B}/SEC-PERF/steps/weigh/values", body)
    assert answer.status_code == 413
    payload = answer.json()
    assert payload["code"] == "too_large"
    assert "4096" in payload["message"]
    page = olivia.call(
        "POST", "/batches/SEC-RUN/steps/weigh/comment/", {"text": "y" * 5000}, content_type="form"
    )
    assert page.status_code == 413
    assert "4096" in page.content.decode()
    assert not AuditEvent.objects.filter(seq__gt=head).exclude(category="security").exists()


def test_a_json_body_over_the_body_limit_is_413_with_the_error_shape(caller, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    olivia = caller("operator")
    answer = olivia.call(
        "POST", f"{B}/SEC-PERF/steps/weigh/values", {"key": "note", "value": "x" * 3000}
    )
    assert answer.status_code == 413, answer.content
    assert set(answer.json()) == {"code", "message", "errors"}
    assert "2048" in answer.json()["message"]


def test_a_form_over_the_body_limit_is_413(caller, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    olivia = caller("operator")
    page = olivia.call(
        "POST", "/batches/SEC-RUN/steps/weigh/comment/", {"text": "y" * 3000}, content_type="form"
    )
    assert page.status_code == 413
    assert "2048" in page.content.decode()


def test_an_mbr_document_over_the_body_limit_is_413(caller, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    petra = caller("engineer")
    answer = petra.call(
        "POST", "/api/v1/mbrs/validate", "title: " + "x" * 4000, content_type="application/yaml"
    )
    assert answer.status_code == 413


def test_an_attachment_over_its_limit_names_the_file_field(caller, settings):
    settings.EXECUTION_MAX_ATTACHMENT_BYTES = 1000
    olivia = caller("operator")
    answer = olivia.client.post(
        f"{B}/SEC-RUN/attachments",
        {"file": _upload(b"z" * 2000), "step_key": "weigh"},
        headers=olivia.headers,
    )
    assert answer.status_code == 400, answer.content
    assert answer.json()["errors"][0]["field"] == "file"
    assert "1000" in json.dumps(answer.json())


def _upload(content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("big.txt", content, "text/plain")
