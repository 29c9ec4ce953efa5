"""Comments and attachments on any step: kept with the record, each an exception for the
reviewer; files stored under MEDIA_ROOT by SHA-256, with a size limit and a checked type."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from galenic.core.context import action_context
from galenic.core.errors import PermissionDenied, ValidationFailed
from galenic.execution import services
from galenic.execution.models import Attachment, BatchException, Comment

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _attach(floor, content=PNG, name="scale.png", content_type="image/png", **kw):
    with action_context("test"):
        return services.add_attachment(
            actor=kw.pop("user", floor.operator),
            number=floor.number,
            filename=name,
            content=content,
            content_type=content_type,
            **kw,
        )


def test_a_photo_is_kept_with_its_hash(floor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    floor.start()
    attachment = _attach(floor, step_key="clearance", description="room before clearance")
    digest = hashlib.sha256(PNG).hexdigest()
    assert attachment.sha256 == digest
    assert attachment.size == len(PNG)
    stored = Path(tmp_path) / attachment.path
    assert stored.read_bytes() == PNG
    assert attachment.step.step_key == "clearance"
    assert BatchException.objects.get(kind="attachment").context_dict()["sha256"] == digest


@pytest.mark.parametrize(
    ("content", "name", "content_type", "field"),
    [
        (b"", "x.png", "image/png", "file"),
        (b"MZ\x90\x00", "tool.exe", "application/x-msdownload", "content_type"),
        (b"<html>not a png</html>", "fake.png", "image/png", "content_type"),
        (b"\xff\xfe\x00bad", "notes.txt", "text/plain", "file"),
        (PNG, "", "image/png", "file"),
    ],
)
def test_bad_files_are_refused_naming_the_field(
    floor, settings, tmp_path, content, name, content_type, field
):
    settings.MEDIA_ROOT = tmp_path
    floor.start()
    with pytest.raises(ValidationFailed) as refused:
        _attach(floor, content=content, name=name, content_type=content_type)
    assert refused.value.field == field
    assert not Attachment.objects.exists()


def test_size_limit(floor, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.EXECUTION_MAX_ATTACHMENT_BYTES = 100
    floor.start()
    with pytest.raises(ValidationFailed) as refused:
        _attach(floor, content=PNG + b"\x00" * 100)
    assert "at most 100 bytes" in refused.value.message


def test_upload_and_download_through_the_api(floor, api, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    floor.start()
    client = api(floor.operator)
    answer = client.upload(
        "/api/v1/batches/B001/attachments",
        {
            "file": SimpleUploadedFile("label.png", PNG, content_type="image/png"),
            "step_key": "clearance",
            "description": "label photo",
        },
    )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["sha256"] == hashlib.sha256(PNG).hexdigest()
    download = client.get(body["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG
    assert download["X-Content-SHA256"] == body["sha256"]
    assert download["Content-Type"] == "image/png"


def test_comments_on_batch_step_and_entry(floor):
    floor.start()
    entry = floor.record("clearance", "temperature", "21")
    with action_context("test"):
        services.add_comment(actor=floor.supervisor, number=floor.number, text="shift change")
        services.add_comment(
            actor=floor.verifier, number=floor.number, text="thermometer TH-3", entry_id=entry.pk
        )
        with pytest.raises(PermissionDenied):
            services.add_comment(
                actor=floor.personas["inspector"], number=floor.number, text="I only read"
            )
    comments = list(Comment.objects.order_by("id"))
    assert [c.step is None for c in comments] == [True, False]
    assert comments[1].entry == entry
    assert BatchException.objects.filter(kind="comment").count() == 2
