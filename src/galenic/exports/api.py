"""Export API under /api/v1/exports: files for download (PDF, YAML, JSON, CSV)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import Router

from galenic.exports import selectors, services

router = Router(tags=["exports"])


def file_response(export: services.ExportFile) -> HttpResponse:
    response = HttpResponse(export.content, content_type=export.content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Record-SHA256"] = export.record_sha256
    response["Cache-Control"] = "no-store"
    return response


@router.get(
    "/mbr-versions/{version_id}/{fmt}",
    summary="A master batch record version as PDF (to read) or YAML/JSON (the document, to reuse)",
    response={200: None},
)
def mbr_version_file(request: HttpRequest, version_id: int, fmt: str) -> HttpResponse:
    version = selectors.mbr_version(version_id)
    return file_response(services.export_mbr(actor=request.user, version=version, fmt=fmt))


@router.get(
    "/batches/{number}/{fmt}",
    summary="The complete batch record as PDF, JSON (verifiable) or CSV (one row per entry)",
    response={200: None},
)
def batch_file(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    return file_response(services.export_batch(actor=request.user, number=number, fmt=fmt))
