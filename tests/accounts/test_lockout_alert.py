"""11.300(d): attempted misuse is reported urgently, not only written down."""

from __future__ import annotations

import logging

import pytest

from galenic.accounts import services
from galenic.accounts.signals import account_locked
from galenic.core.errors import GalenicError


@pytest.mark.django_db(transaction=True)
def test_11_300_d_lockout_raises_an_alert_after_commit(make_user, lockout_3, caplog):
    make_user("olivia", ["operator"])
    received = []

    def on_locked(sender, user, purpose, **kwargs):
        received.append((user.username, purpose))

    account_locked.connect(on_locked)
    try:
        with caplog.at_level(logging.WARNING, logger="galenic.security"):
            for _ in range(3):
                with pytest.raises(GalenicError):
                    services.check_login(user_id="olivia", password="wrong-wrong")
    finally:
        account_locked.disconnect(on_locked)
    assert received == [("olivia", "login")]
    assert "account olivia locked after 3 failed login attempts" in caplog.text
