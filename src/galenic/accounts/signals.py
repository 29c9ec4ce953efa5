"""Every path that logs a user in or out (the login page, the test client, the API) goes through
Django's ``login``/``logout``; these receivers register and end the matching UserSession."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import Signal, receiver
from django.http import HttpRequest

# Sent after the commit that locked an account (11.300(d): report attempted misuse urgently).
# Receivers get ``user`` and ``purpose`` ("login", "signature", ...); a notification feature can
# subscribe here. Galenic itself logs it at WARNING on the "galenic.security" logger.
account_locked = Signal()


@receiver(user_logged_in, dispatch_uid="galenic.accounts.session_started")
def _session_started(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    from galenic.accounts import services

    session_key = request.session.session_key
    if session_key is None:  # Django's login() cycles the key, so it is always saved by now
        request.session.save()
        session_key = request.session.session_key
    services.start_session(
        user=user, session_key=str(session_key), remote_addr=request.META.get("REMOTE_ADDR", "")
    )


@receiver(user_logged_out, dispatch_uid="galenic.accounts.session_ended")
def _session_ended(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    from galenic.accounts import services

    key = request.session.session_key if request is not None else None
    if user is not None and key:
        services.end_session(user=user, session_key=key, reason="logout")
