from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from galenic.exports import selectors, services
from galenic.exports.api import file_response
from galenic.signatures.views import login_required_htmx


@require_GET
@login_required_htmx
def mbr_file(request: HttpRequest, version_id: int, fmt: str) -> HttpResponse:
    version = selectors.mbr_version(version_id)
    return file_response(services.export_mbr(actor=request.user, version=version, fmt=fmt))


@require_GET
@login_required_htmx
def batch_file(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    return file_response(services.export_batch(actor=request.user, number=number, fmt=fmt))
