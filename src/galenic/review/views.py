"""Review by exception pages under /review/."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from galenic.accounts import permissions
from galenic.core.errors import GalenicError, NotFound
from galenic.exports.batch_data import batch_record
from galenic.exports.selectors import display_time
from galenic.review import rules, selectors, services
from galenic.review.models import BatchReview, ReviewStatus
from galenic.signatures.forms import SignForm, handle_sign_post, is_htmx, sign_form
from galenic.signatures.models import Meaning
from galenic.signatures.views import login_required_htmx


@require_GET
@login_required_htmx
def review_list(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "review.view")
    rows = []
    for batch in selectors.reviews()[:200]:
        review: BatchReview | None = getattr(batch, "review", None)
        summary = json.loads(review.summary) if review and review.summary else {}
        rows.append({"batch": batch, "review": review, "summary": summary})
    return render(request, "review/list.html", {"rows": rows})


def _forms(
    request: HttpRequest, review: BatchReview, facts: rules.Facts
) -> dict[str, SignForm | None]:
    number = review.batch.number
    user = request.user
    found: dict[str, SignForm | None] = {"sign": None, "release": None, "reject": None}
    if review.status in (ReviewStatus.RELEASED, ReviewStatus.REJECTED):
        return found
    if permissions.can(user, "review.sign") and not rules.review_blockers(facts):
        found["sign"] = sign_form(
            request,
            obj=review,
            meaning=Meaning.REVIEWED,
            action_url=reverse("review:sign", args=[number]),
            subject=f"the review by exception of batch {number}",
            note="You confirm that you have judged every exception listed above.",
            form_id="review-sign-form",
        )
    if permissions.can(user, "review.release") and not rules.disposition_blockers(facts):
        found["release"] = sign_form(
            request,
            obj=review,
            meaning=Meaning.RELEASED,
            action_url=reverse("review:release", args=[number]),
            subject=f"batch {number}",
            note="The batch is released for supply (Annex 11 §15).",
            form_id="release-sign-form",
        )
        found["reject"] = sign_form(
            request,
            obj=review,
            meaning=Meaning.REJECTED,
            action_url=reverse("review:reject", args=[number]),
            subject=f"batch {number}",
            reason_required=True,
            form_id="reject-sign-form",
            submit_label="Sign: Reject the batch",
        )
    return found


def _context(request: HttpRequest, number: str) -> dict[str, Any]:
    review = services.refresh_report(actor=request.user, number=number)
    batch = review.batch
    facts = services.facts(actor=request.user, batch=batch, review=review)
    items = list(selectors.items_of(review))
    return {
        "batch": batch,
        "review": review,
        "items": items,
        "summary": json.loads(review.summary or "{}"),
        "facts": facts,
        "review_blockers": rules.review_blockers(facts),
        "disposition_blockers": rules.disposition_blockers(facts),
        "can_acknowledge": permissions.can(request.user, "review.acknowledge")
        and not rules.acknowledge_blockers(facts),
        "forms": _forms(request, review, facts),
        "can_export": permissions.can(request.user, "exports.batch"),
    }


@require_GET
@login_required_htmx
def review_detail(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "review/detail.html", _context(request, number))


@require_POST
@login_required_htmx
def acknowledge(request: HttpRequest, number: str, item_id: int) -> HttpResponse:
    comment = request.POST.get("comment", "")
    try:
        item = services.acknowledge(
            actor=request.user, number=number, item_id=item_id, comment=comment
        )
    except GalenicError as exc:
        if not is_htmx(request):
            raise
        review = selectors.review_of(selectors.get_batch(number))
        found = review.items.filter(pk=item_id).first() if review else None
        if found is None:
            raise NotFound(f"Batch {number} has no exception {item_id}.", field="item") from None
        return render(
            request,
            "review/_item.html",
            {
                "item": found,
                "batch": found.review.batch,
                "can_acknowledge": True,
                "error": exc.message,
                "comment": comment,
            },
        )
    if is_htmx(request):
        response = render(
            request,
            "review/_item.html",
            {"item": item, "batch": item.review.batch, "can_acknowledge": False},
        )
        response["HX-Trigger"] = "review-changed"
        return response
    messages.success(request, "Exception acknowledged.")
    return redirect("review:detail", number=number)


@require_GET
@login_required_htmx
def item_audit(request: HttpRequest, number: str, item_id: int) -> HttpResponse:
    permissions.require(request.user, "review.view")
    review = selectors.review_of(selectors.get_batch(number))
    item = review.items.filter(pk=item_id).first() if review else None
    if item is None:
        raise NotFound(f"Batch {number} has no exception {item_id}.", field="item")
    events = selectors.audit_trail_of_item(item)
    return render(request, "review/_audit.html", {"item": item, "events": events})


def _signed(request: HttpRequest, number: str, key: str, perform: Any) -> HttpResponse:
    permissions.require(request.user, "review.sign" if key == "sign" else "review.release")
    context = _context(request, number)
    form = context["forms"][key]
    if form is None:
        # Not offered: say why (the blockers), as the service would: 403 when it is about the
        # person (e.g. the reviewer releasing), 409 when about the record.
        found = context["review_blockers"] if key == "sign" else context["disposition_blockers"]
        from galenic.core.errors import Conflict, FieldError, PermissionDenied

        error = PermissionDenied if any(f in services.PERSONAL for f, _ in found) else Conflict
        raise error(
            " ".join(m for _, m in found) or "You cannot do this now.",
            errors=[FieldError(f, m) for f, m in found],
        )
    outcome = handle_sign_post(request, form=form, perform=perform)
    if not outcome.ok:
        assert outcome.response is not None
        return outcome.response
    target = reverse("review:detail", args=[number])
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = target
        return response
    return redirect(target)


@require_POST
@login_required_htmx
def sign(request: HttpRequest, number: str) -> HttpResponse:
    return _signed(
        request,
        number,
        "sign",
        lambda authority, data: services.sign_review(
            actor=request.user,
            number=number,
            authority=authority,
            reason=data.reason,
            expected_content_sha256=data.content_sha256,
        ),
    )


@require_POST
@login_required_htmx
def release(request: HttpRequest, number: str) -> HttpResponse:
    return _signed(
        request,
        number,
        "release",
        lambda authority, data: services.release(
            actor=request.user,
            number=number,
            authority=authority,
            reason=data.reason,
            expected_content_sha256=data.content_sha256,
        ),
    )


@require_POST
@login_required_htmx
def reject(request: HttpRequest, number: str) -> HttpResponse:
    return _signed(
        request,
        number,
        "reject",
        lambda authority, data: services.reject(
            actor=request.user,
            number=number,
            authority=authority,
            reason=data.reason,
            expected_content_sha256=data.content_sha256,
        ),
    )


@require_GET
@login_required_htmx
def full_record(request: HttpRequest, number: str) -> HttpResponse:
    """The complete batch record on one page (the same data as the PDF and the JSON)."""
    permissions.require(request.user, "review.view")
    batch = selectors.get_batch(number)
    record = batch_record(batch)

    def when(value: str | None) -> str:
        return display_time(value or "")

    for step in record["steps"]:
        for name in ("started", "performed", "verified", "approved"):
            step[f"{name}_text"] = when(step.get(f"{name}_at"))
        for entry in step["entries"]:
            entry["recorded_text"] = when(entry["recorded_at"])
    return render(
        request,
        "review/record.html",
        {
            "batch": batch,
            "record": record,
            "can_export": permissions.can(request.user, "exports.batch"),
        },
    )
