"""Behind a TLS-terminating proxy (GALENIC_BEHIND_TLS_PROXY): plain HTTP is redirected to HTTPS and
HTTPS answers carry HSTS."""

from __future__ import annotations

import pytest


@pytest.fixture
def behind_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000


def test_plain_http_is_redirected_to_https(client, behind_proxy):
    answer = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="http")
    assert answer.status_code == 301
    assert answer["Location"].startswith("https://")


def test_https_answers_carry_hsts(client, behind_proxy, db):
    answer = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert answer.status_code == 200
    assert answer["Strict-Transport-Security"].startswith("max-age=31536000")


def test_the_setting_turns_it_on(monkeypatch):
    import importlib

    import galenic.settings as settings_module

    monkeypatch.setenv("GALENIC_BEHIND_TLS_PROXY", "true")
    fresh = importlib.reload(settings_module)
    try:
        assert fresh.SECURE_PROXY_SSL_HEADER == ("HTTP_X_FORWARDED_PROTO", "https")
        assert fresh.SECURE_SSL_REDIRECT is True
        assert fresh.SECURE_HSTS_SECONDS == 31536000
    finally:
        monkeypatch.delenv("GALENIC_BEHIND_TLS_PROXY")
        importlib.reload(settings_module)
