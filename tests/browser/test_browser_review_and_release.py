"""A batch completes with an alert excursion and a corrected value (driven through the execution
services); the QA reviewer reviews it by exception in the browser (each exception acknowledged
with a comment, the review signed), the QA approver releases it with her signature, and the
batch record PDF is downloaded and shows the release, the exceptions and the changed value."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from galenic.testing.support import PASSWORD

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "review"))

pytestmark = pytest.mark.browser


def _settled(page):
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


def _sign(page, form_id, user_id):
    form = page.locator(f"#{form_id}")
    if form.get_by_label("User ID").count():
        form.get_by_label("User ID").fill(user_id)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_test_id("sign-submit").click()


def test_review_by_exception_release_and_download(page, login, personas, tmp_path):
    import pypdf
    from playwright.sync_api import expect
    from review_helpers import start

    from galenic.execution.models import Batch

    # -- the shop floor: an excursion and a correction, then completion ---------------------
    run = start(personas, "R-UI-1")
    run.record("check", "temperature", "23.5")  # above the alert limit 23 °C
    mixing = run.record("check", "extra_mixing", True)
    run.correct(mixing, False, "ticked the wrong box")
    run.perform("check")
    run.dry()
    run.count()
    run.complete()  # the exception report is built when this commits

    # -- Quinn reviews by exception ------------------------------------------------------------
    reviewer, approver = personas["reviewer"], personas["approver"]
    login(page, reviewer.username, PASSWORD)
    page.get_by_role("link", name="Batch review").first.click()
    page.get_by_test_id("review-link-R-UI-1").click()
    expect(page.get_by_role("heading", name="Review of batch R-UI-1")).to_be_visible()
    items = page.get_by_test_id("review-item")
    expect(items).to_have_count(2)
    expect(page.get_by_test_id("exception-report")).to_contain_text("Alert-limit excursion")
    expect(page.get_by_test_id("exception-report")).to_contain_text("Correction")
    expect(page.get_by_test_id("exceptions-count")).to_have_text("2")
    expect(page.get_by_test_id("review-blockers")).to_contain_text("not acknowledged")

    # The full record is one click away, with the changed value flagged.
    page.get_by_test_id("full-record-link").click()
    expect(page.get_by_test_id("record-entry").first).to_be_visible()
    expect(page.locator("body")).to_contain_text("changed after first entry")
    page.go_back()

    for n in range(2):
        form = page.get_by_test_id("ack-form").first
        form.get_by_label("Comment").fill(f"Judged: no impact on quality ({n + 1}).")
        form.get_by_role("button", name="Acknowledge").click()
        _settled(page)
    expect(page.get_by_test_id("acknowledgement")).to_have_count(2)
    expect(page.get_by_test_id("acknowledged-count")).to_have_text("2")
    _sign(page, "review-sign-form", reviewer.username)
    expect(page.get_by_test_id("review-status")).to_have_text("Reviewed (signed)")
    expect(page.get_by_test_id("review-signing")).to_contain_text("(user ID quinn)")

    # -- Rita releases it -------------------------------------------------------------------------
    page.get_by_role("button", name="Log out").click()
    login(page, approver.username, PASSWORD)
    page.goto("/review/R-UI-1/")
    _sign(page, "release-sign-form", approver.username)
    expect(page.get_by_test_id("review-status")).to_have_text("Released")
    expect(page.get_by_test_id("disposition")).to_contain_text("released by")
    assert Batch.objects.get(number="R-UI-1").status == "released"

    # -- and downloads the batch record -------------------------------------------------------------
    with page.expect_download() as info:
        page.get_by_test_id("export-pdf").click()
    target = tmp_path / info.value.suggested_filename
    info.value.save_as(target)
    assert target.name == "batch-R-UI-1.pdf"
    reader = pypdf.PdfReader(io.BytesIO(target.read_bytes()))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert "Disposition RELEASED" in text
    assert "Judged: no impact on quality" in text
    assert "⚑ CHANGED" in text
    assert "meaning: Released" in text
    assert f"Page 1 of {len(reader.pages)}" in text
