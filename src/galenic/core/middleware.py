from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.exceptions import SessionInterrupted
from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from galenic.core.context import action_context, new_request_id
from galenic.core.errors import GalenicError

log = logging.getLogger("galenic.faults")


class RequestContextMiddleware:
    """Give each request an id (echoed in X-Request-ID) that every audit event of it carries.

    Also the UI's safety net: a GalenicError escaping a view becomes a page (or an htmx fragment)
    with the field and reason, never a stack trace. The API has its own handlers in galenic.api.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from galenic.core.faults import begin_request

        begin_request()
        request_id = new_request_id()
        source = "api" if request.path.startswith("/api/") else "web"
        remote = request.META.get("REMOTE_ADDR", "")
        with action_context(source, request_id=request_id, remote_addr=remote):
            request.request_id = request_id  # type: ignore[attr-defined]
            response = self.get_response(request)
        response["X-Request-ID"] = request_id
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        from galenic.core.handlers import error_response, fault_response

        if not isinstance(exception, GalenicError):
            # The database down or the disk full: 503/507 with what happened to the request.
            return fault_response(request, exception)
        if request.path.startswith("/api/"):
            return None  # the API's own handlers answer (galenic.api)
        return error_response(request, exception)


# No inline or eval'd script anywhere (htmx's hx-on and eval are off); styles may be inline attributes.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class SecurityHeadersMiddleware:
    """Security headers on every response (CSP, framing, referrer, permissions)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # The interactive API docs page loads its own bundled assets with inline bootstrap code.
        if not request.path.startswith("/api/v1/docs"):
            response.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        response.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response


def too_large(request: HttpRequest, size: int | None, limit: int) -> HttpResponse:
    """413 with the usual error shape (API) or page (UI), saying how much is accepted."""
    given = f"The request is {size} bytes" if size is not None else "The request is too large"
    message = f"{given}; at most {limit} bytes are accepted."
    if request.path.startswith("/api/"):
        return JsonResponse(
            {
                "code": "too_large",
                "message": message,
                "errors": [{"field": "body", "message": message}],
            },
            status=413,
        )
    body: str
    try:
        body = render_to_string(
            "galenic/error.html", {"title": "Too large", "text": message}, request=request
        )
    except Exception:  # the error page must never fail
        body = f"<h1>Too large</h1><p>{message}</p>"
    return HttpResponse(body, status=413)


class RequestSizeLimitMiddleware:
    """Refuse a request whose declared size exceeds MAX_REQUEST_BYTES before reading its body,
    so an oversized upload never fills memory or the temporary directory."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(settings.MAX_REQUEST_BYTES)
        try:
            size = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            size = 0
        if size > limit:
            return too_large(request, size, limit)
        return self.get_response(request)


class SessionMiddleware(DjangoSessionMiddleware):
    """Django's, except that a session that cannot be saved because the database is unreachable
    or its disk is full does not turn the answer into an error: the request's own outcome (a
    page read, or work that did commit) is the truth the user must see. Only the sliding
    inactivity expiry is not extended this time. Logged for the administrator."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        from galenic.core.faults import classify

        try:
            return super().process_response(request, response)
        except (SessionInterrupted, DatabaseError) as exc:
            if classify(exc) is None:
                raise
            log.warning("session of %s %s not saved: %s", request.method, request.path, exc)
            return response


class IdempotencyMiddleware:
    """API writes sent with an ``Idempotency-Key`` are carried out once (``core.idempotency``).

    After authentication: a key is scoped to the person sending it. Requests without the
    header, reads, pages and callers without a session (gateways) pass through untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from galenic.core import context, idempotency

        key = request.headers.get(idempotency.HEADER)
        if (
            key is None
            or request.method not in idempotency.WRITE_METHODS
            or not request.path.startswith("/api/")
        ):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        if not idempotency.KEY_PATTERN.match(key):
            message = "An Idempotency-Key is 1 to 200 printable ASCII characters without spaces."
            return JsonResponse(
                {
                    "code": "invalid",
                    "message": message,
                    "errors": [{"field": idempotency.HEADER, "message": message}],
                },
                status=400,
            )
        fingerprint = idempotency.fingerprint(request)
        if idempotency.find(user.pk, key) is not None:
            return idempotency.refusal(request, user, key, fingerprint)
        pending = idempotency.PendingKey(
            user_id=user.pk,
            key=key,
            fingerprint=fingerprint,
            method=str(request.method),
            path=request.path,
            request_id=context.current().request_id,
        )
        with idempotency.pending(pending):
            response = self.get_response(request)
        if response.status_code < 500 and not getattr(response, "streaming", False):
            idempotency.store_answer(
                pending, response.status_code, response.get("Content-Type", ""), response.content
            )
        return response
