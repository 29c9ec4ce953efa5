"""An inspector reads the audit trail in a real browser: the filters update the table through
htmx (no page load), each time shows its zone, and the trail verifies on demand."""

from __future__ import annotations

import os
import re

import pytest
from django.db import transaction
from playwright.sync_api import expect

from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.browser


def test_inspector_filters_and_verifies_the_audit_trail(page, login, personas):
    from galenic.audit import services as audit

    with transaction.atomic():
        for n in range(3):
            audit.record(
                actor=personas["engineer"],
                action="recipes.mbr.update",
                object_type="recipes.mbr",
                object_id="7",
                object_repr="MBR-7",
                old={"version": n},
                new={"version": n + 1},
                reason=f"edit {n}",
            )
    inspector = personas["inspector"]
    login(page, inspector.username, PASSWORD)
    page.get_by_role("link", name="Audit trail").first.click()
    table = page.get_by_test_id("audit-table")
    table.wait_for()
    total = int(page.get_by_test_id("audit-count").inner_text().split()[0])
    assert total >= 3 + len(personas)

    page.evaluate("window.__notReloaded = true")
    page.get_by_label("User ID").fill(personas["engineer"].username)
    page.get_by_label("User ID").press("Enter")
    expect(page.get_by_test_id("audit-count")).to_have_text(re.compile(r"^3 events"))
    assert page.evaluate("window.__notReloaded") is True  # htmx swapped the table in place
    assert "user=" in page.url  # and the filter is in the address, for a shareable link
    assert "(UTC+00:00)" in table.inner_text()
    assert "edit 2" in table.inner_text()
    csv_link = page.get_by_test_id("export-csv").get_attribute("href")
    assert f"user={personas['engineer'].username}" in csv_link

    page.get_by_test_id("verify-button").click()
    page.get_by_test_id("verify-ok").wait_for()
    if os.environ.get("GALENIC_SCREENSHOTS"):
        page.screenshot(path=os.environ["GALENIC_SCREENSHOTS"] + "/audit-trail.png", full_page=True)
