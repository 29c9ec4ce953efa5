from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode

from galenic.accounts import sessions
from galenic.accounts.models import UserSession
from galenic.accounts.passwords import password_change_reason

# Paths a user who must change their password may still reach.
_API_ALLOWED = ("/api/v1/accounts/me",)


# Sliding inactivity timeout without a session write on every request: the expiry is pushed
# forward at most once per SESSION_REFRESH_SECONDS, so a session can end up to that much *before*
# the full timeout, never after it.
_REFRESHED = "_galenic_refreshed"


def _slide_expiry(session: Any) -> None:
    now = int(timezone.now().timestamp())
    last = session.get(_REFRESHED)
    if not isinstance(last, int) or now - last >= settings.SESSION_REFRESH_SECONDS:
        session[_REFRESHED] = now  # marks the session modified: saved with a new expiry


class SessionPolicyMiddleware:
    """Session policy on every request (21 CFR 11.10(d), 11.300):

    - a session of a locked or deactivated user, or one ended by an admin, ends at once;
    - a user whose password expired or was reset must change it before anything else
      (the UI redirects to the change page, the API answers 403 ``password_change_required``);
    - a session ended during this request (e.g. the attempt that locked the account) is not
      saved back by the response.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        sessions.reset()
        early = self._policy(request)
        response = early if early is not None else self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and sessions.was_ended(session.session_key):
            session.flush()  # deleted server-side already; drop the cookie too
        elif session is not None and session.session_key:
            _slide_expiry(session)
        return response

    def _policy(self, request: HttpRequest) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        live = UserSession.objects.filter(
            user_id=user.pk, session_key=request.session.session_key, ended_at__isnull=True
        ).exists()
        if not user.is_active or getattr(user, "is_locked", False) or not live:
            logout(request)
            return None
        reason = password_change_reason(user)
        if reason is None:
            return None
        change_url = reverse("accounts:password_change")
        if request.path.startswith("/api/"):
            if request.path.startswith(_API_ALLOWED):
                return None
            return JsonResponse(
                {
                    "code": "password_change_required",
                    "message": reason + " Change it at /api/v1/accounts/me/password.",
                    "errors": [{"field": "password", "message": reason}],
                },
                status=403,
            )
        if request.path in (change_url, reverse("accounts:logout")) or request.path.startswith(
            "/static/"
        ):
            return None
        return redirect(f"{change_url}?{urlencode({'next': request.path})}")
