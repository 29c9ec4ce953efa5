"""A person reads and signs the e-signature accountability policy in a real browser (htmx form),
first with a wrong password, then correctly (21 CFR 11.10(j), 11.50, 11.200)."""

from __future__ import annotations

import pytest

from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_the_policy_in_the_browser(page, login, personas):
    from galenic.signatures.models import PolicyAcknowledgement

    reviewer = personas["reviewer"]
    login(page, reviewer.username, PASSWORD)
    page.get_by_role("link", name="Signature policy").first.click()
    form = page.get_by_test_id("sign-form")
    assert form.get_by_test_id("sign-meaning").inner_text() == "Acknowledged"

    form.get_by_label("User ID").fill(reviewer.username)
    form.get_by_label("Password").fill("not-my-password")
    form.get_by_test_id("sign-submit").click()
    error = page.locator(".field-error")
    error.wait_for()
    assert error.inner_text() == "The password is not correct."
    assert not PolicyAcknowledgement.objects.exists()

    form = page.get_by_test_id("sign-form")
    assert form.get_by_label("User ID").input_value() == reviewer.username
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_test_id("sign-submit").click()
    page.get_by_test_id("policy-acknowledged").wait_for()
    assert page.get_by_test_id("manifestation-name").inner_text() == reviewer.full_name
    assert page.get_by_test_id("manifestation-meaning").inner_text() == "Acknowledged"
    assert "(UTC+00:00)" in page.get_by_test_id("manifestation-time").inner_text()
    assert page.get_by_test_id("signature-status").inner_text() == "Signature valid"
    assert PolicyAcknowledgement.objects.filter(user=reviewer).count() == 1
