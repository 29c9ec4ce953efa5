"""A feature-like page built only from the public signing glue, mounted for tests.

It signs a user record (registered by the ``signable_users`` fixture) the way an MBR approval
or a batch step would: ``sign_form`` for GET, ``handle_sign_post`` for POST, and a "service"
that opens its transaction and calls ``signatures.services.sign`` inside it.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import path

from galenic.accounts.models import User
from galenic.signatures import services
from galenic.signatures.forms import handle_sign_post, render_sign_form, sign_form
from galenic.signatures.schemas import SignatureIn
from galenic.urls import urlpatterns as galenic_urlpatterns


def review_user_record(
    *,
    actor: Any,
    record: User,
    authority: services.SignerAuthority,
    data: SignatureIn,
    meaning: str,
) -> Any:
    with transaction.atomic():
        return services.sign(
            authority=authority,
            obj=record,
            meaning=meaning,
            reason=data.reason,
            expected_content_sha256=data.content_sha256,
            actor=actor,
        )


def sign_user(request: HttpRequest, pk: int) -> HttpResponse:
    record = User.objects.get(pk=pk)
    meaning = request.GET.get("meaning", "reviewed")
    form = sign_form(
        request,
        obj=record,
        meaning=meaning,
        action_url=request.get_full_path(),
        reason_required=request.GET.get("reason") == "required",
        summary=[("Printed name", record.full_name)],
    )
    if request.method != "POST":
        return render_sign_form(request, form)
    outcome = handle_sign_post(
        request,
        form=form,
        perform=lambda authority, data: review_user_record(
            actor=request.user, record=record, authority=authority, data=data, meaning=meaning
        ),
    )
    if not outcome.ok:
        assert outcome.response is not None
        return outcome.response
    return HttpResponse(f"signed {outcome.value.uid}", status=201)


urlpatterns = [
    path("test-sign/user/<int:pk>/", sign_user),
    *galenic_urlpatterns,
]
