"""The JSON API under /api/v1 (django-ninja, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs).

Each bounded context exposes a ``router`` in its ``api.py``; they are mounted here.
Every error answers with the same shape: {"code", "message", "errors": [{"field", "message"}]}.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import django_auth

import galenic
from galenic.core.errors import GalenicError
from galenic.core.idempotency import ReplayedRequest

api = NinjaAPI(
    title="Galenic API",
    version=galenic.__version__,
    urls_namespace="api-v1",
    auth=django_auth,
    description="Manufacturing Execution System API. Every state change is audited and, "
    "where required, electronically signed (21 CFR Part 11).",
)


@api.exception_handler(GalenicError)
def galenic_error(request: HttpRequest, exc: GalenicError) -> HttpResponse:
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ReplayedRequest)
def replayed(request: HttpRequest, exc: ReplayedRequest) -> HttpResponse:
    """Another copy of this request claimed its Idempotency-Key first; this one rolled back."""
    from galenic.core import idempotency

    return idempotency.refusal(request, request.user, exc.key, idempotency.fingerprint(request))


@api.exception_handler(NinjaValidationError)
def validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        errors.append({"field": ".".join(loc) or "body", "message": str(err.get("msg", "invalid"))})
    return api.create_response(
        request,
        {"code": "invalid", "message": "The request is not valid.", "errors": errors},
        status=400,
    )


@api.exception_handler(AuthenticationError)
def not_authenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"code": "not_authenticated", "message": "Log in first.", "errors": []}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return api.create_response(
        request, {"code": "error", "message": str(exc), "errors": []}, status=exc.status_code
    )


def _mount() -> None:
    from galenic.accounts.api import router as accounts_router
    from galenic.audit.api import router as audit_router
    from galenic.equipment.api import router as equipment_router
    from galenic.execution.api import router as execution_router
    from galenic.exports.api import router as exports_router
    from galenic.quality.api import router as quality_router
    from galenic.recipes.api import router as recipes_router
    from galenic.review.api import router as review_router
    from galenic.signatures.api import router as signatures_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/audit", audit_router)
    api.add_router("/signatures", signatures_router)
    api.add_router("/equipment", equipment_router)
    api.add_router("/mbrs", recipes_router)
    api.add_router("/batches", execution_router)
    api.add_router("/deviations", quality_router)
    api.add_router("/exports", exports_router)
    api.add_router("/review", review_router)


_mount()
