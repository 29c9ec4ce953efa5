"""Equipment pages: the registry, gateways and their connections, live tag values, excursions.

Read-only: registry changes go through the API/CLI services. The live part refreshes itself with
htmx and never waits on a device: it shows what the gateways last delivered, and how old it is.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from galenic.accounts.permissions import require
from galenic.core.errors import GalenicError
from galenic.core.timefmt import local_today, utcnow
from galenic.equipment import selectors


def _forbidden(request: HttpRequest, exc: GalenicError) -> HttpResponse:
    return render(
        request,
        "galenic/error.html",
        {"title": "Not allowed" if exc.status == 403 else "Not found", "text": exc.message},
        status=exc.status,
    )


def _live_context() -> dict[str, object]:
    now = utcnow()
    gateways = [
        {
            "gateway": g,
            "silent": selectors.gateway_silent(g, now),
            "connections": selectors.connections_of(g),
        }
        for g in selectors.gateways()
    ]
    return {
        "gateways": gateways,
        "tags": selectors.live_tags(),
        "excursions": selectors.recent_excursions(24)[-50:],
        "now": now,
    }


@login_required
@require_GET
def equipment_list(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, "equipment.view")
    except GalenicError as exc:
        return _forbidden(request, exc)
    today = local_today()
    equipment = [(e, e.calibration_state(today)) for e in selectors.equipment_list()]
    return render(
        request,
        "equipment/list.html",
        {"equipment": equipment, "refusals": selectors.refusals(20), **_live_context()},
    )


@login_required
@require_GET
def live(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, "equipment.view")
    except GalenicError as exc:
        return _forbidden(request, exc)
    return render(request, "equipment/_live.html", _live_context())


@login_required
@require_GET
def detail(request: HttpRequest, code: str) -> HttpResponse:
    try:
        require(request.user, "equipment.view")
        equipment = selectors.get_equipment(code)
    except GalenicError as exc:
        return _forbidden(request, exc)
    return render(
        request,
        "equipment/detail.html",
        {
            "e": equipment,
            "state": equipment.calibration_state(local_today()),
            "calibrations": list(equipment.calibrations.select_related("recorded_by")[:20]),
            "tags": selectors.live_tags(selectors.tags_of(equipment)),
        },
    )


def _since(value: str | None) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value) if value else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


@login_required
@require_GET
def balance_status(request: HttpRequest, code: str = "") -> HttpResponse:
    """The live panel beside a "Read balance" button (polled by the step screen). Without a code
    in the path, the balance is the ``instrument`` query value: the step screen's balance field,
    so the panel follows whatever balance the operator names."""
    try:
        require(request.user, "equipment.view")
    except GalenicError as exc:
        return _forbidden(request, exc)
    code = code or request.GET.get("instrument", "").strip()[:40]
    return render(
        request, "equipment/_capture_status.html", {"status": selectors.balance_status(code)}
    )


@login_required
@require_GET
def tag_status(request: HttpRequest, code: str) -> HttpResponse:
    """The live panel beside a "Capture" button: value, broker connection, figure so far.

    ``since`` only shapes this preview (the step's window as the server rendered it); the value
    recorded is computed again by the capture service from the step's own times.
    """
    try:
        require(request.user, "equipment.view")
    except GalenicError as exc:
        return _forbidden(request, exc)
    mode = request.GET.get("mode", "at_confirm")
    if mode not in selectors.MODES:
        mode = "at_confirm"
    status = selectors.tag_status(
        code,
        mode=mode,  # type: ignore[arg-type]
        since=_since(request.GET.get("since")),
    )
    return render(request, "equipment/_capture_status.html", {"status": status})
