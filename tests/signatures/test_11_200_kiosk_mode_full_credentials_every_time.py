"""21 CFR 11.200(a)(1)(ii): outside a continuous session (a shared kiosk terminal), every
signing uses all components."""

from __future__ import annotations

import pytest

from galenic.signatures import services
from galenic.signatures.models import Signature

pytestmark = [pytest.mark.urls("sign_glue_urls"), pytest.mark.usefixtures("signable_users")]


@pytest.fixture(autouse=True)
def _kiosk(settings):
    settings.SIGNATURE_MODE = "kiosk"


def test_11_200_kiosk_mode_full_credentials_every_time(signer, personas, logged_in, post, password):
    url = f"/test-sign/user/{personas['operator'].pk}/"
    client = logged_in(signer)
    for _ in range(3):
        assert 'name="user_id"' in client.get(url).content.decode()
        assert client.get("/api/v1/signatures/credentials").json()["needs_user_id"] is True
        refused = post(client, url, {"password": password})
        assert "every signature on this terminal needs both" in refused.content.decode()
        signed = post(client, url, {"user_id": signer.username, "password": password})
        assert signed.status_code == 201
    assert [s.credentials for s in Signature.objects.filter(object_type="accounts.user")] == [
        "user_id+password"
    ] * 3


def test_11_200_no_session_means_full_credentials(signer, password):
    """CLI, gateway and other callers without a session are treated like a kiosk."""
    assert services.needs_user_id(None) is True


def test_signature_mode_must_be_known(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.SIGNATURE_MODE = "relaxed"
    with pytest.raises(ImproperlyConfigured):
        services.needs_user_id(None)
