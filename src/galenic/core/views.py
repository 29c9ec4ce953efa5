from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from galenic.core.navigation import nav_items_for


@login_required
def home(request: HttpRequest) -> HttpResponse:
    roles = sorted(request.user.role_codes()) if hasattr(request.user, "role_codes") else []
    return render(request, "galenic/home.html", {"user_roles": roles})


def health(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers and benchmarks: no database, no session."""
    return JsonResponse({"status": "ok"})


__all__ = ["health", "home", "nav_items_for"]
