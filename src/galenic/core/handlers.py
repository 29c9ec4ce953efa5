"""Friendly error pages: a user never sees a stack trace."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string


def _page(request: HttpRequest, status: int, title: str, text: str) -> HttpResponse:
    try:
        body: str = render_to_string(
            "galenic/error.html", {"title": title, "text": text}, request=request
        )
    except Exception:  # the error page itself must never fail
        body = f"<h1>{title}</h1><p>{text}</p>"
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


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(
        request, 403, "Not allowed", str(exception) or "Your roles do not allow this action."
    )


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(request, 404, "Not found", "There is no such page or record.")


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        500,
        "Something went wrong",
        "Nothing was saved by the failed request. Please try again.",
    )
