"""Lifecycle from the version page (not the browser test's path): the sign form refuses a wrong
password in place, the approver sees the diff against the effective version, send back, new
version and retire with their reasons."""

from __future__ import annotations

from galenic.testing.support import PASSWORD


def _post(client, url, data, htmx=False):
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(url, data, **extra)


def test_wrong_password_keeps_the_form_and_changes_nothing(ui, mbr):
    version = mbr.create()
    client = ui(mbr.p["engineer"])
    answer = _post(
        client,
        "/mbrs/MBR-TINY/v1/sign/submit/",
        {"user_id": "petra", "password": "wrong"},
        htmx=True,
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert 'data-testid="sign-form"' in html
    assert "The password is not correct." in html
    version.refresh_from_db()
    assert version.status == "draft"

    answer = _post(
        client,
        "/mbrs/MBR-TINY/v1/sign/submit/",
        {"user_id": "petra", "password": PASSWORD},
        htmx=True,
    )
    assert answer.status_code == 204
    assert answer["HX-Redirect"] == "/mbrs/MBR-TINY/v1/"
    version.refresh_from_db()
    assert version.status == "in_review"


def test_approver_sees_the_diff_against_the_effective_version(ui, mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services
    from galenic.recipes.editing import EditOp

    v1 = mbr.to_effective()
    with action_context("test"):
        v2 = services.new_version(actor=mbr.p["engineer"], version=v1, reason="pH")
        v2 = services.edit_document(
            actor=mbr.p["engineer"],
            version=v2,
            ops=[
                EditOp(
                    "set",
                    "unit_procedures[0].operations[3].steps[0].parameters[0]",
                    values={"action_high": "5.4"},
                )
            ],
            expected_row_version=None,
        )
    v2 = mbr.check(mbr.submit(v2))
    page = ui(mbr.p["approver"]).get("/mbrs/MBR-TINY/v2/")
    html = page.content.decode()
    assert 'id="sign-approve"' in html
    assert 'data-testid="review-diff"' in html
    assert "the effective version" in html
    assert "dissolve.ph action_high: 5.5 → 5.4" in html
    # The author sees no approve form for their own version.
    own = ui(mbr.p["engineer"]).get("/mbrs/MBR-TINY/v2/").content.decode()
    assert 'id="sign-approve"' not in own
    assert "you cannot check or approve it" in own


def test_send_back_new_version_and_retire_need_reasons(ui, mbr):
    from galenic.recipes.models import MasterRecordVersion

    version = mbr.submit(mbr.create())
    reviewer = ui(mbr.p["reviewer"])
    refused = reviewer.post("/mbrs/MBR-TINY/v1/do/reject/", {"reason": ""}, follow=True)
    assert "Give the reason for this change." in refused.content.decode()
    reviewer.post("/mbrs/MBR-TINY/v1/do/reject/", {"reason": "add sampling detail"})
    version.refresh_from_db()
    assert version.status == "draft"

    version = mbr.to_effective(version)
    engineer = ui(mbr.p["engineer"])
    answer = engineer.post("/mbrs/MBR-TINY/v1/new-version/", {"reason": "new supplier"})
    assert answer.status_code == 302
    assert answer["Location"] == "/mbrs/MBR-TINY/v2/builder/"
    assert MasterRecordVersion.objects.get(master=version.master, version=2).status == "draft"

    approver = ui(mbr.p["approver"])
    approver.post("/mbrs/MBR-TINY/v1/do/retire/", {"reason": "product discontinued"})
    version.refresh_from_db()
    assert version.status == "retired"


def test_new_mbr_from_the_form_and_from_a_file(ui, personas, tiny_text):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from galenic.recipes.models import MasterRecord

    client = ui(personas["engineer"])
    bad = client.post("/mbrs/new/", {"code": "no spaces allowed", "title": "x", "reason": "r"})
    assert bad.status_code == 400
    assert "code" in bad.content.decode()
    made = client.post("/mbrs/new/", {"code": "MBR-NEW", "title": "New one", "reason": "r"})
    assert made["Location"] == "/mbrs/MBR-NEW/v1/builder/"
    upload = SimpleUploadedFile("tiny.yaml", tiny_text.encode(), content_type="application/yaml")
    imported = client.post("/mbrs/new/", {"file": upload, "reason": "paper record"})
    assert imported["Location"] == "/mbrs/MBR-TINY/v1/"
    assert set(MasterRecord.objects.values_list("code", flat=True)) == {"MBR-NEW", "MBR-TINY"}


def test_attachments_are_served_safely_and_svg_is_refused(ui, mbr):
    from django.core.files.uploadedfile import SimpleUploadedFile

    mbr.create()
    client = ui(mbr.p["engineer"])
    svg = SimpleUploadedFile("x.svg", b"<svg onload='alert(1)'/>", content_type="image/svg+xml")
    answer = client.post(
        "/mbrs/MBR-TINY/v1/builder/attach/",
        {"attachment_id": "evil", "file": svg, "row_version": "1"},
        follow=True,
    )
    assert "Attach PNG, JPEG, GIF, WebP or PDF files" in answer.content.decode()
    png = SimpleUploadedFile("label.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    client.post(
        "/mbrs/MBR-TINY/v1/builder/attach/",
        {"attachment_id": "label_two", "file": png, "row_version": "1"},
    )
    from galenic.recipes.models import MasterRecordAttachment, MasterRecordVersion

    stored = MasterRecordAttachment.objects.get()
    doc = MasterRecordVersion.objects.get(master__code="MBR-TINY").document()
    assert any(a.id == "label_two" and a.sha256 == stored.sha256 for a in doc.attachments)
    served = ui(mbr.p["operator"]).get(f"/mbrs/attachments/{stored.sha256}/")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert bytes(served.content) == b"\x89PNG\r\n\x1a\nfake"


def test_version_page_shows_changed_after_signing(ui, mbr):
    from galenic.core.context import action_context
    from galenic.recipes import services
    from galenic.recipes.editing import EditOp

    version = mbr.submit(mbr.create())
    with action_context("test"):
        version = services.reject(actor=mbr.p["reviewer"], version=version, reason="typo")
        services.edit_document(
            actor=mbr.p["engineer"],
            version=version,
            ops=[EditOp("set", "", values={"title": "Tiny oral solution, corrected"})],
            expected_row_version=None,
        )
    html = ui(mbr.p["inspector"]).get("/mbrs/MBR-TINY/v1/").content.decode()
    assert "Changed after signing: the record differs from what was signed (document)" in html
    assert 'id="sign-' not in html  # an inspector signs nothing
