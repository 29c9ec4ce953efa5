"""Step images and label specimens are attached to a draft through the API, kept by SHA-256, listed
in the document and served back byte for byte; bad files are refused naming the field."""

from __future__ import annotations

import hashlib

from django.core.files.uploadedfile import SimpleUploadedFile

CSRF = "k" * 32  # as the api fixture's cookie

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00"
    b"\x00\x00IEND\xaeB`\x82"
)


def _import(api, personas, tiny_text):
    client = api(personas["engineer"])
    created = client.send("post", "/api/v1/mbrs/?reason=import", tiny_text, "application/yaml")
    assert created.status_code == 201, created.content
    return client, created.json()


def _upload(client, data):
    return client.client.post(
        "/api/v1/mbrs/MBR-TINY/versions/1/attachments", data, headers={"X-CSRFToken": CSRF}
    )


def test_an_image_is_attached_listed_and_served_back(api, personas, tiny_text):
    client, version = _import(api, personas, tiny_text)
    answer = _upload(
        client,
        {
            "file": SimpleUploadedFile("granulator.png", PNG, content_type="image/png"),
            "attachment_id": "granulator_photo",
            "description": "Granulator bowl, lid open",
            "row_version": version["row_version"],
            "reason": "photo for the operators",
        },
    )
    assert answer.status_code == 201, answer.content
    digest = hashlib.sha256(PNG).hexdigest()
    attachments = answer.json()["document"]["attachments"]
    assert {"id": "granulator_photo", "sha256": digest}.items() <= attachments[-1].items()
    served = api(personas["inspector"]).get(f"/api/v1/mbrs/attachments/{digest}")
    assert served.status_code == 200
    assert served.content == PNG
    assert served["X-Content-SHA256"] == digest


def test_a_file_of_the_wrong_kind_is_refused_naming_the_field(api, personas, tiny_text):
    client, version = _import(api, personas, tiny_text)
    answer = _upload(
        client,
        {
            "file": SimpleUploadedFile("run.sh", b"#!/bin/sh\n", content_type="text/x-shellscript"),
            "attachment_id": "script",
            "row_version": version["row_version"],
        },
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "file"
    after = api(personas["engineer"]).get("/api/v1/mbrs/MBR-TINY/versions/1").json()
    assert after["document"] == version["document"]
    assert after["row_version"] == version["row_version"]


def test_an_operator_cannot_attach(api, personas, tiny_text):
    _import(api, personas, tiny_text)
    answer = _upload(
        api(personas["operator"]),
        {
            "file": SimpleUploadedFile("a.png", PNG, content_type="image/png"),
            "attachment_id": "a",
        },
    )
    assert answer.status_code == 403


def test_an_unknown_attachment_is_not_found(api, personas):
    answer = api(personas["inspector"]).get("/api/v1/mbrs/attachments/" + "0" * 64)
    assert answer.status_code == 404
