"""Refused requests are security events (21 CFR 11.10(d), regulatory.md: "refused plus a
security event").

Whatever refused it (a service's ``permissions.require``, a segregation-of-duties rule, a CSRF
check, a view that renders its own 403 page), a 403 answered to a signed-in person is appended
to the audit trail as ``security.access_denied`` in its own transaction, after the refused
action's transaction has rolled back. Refusals of anonymous callers (401, or 403 without a
session) go to the ``galenic.security`` log only, so unauthenticated noise cannot grow the trail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

security_log = logging.getLogger("galenic.security")


def _message(response: HttpResponse) -> str:
    if not response.get("Content-Type", "").startswith("application/json"):
        return ""
    try:
        data = json.loads(response.content)
    except (ValueError, AttributeError):  # streaming or not JSON after all
        return ""
    return str(data.get("message", ""))[:300] if isinstance(data, dict) else ""


class RefusalAuditMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code in (401, 403):
            self._refused(request, response)
        return response

    def _refused(self, request: HttpRequest, response: HttpResponse) -> None:
        user: Any = getattr(request, "user", None)
        who = user.username if user is not None and user.is_authenticated else "anonymous"
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match else ""
        detail: dict[str, Any] = {
            "method": request.method,
            "path": request.path[:300],
            "status": response.status_code,
            "view": view,
            "message": _message(response),
        }
        security_log.warning(
            "refused %s %s for %s: %s (%s)",
            request.method,
            request.path[:300],
            who,
            response.status_code,
            detail["message"] or detail["view"],
        )
        if who == "anonymous" or response.status_code != 403:
            return
        from galenic.audit import services as audit

        try:
            audit.record_standalone(
                actor=user,
                action="security.access_denied",
                object_type="http.request",
                object_id=view[:64] or request.path[:64],
                object_repr=f"{request.method} {request.path}"[:300],
                new=detail,
                category="security",
            )
        except DatabaseError:  # the refusal itself stands; never turn it into a 500
            security_log.exception("could not record the refusal in the audit trail")
