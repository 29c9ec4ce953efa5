"""Web glue for signing: the reusable sign form and its POST handling.

A feature that needs a signature (MBR approval, a batch step, a release) embeds the form::

    # GET: show it
    form = sign_form(request, obj=version, meaning=Meaning.APPROVED,
                     action_url=reverse("recipes:approve", args=[version.pk]))
    return render(request, "recipes/approve.html", {"sign_form": form})
    # template: {% include "signatures/_sign_form.html" with form=sign_form %}

    # POST (htmx swaps the form with the answer)
    outcome = handle_sign_post(request, form=form, perform=lambda authority, data:
        recipes.services.approve(actor=request.user, version=version, authority=authority,
                                 reason=data.reason, expected_content_sha256=data.content_sha256))
    if not outcome.ok:
        return outcome.response      # the form again, with the field errors
    return render(request, "recipes/_approved.html", {...})

``perform`` runs the feature's service, which opens its transaction and calls
``signatures.services.sign`` inside it; ``handle_sign_post`` has already checked the
credentials (outside that transaction, so a wrong password counts toward lockout).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string

from galenic.core.errors import GalenicError, ValidationFailed
from galenic.signatures import registry, selectors, services
from galenic.signatures.binding import canonical_content, sha256_text
from galenic.signatures.models import Meaning
from galenic.signatures.schemas import SignatureIn

T = TypeVar("T")
FORM_TEMPLATE = "signatures/_sign_form.html"


@dataclass
class SignForm:
    """Everything ``signatures/_sign_form.html`` shows."""

    action_url: str
    meaning: Meaning
    subject: str
    needs_user_id: bool
    reason_required: bool = False
    full_credentials: bool = False
    content_sha256: str = ""
    summary: Sequence[tuple[str, str]] = ()
    note: str = ""
    submit_label: str = ""
    form_id: str = "sign-form"
    blocked_by_policy: bool = False
    user_id: str = ""
    reason: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def meaning_label(self) -> str:
        return str(self.meaning.label)

    def shown_fields(self) -> set[str]:
        return {"password", "reason"} | ({"user_id"} if self.needs_user_id else set())

    @property
    def button_label(self) -> str:
        return self.submit_label or f"Sign: {self.meaning_label}"


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def sign_form(
    request: HttpRequest,
    *,
    meaning: Meaning | str,
    action_url: str,
    obj: Any = None,
    subject: str = "",
    reason_required: bool = False,
    full_credentials: bool = False,
    summary: Sequence[tuple[str, str]] = (),
    note: str = "",
    submit_label: str = "",
    form_id: str = "sign-form",
) -> SignForm:
    """The sign form for ``request.user``: asks for the user ID only when 11.200 needs it.

    With ``obj`` (saved and registered) the form carries the fingerprint of its content now,
    and signing is refused if the record changes before the form is sent.
    """
    the_meaning = Meaning(meaning)
    digest = ""
    if obj is not None and getattr(obj, "pk", None) is not None:
        if registry.is_registered(registry.label_of(obj)):
            digest = sha256_text(canonical_content(registry.content_of(obj)))
        subject = subject or str(obj)
    return SignForm(
        action_url=action_url,
        meaning=the_meaning,
        subject=subject,
        needs_user_id=full_credentials
        or services.needs_user_id(request.session, actor=request.user),
        reason_required=reason_required or the_meaning in services.REASON_REQUIRED,
        full_credentials=full_credentials,
        content_sha256=digest,
        summary=summary,
        note=note,
        submit_label=submit_label,
        form_id=form_id,
        blocked_by_policy=the_meaning != Meaning.ACKNOWLEDGED
        and not selectors.has_acknowledged_policy(request.user),
    )


def signature_in_from_post(post: QueryDict) -> SignatureIn:
    return SignatureIn(
        user_id=(post.get("user_id") or "").strip() or None,
        password=post.get("password") or "",
        reason=(post.get("reason") or "").strip(),
        content_sha256=(post.get("content_sha256") or "").strip(),
    )


def render_sign_form(request: HttpRequest, form: SignForm, *, status: int = 200) -> HttpResponse:
    return HttpResponse(
        render_to_string(FORM_TEMPLATE, {"form": form}, request=request), status=status
    )


@dataclass
class SignOutcome(Generic[T]):
    value: T | None = None
    response: HttpResponse | None = None  # the form again, with errors, when signing failed

    @property
    def ok(self) -> bool:
        return self.response is None


def handle_sign_post(
    request: HttpRequest,
    *,
    form: SignForm,
    perform: Callable[[services.SignerAuthority, SignatureIn], T],
) -> SignOutcome[T]:
    """Check the credentials, then run ``perform`` (the feature's signing service).

    Any GalenicError (wrong password, missing reason, record changed, not allowed) comes back
    as the form with the message next to its field; nothing else was recorded. htmx requests
    get status 200 so htmx swaps the form in; plain form posts get 400.
    """
    data = signature_in_from_post(request.POST)
    form.user_id = data.user_id or ""
    form.reason = data.reason
    try:
        if form.reason_required and not data.reason:
            raise ValidationFailed(
                f"Give the reason for this signature ({form.meaning_label}).", field="reason"
            )
        authority = services.authenticate_signer(
            session=request.session,
            actor=request.user,
            user_id=data.user_id,
            password=data.password,
            full_credentials=form.full_credentials,
        )
        value = perform(authority, data)
    except GalenicError as exc:
        form.needs_user_id = form.full_credentials or services.needs_user_id(
            request.session, actor=request.user
        )
        form.errors = {e.field: e.message for e in exc.errors if e.field}
        # Shown once: beside its field when the form has that field, else above the form.
        if not form.errors or set(form.errors) - form.shown_fields():
            form.message = exc.message
        status = 200 if is_htmx(request) else exc.status
        return SignOutcome(response=render_sign_form(request, form, status=status))
    return SignOutcome(value=value)
