"""21 CFR 11.200(a)(1)(i): the password-only privilege lasts one continuous session. After logout
or the inactivity timeout, the next signing needs the user ID and password again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session

from galenic.core.timefmt import utcnow
from galenic.signatures.models import Signature

pytestmark = [pytest.mark.urls("sign_glue_urls"), pytest.mark.usefixtures("signable_users")]


def _first_signing(client, post, url, signer, password):
    assert post(client, url, {"user_id": signer.username, "password": password}).status_code == 201
    assert 'name="user_id"' not in client.get(url).content.decode()


def _log_out(client, csrf_token):
    answer = client.post("/accounts/logout/", headers={"X-CSRFToken": csrf_token(client)})
    assert answer.status_code in (200, 302)


def _time_out(client, csrf_token):
    # The inactivity timeout passes: the server-side session expires.
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(expire_date=utcnow() - timedelta(seconds=1))


@pytest.mark.parametrize("end_session", [_log_out, _time_out], ids=["logout", "timeout"])
def test_11_200_after_logout_or_timeout_full_credentials_again(
    end_session, signer, personas, csrf_client, post, password, csrf_token
):
    url = f"/test-sign/user/{personas['operator'].pk}/"
    csrf_client.force_login(signer)
    old_key = csrf_client.session.session_key
    _first_signing(csrf_client, post, url, signer, password)

    end_session(csrf_client, csrf_token)
    assert csrf_client.get("/api/v1/signatures/credentials").status_code == 401

    csrf_client.force_login(signer)
    assert csrf_client.session.session_key != old_key
    assert csrf_client.get("/api/v1/signatures/credentials").json()["needs_user_id"] is True
    assert 'name="user_id"' in csrf_client.get(url).content.decode()
    refused = post(csrf_client, url, {"password": password})
    assert "Enter your user ID" in refused.content.decode()
    assert Signature.objects.filter(object_type="accounts.user").count() == 1

    again = post(csrf_client, url, {"user_id": signer.username, "password": password})
    assert again.status_code == 201
    assert [s.credentials for s in Signature.objects.filter(object_type="accounts.user")] == [
        "user_id+password",
        "user_id+password",
    ]


def test_11_200_another_user_in_the_same_browser_starts_over(
    signer, personas, acknowledge, csrf_client, post, password
):
    """The marker belongs to a person, not to a browser: a different login needs both again."""
    url = f"/test-sign/user/{personas['operator'].pk}/"
    csrf_client.force_login(signer)
    _first_signing(csrf_client, post, url, signer, password)

    other = personas["approver"]
    acknowledge(other)
    csrf_client.force_login(other)
    assert 'name="user_id"' in csrf_client.get(url).content.decode()
    refused = post(csrf_client, url, {"password": password})
    assert "Enter your user ID" in refused.content.decode()
