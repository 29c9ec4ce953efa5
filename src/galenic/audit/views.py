"""The audit trail page: filters, an htmx-updated table, export links, on-demand verification.

Reads only (selectors); the one write is the audit event of an export, done by the API's export
endpoints through audit.services.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from galenic.accounts.permissions import can, require
from galenic.audit import selectors
from galenic.audit.selectors import AuditFilter
from galenic.audit.verify import run_verification
from galenic.core.errors import ValidationFailed

PAGE_SIZE = 50


def _filter_from(request: HttpRequest) -> tuple[AuditFilter, dict[str, str]]:
    """The filter in the query string; on bad input, no filter and the field's message."""
    raw = {
        name: request.GET.get(name, "")
        for name in ("object_type", "object_id", "user", "action", "category", "since", "until")
    }
    try:
        return selectors.make_filter(**raw), {}
    except ValidationFailed as exc:
        return AuditFilter(), {e.field: e.message for e in exc.errors}


def _page_number(request: HttpRequest) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def _context(request: HttpRequest) -> dict[str, Any]:
    filters, errors = _filter_from(request)
    result = selectors.page(request.user, filters, number=_page_number(request), size=PAGE_SIZE)
    query = filters.as_query()
    rows = [(event, selectors.changed_fields(event)) for event in result.events]
    return {
        "page": result,
        "rows": rows,
        "filters": filters,
        "raw": {
            k: request.GET.get(k, "")
            for k in ("object_type", "object_id", "user", "action", "category", "since", "until")
        },
        "errors": errors,
        "query": urlencode(query),
        "categories": selectors.CATEGORIES,
        "can_verify": can(request.user, "audit.verify"),
    }


@login_required
@require_GET
def trail(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit.view")
    template = "audit/_table.html" if request.headers.get("HX-Request") else "audit/trail.html"
    return render(request, template, _context(request))


@login_required
@require_POST
def verify(request: HttpRequest) -> HttpResponse:
    result = run_verification(request.user)
    return render(request, "audit/_verify.html", {"result": result})
