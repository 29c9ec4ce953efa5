"""Friendly error pages: a user never sees a stack trace.

Faults of the infrastructure (the database unreachable, the disk full) answer 503 or 507 with a
message that says what happened to the request (``core.faults``); API paths answer JSON in the
API's error shape, htmx requests a fragment, pages a page.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.html import escape

from galenic.core.errors import GalenicError
from galenic.core.faults import classify

log = logging.getLogger("galenic.faults")


def _page(
    request: HttpRequest, status: int, title: str, text: str, errors: list[Any] | None = None
) -> HttpResponse:
    try:
        body: str = render_to_string(
            "galenic/error.html",
            {"title": title, "text": text, "errors": errors or []},
            request=request,
        )
    except Exception:  # the error page itself must never fail (e.g. with the database down)
        body = _plain(title, text)
    return HttpResponse(body, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    from django.conf import settings
    from django.core.exceptions import RequestDataTooBig

    from galenic.core.middleware import too_large

    if isinstance(exception, RequestDataTooBig):
        return too_large(request, None, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if request.path.startswith("/api/"):
        from django.http import JsonResponse

        return JsonResponse(
            {"code": "invalid", "message": "The request is not valid.", "errors": []}, status=400
        )
    return _page(request, 400, "Bad request", "The request could not be understood.")


def _plain(title: str, text: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · Galenic</title></head><body>"
        f'<div class="card" role="alert"><h1>{escape(title)}</h1><p>{escape(text)}</p></div>'
        "</body></html>"
    )


_TITLES = {503: "Not saved: the database cannot be reached", 507: "Not saved: storage is full"}


def error_response(request: HttpRequest, error: GalenicError) -> HttpResponse:
    """The answer for a GalenicError raised outside the API's own handlers."""
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(error.as_dict(), status=error.status)
    elif request.headers.get("HX-Request"):
        context = {"title": "Not done", "text": error.message, "errors": error.errors}
        body: str
        try:
            body = render_to_string("galenic/_error_fragment.html", context, request=request)
        except Exception:
            body = f'<div class="msg msg-error" role="alert">{escape(error.message)}</div>'
        response = HttpResponse(body, status=error.status)
    else:
        title = _TITLES.get(error.status, "Not done")
        response = _page(request, error.status, title, error.message, error.errors)
    if error.status == 503:
        response["Retry-After"] = "5"
    return response


def fault_response(request: HttpRequest, exception: BaseException) -> HttpResponse | None:
    """503/507 for a database or storage fault (logged for the administrator), else None."""
    error = classify(exception, writing=request.method not in ("GET", "HEAD", "OPTIONS"))
    if error is None:
        return None
    log.warning(
        "%s %s refused with %s: %s",
        request.method,
        request.path,
        error.status,
        exception,
        exc_info=exception,
    )
    return error_response(request, error)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request, 403, "Not allowed", str(exception) or "Your roles do not allow this action."
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "Not found", "There is no such page or record.")


SERVER_ERROR_TEXT = "Nothing was saved by the failed request. Please try again."


def server_error(request: HttpRequest) -> HttpResponse:
    # Called while the exception is being handled, wherever it was raised (a middleware that
    # reads the session with the database down, say): faults get their own answer.
    exception = sys.exc_info()[1]
    if exception is not None:
        answer = fault_response(request, exception)
        if answer is not None:
            return answer
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "server_error", "message": SERVER_ERROR_TEXT, "errors": []}, status=500
        )
    return _page(request, 500, "Something went wrong", SERVER_ERROR_TEXT)
