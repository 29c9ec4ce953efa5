from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from galenic.accounts import permissions
from galenic.core.errors import ValidationFailed
from galenic.signatures import policy, registry, selectors, services
from galenic.signatures.forms import handle_sign_post, is_htmx, sign_form
from galenic.signatures.models import Meaning


def login_required_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Like login_required, but an htmx request whose session ended reloads the login page whole."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated and is_htmx(request):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = reverse("accounts:login")
            return response
        return login_required(view)(request, *args, **kwargs)

    return wrapped


def _policy_form(request: HttpRequest) -> Any:
    return sign_form(
        request,
        meaning=Meaning.ACKNOWLEDGED,
        action_url=reverse("signatures:policy_acknowledge"),
        subject=f"{policy.TITLE}, version {policy.VERSION}",
        full_credentials=True,
        note="You need your user ID and your password. No other signature is accepted from you "
        "until you have signed this acknowledgement.",
        submit_label="Sign: I have read and acknowledge this policy",
        form_id="policy-sign-form",
    )


def _policy_context(request: HttpRequest) -> dict[str, Any]:
    ack = selectors.policy_acknowledgement(request.user)
    can_sign = permissions.can(request.user, "signatures.sign")
    return {
        "title": policy.TITLE,
        "version": policy.VERSION,
        "statements": policy.STATEMENTS,
        "ack": ack,
        "entries": selectors.signatures_for_object(ack) if ack else [],
        "form": _policy_form(request) if can_sign and ack is None else None,
    }


@require_GET
@login_required_htmx
def policy_page(request: HttpRequest) -> HttpResponse:
    return render(request, "signatures/policy.html", _policy_context(request))


@require_POST
@login_required_htmx
def policy_acknowledge(request: HttpRequest) -> HttpResponse:
    form = _policy_form(request)
    outcome = handle_sign_post(
        request,
        form=form,
        perform=lambda authority, _data: services.acknowledge_policy(
            actor=request.user, authority=authority
        ),
    )
    if not outcome.ok:
        assert outcome.response is not None
        return outcome.response
    ack = outcome.value
    assert ack is not None
    if is_htmx(request):
        return render(
            request,
            "signatures/_policy_acknowledged.html",
            {"ack": ack, "entries": selectors.signatures_for_object(ack)},
        )
    messages.success(request, "Policy acknowledged and signed.")
    return redirect("signatures:policy")


@require_GET
@login_required_htmx
def object_signatures(request: HttpRequest) -> HttpResponse:
    """A record's signatures, verified now; a partial for htmx, a page otherwise."""
    permissions.require(request.user, "signatures.view")
    object_type = (request.GET.get("object_type") or "").strip().lower()
    object_id = (request.GET.get("object_id") or "").strip()
    if not registry.is_registered(object_type):
        raise ValidationFailed(
            f"{object_type!r} is not a signable record type.", field="object_type"
        )
    if not object_id:
        raise ValidationFailed("Give the record's id.", field="object_id")
    context = {
        "object_type": object_type,
        "object_id": object_id,
        **selectors.listing_for(object_type, object_id),
    }
    if is_htmx(request):
        return render(request, "signatures/_signature_list.html", context)
    return render(request, "signatures/object_signatures.html", context)
