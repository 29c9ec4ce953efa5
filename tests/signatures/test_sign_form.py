"""The reusable sign form and its POST glue, as features embed them with htmx."""

from __future__ import annotations

import pytest

from galenic.accounts.models import User
from galenic.signatures.models import Signature

pytestmark = [pytest.mark.urls("sign_glue_urls"), pytest.mark.usefixtures("signable_users")]


def test_form_shows_meaning_subject_and_fingerprint(signer, personas, logged_in):
    record = personas["operator"]
    html = logged_in(signer).get(f"/test-sign/user/{record.pk}/?meaning=approved").content.decode()
    assert 'data-testid="sign-meaning">Approved<' in html
    assert str(record) in html
    assert 'name="content_sha256"' in html
    assert 'hx-post="/test-sign/user/' in html
    assert 'hx-swap="outerHTML"' in html
    assert "(optional)" in html  # reason optional for approval
    assert 'autocomplete="current-password"' in html


def test_required_reason_is_asked_and_enforced(signer, personas, logged_in, post, password):
    url = f"/test-sign/user/{personas['operator'].pk}/?meaning=reviewed&reason=required"
    client = logged_in(signer)
    assert "(optional)" not in client.get(url).content.decode()
    refused = post(client, url, {"user_id": signer.username, "password": password})
    assert "Give the reason" in refused.content.decode()
    # Refused before the password was checked: no failed attempt, nothing signed.
    assert User.objects.get(pk=signer.pk).failed_attempts == 0
    assert not Signature.objects.filter(object_type="accounts.user").exists()
    done = post(client, url, {"user_id": signer.username, "password": password, "reason": "ok"})
    assert done.status_code == 201


def test_errors_come_back_in_the_form_with_the_field(signer, personas, logged_in, post):
    url = f"/test-sign/user/{personas['operator'].pk}/"
    client = logged_in(signer)
    htmx = post(client, url, {"user_id": signer.username, "password": "wrong-wrong-wrong"})
    assert htmx.status_code == 200  # htmx swaps 2xx only
    html = htmx.content.decode()
    assert 'aria-invalid="true"' in html
    assert html.count("password is not correct") == 1  # beside the field, not twice
    assert f'value="{signer.username}"' in html  # what was typed is kept (except the password)
    plain = post(client, url, {"user_id": signer.username, "password": "x"}, htmx=False)
    assert plain.status_code == 400


def test_record_changed_after_the_form_was_shown_is_not_signed(
    signer, personas, logged_in, post, password
):
    record = personas["operator"]
    url = f"/test-sign/user/{record.pk}/"
    client = logged_in(signer)
    html = client.get(url).content.decode()
    shown = html.split('name="content_sha256" value="')[1].split('"')[0]

    changed = User.objects.get(pk=record.pk)
    changed.full_name = "Changed Meanwhile"
    changed.save(update_fields=["full_name"])

    answer = post(
        client, url, {"user_id": signer.username, "password": password, "content_sha256": shown}
    )
    assert "changed after it was shown to you" in answer.content.decode()
    assert not Signature.objects.filter(object_type="accounts.user").exists()


def test_csrf_is_enforced(signer, personas, logged_in, password):
    client = logged_in(signer)
    answer = client.post(
        f"/test-sign/user/{personas['operator'].pk}/",
        {"user_id": signer.username, "password": password},
    )
    assert answer.status_code == 403
    assert not Signature.objects.filter(object_type="accounts.user").exists()
