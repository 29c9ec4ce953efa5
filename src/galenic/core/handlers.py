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
