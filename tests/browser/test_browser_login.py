"""A person logs in through a real browser and reaches the home page."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PASSWORD = "Correct-horse-42"  # the personas' password (tests/conftest.py)


def test_persona_logs_in_and_sees_home(page, login, personas):
    login(page, "Olivia", PASSWORD)
    page.wait_for_url("**/")
    assert page.get_by_role("heading", name="Welcome, Olivia").is_visible()
    assert page.get_by_test_id("current-user").inner_text() == "Olivia"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/accounts/login/")


def test_wrong_password_shows_the_reason(page, login, personas):
    login(page, "olivia", "not-the-password")
    assert page.get_by_role("alert").inner_text() == "User ID or password is not correct."
