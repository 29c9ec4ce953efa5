"""The shop floor's screens: batches, a batch with its steps, and the operator's step screen
(large touch targets, a scanner types into the focused field and presses Enter, every value is
checked the moment it is recorded). Views read through selectors and change nothing themselves:
every change is a call to ``execution.services``."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from galenic.accounts import permissions
from galenic.core.errors import GalenicError, NotFound
from galenic.equipment import selectors as instruments
from galenic.execution import selectors, services
from galenic.execution.models import Batch, BatchStatus, Entry, EntryKind, StepExecution, StepStatus
from galenic.execution.schemas import yield_percent_text
from galenic.recipes.document.richtext import to_html
from galenic.recipes.models import MasterRecordVersion, VersionStatus
from galenic.rules.units import Quantity, UnitError
from galenic.signatures.forms import SignForm, handle_sign_post, is_htmx, sign_form
from galenic.signatures.models import Meaning
from galenic.signatures.views import login_required_htmx


def _can(request: HttpRequest, action: str) -> bool:
    return permissions.can(request.user, action)


def _errors(exc: GalenicError) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors} or {"": exc.message}


def _batch_url(number: str) -> str:
    return reverse("execution:batch", args=[number])


def _step_url(number: str, key: str) -> str:
    return reverse("execution:step", args=[number, key])


def _redirect(request: HttpRequest, url: str) -> HttpResponse:
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


# --- batches --------------------------------------------------------------------------------------


@require_GET
@login_required_htmx
def batch_list(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "execution.view")
    status = request.GET.get("status") or None
    return render(
        request,
        "execution/batch_list.html",
        {
            "batches": list(selectors.batches(status=status)[:200]),
            "statuses": BatchStatus.choices,
            "status": status or "",
            "can_create": _can(request, "execution.create_batch"),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required_htmx
def batch_new(request: HttpRequest) -> HttpResponse:
    permissions.require(request.user, "execution.create_batch")
    effective = (
        MasterRecordVersion.objects.filter(status=VersionStatus.EFFECTIVE)
        .select_related("master")
        .order_by("master__code")
    )
    context: dict[str, Any] = {"effective": effective, "values": request.POST, "errors": {}}
    if request.method == "POST":
        try:
            batch = services.create_batch(
                actor=request.user,
                mbr=request.POST.get("mbr", ""),
                number=request.POST.get("number", ""),
                batch_size=request.POST.get("batch_size") or None,
                planned_start=_local_moment(request.POST.get("planned_start")),
                planned_end=_local_moment(request.POST.get("planned_end")),
            )
        except GalenicError as exc:
            context["errors"] = _errors(exc)
            return render(request, "execution/batch_new.html", context, status=exc.status)
        return redirect(_batch_url(batch.number))
    return render(request, "execution/batch_new.html", context)


def _local_moment(value: str | None) -> str | None:
    """A datetime-local field (no zone) is in the site's display time zone."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value  # the service names the field and says what is expected
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(settings.DISPLAY_TIME_ZONE))
    return moment.isoformat()


def _batch_context(request: HttpRequest, batch: Batch) -> dict[str, Any]:
    view = selectors.batch_view(batch, detail=False)
    context: dict[str, Any] = {
        "batch": batch,
        "view": view,
        "exceptions": list(selectors.exceptions(batch)),
        "can_hold": _can(request, "execution.hold") and batch.status == BatchStatus.IN_PROGRESS,
        "can_resume": _can(request, "execution.resume") and batch.status == BatchStatus.ON_HOLD,
        "can_start": _can(request, "execution.start_batch")
        and batch.status == BatchStatus.RELEASED_TO_FLOOR,
        "can_complete": _can(request, "execution.complete_batch")
        and batch.status == BatchStatus.IN_PROGRESS
        and view.state.is_complete,
        "release_form": None,
        "yield_percent": yield_percent_text(batch),
    }
    if batch.status == BatchStatus.CREATED and _can(request, "execution.release_batch"):
        context["release_form"] = _release_form(request, batch)
    return context


def _release_form(request: HttpRequest, batch: Batch) -> SignForm:
    return sign_form(
        request,
        obj=batch,
        meaning=Meaning.APPROVED,
        action_url=reverse("execution:release", args=[batch.number]),
        subject=f"batch record {batch.number} ({batch.mbr_code} v{batch.mbr_version})",
        summary=[
            ("Product", batch.product_name),
            ("Batch size", batch.batch_size),
            ("Master record", f"{batch.mbr_code} v{batch.mbr_version}"),
        ],
        note="Issue this batch record to the shop floor.",
        submit_label="Sign and release to the floor",
        form_id="release-form",
    )


@require_GET
@login_required_htmx
def batch_detail(request: HttpRequest, number: str) -> HttpResponse:
    permissions.require(request.user, "execution.view")
    batch = selectors.get_batch(number)
    return render(request, "execution/batch_detail.html", _batch_context(request, batch))


@require_POST
@login_required_htmx
def release(request: HttpRequest, number: str) -> HttpResponse:
    batch = selectors.get_batch(number)
    form = _release_form(request, batch)
    outcome = handle_sign_post(
        request,
        form=form,
        perform=lambda authority, data: services.release_to_floor(
            actor=request.user, number=number, authority=authority
        ),
    )
    if not outcome.ok:
        assert outcome.response is not None
        return outcome.response
    return _redirect(request, _batch_url(number))


def _batch_action(request: HttpRequest, number: str, act: Any) -> HttpResponse:
    try:
        act()
    except GalenicError as exc:
        batch = selectors.get_batch(number)
        context = _batch_context(request, batch)
        context["action_errors"] = _errors(exc)
        return render(request, "execution/batch_detail.html", context, status=exc.status)
    return _redirect(request, _batch_url(number))


@require_POST
@login_required_htmx
def start(request: HttpRequest, number: str) -> HttpResponse:
    return _batch_action(
        request, number, lambda: services.start_batch(actor=request.user, number=number)
    )


@require_POST
@login_required_htmx
def hold(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _batch_action(
        request,
        number,
        lambda: services.hold_batch(actor=request.user, number=number, reason=reason),
    )


@require_POST
@login_required_htmx
def resume(request: HttpRequest, number: str) -> HttpResponse:
    reason = request.POST.get("reason", "")
    return _batch_action(
        request,
        number,
        lambda: services.resume_batch(actor=request.user, number=number, reason=reason),
    )


@require_POST
@login_required_htmx
def complete(request: HttpRequest, number: str) -> HttpResponse:
    return _batch_action(
        request, number, lambda: services.complete_batch(actor=request.user, number=number)
    )


# --- the operator's step screen ---------------------------------------------------------------------


def _iteration(request: HttpRequest) -> int | None:
    raw = request.GET.get("iteration") or request.POST.get("iteration") or ""
    return int(raw) if raw.isdigit() else None


def _training_gaps(request: HttpRequest, view: selectors.StepView) -> list[str]:
    if not view.training:
        return []
    from galenic.accounts import selectors as accounts

    return accounts.training_gaps(request.user, view.training)  # type: ignore[arg-type]


def _awaits_verification(ex: StepExecution | None) -> bool:
    return ex is not None and ex.verification_required and ex.verified_at is None


def _step_context(
    request: HttpRequest, batch: Batch, key: str, iteration: int | None = None
) -> dict[str, Any]:
    flow = selectors.flow_of(batch)
    if key not in flow.graph.by_key:
        raise NotFound(f"Step {key!r} is not in this batch's master record.", field="step")
    execution = selectors.step_execution(batch, key, iteration) if iteration else None
    view = selectors.step_view(batch, key, execution=execution)
    ex = view.execution
    running = batch.status == BatchStatus.IN_PROGRESS
    is_open = bool(ex and ex.status in (StepStatus.AVAILABLE, StepStatus.IN_PROGRESS))
    can_record = running and is_open and _can(request, "execution.record")
    corrections = (
        running
        and ex is not None
        and ex.status != StepStatus.SKIPPED
        and _can(request, "execution.correct")
    )
    history = _history(view.entries)
    context: dict[str, Any] = {
        "batch": batch,
        "step": view,
        "execution": ex,
        "instructions_html": mark_safe(  # noqa: S308 - to_html escapes everything the author wrote
            to_html(
                view.instructions,
                lambda name: reverse("execution:document_file", args=[batch.number, name]),
            )
        ),
        "can_record": can_record,
        "can_correct": corrections,
        # 11.10(i): what keeps this person from the step, said before they try.
        "training_gaps": _training_gaps(request, view)
        if is_open or _awaits_verification(ex)
        else [],
        "can_comment": running and ex is not None and _can(request, "execution.comment"),
        "rows": [
            _param_row(batch, view, p, can_record=can_record, can_correct=corrections)
            for p in view.parameters
        ],
        "materials": [
            _material_row(batch, view, m, can_record=can_record, can_correct=corrections)
            for m in view.materials
        ],
        "history": history,
        "sign_form": None,
    }
    if ex is not None and running:
        context["sign_form"] = _step_sign_form(request, batch, ex)
    return context


def _history(entries: list[Entry]) -> list[dict[str, Any]]:
    """Every entry in order, corrected ones marked with what replaced them."""
    replaced = {e.supersedes_id: e for e in entries if e.supersedes_id}
    return [{"entry": e, "replaced_by": replaced.get(e.pk)} for e in entries]


def _param_row(
    batch: Batch,
    step: selectors.StepView,
    param: selectors.ParameterView,
    *,
    can_record: bool,
    can_correct: bool,
    errors: dict[str, str] | None = None,
    values: Any = None,
) -> dict[str, Any]:
    current = param.current
    equipment = [e.get("equipment_id") for e in step.equipment if e.get("equipment_id")]
    recordable = can_record and current is None and param.source != "calculated"
    binding = _binding(step, param, live=recordable) if param.source == "instrument" else None
    return {
        "batch": batch,
        "step": step,
        "param": param,
        "current": current,
        "source": _source_of(current) if current is not None else None,
        "is_calculated": param.source == "calculated",
        "can_record": recordable,
        "can_correct": can_correct and current is not None and param.source != "calculated",
        "needs_comment": current is not None
        and current.severity == "action"
        and not current.comment
        and not current.comments.exists(),
        "instrument_default": binding["instrument"]
        if binding
        else (equipment[0] if equipment else ""),
        "binding": binding,
        "errors": errors or {},
        "values": values or {},
        "row_id": f"param-{param.key}",
    }


_MODES = {"at_confirm": "at_confirm", "minimum": "min", "maximum": "max", "mean": "mean"}
_CAPTURE_LABELS = {
    "at_confirm": "Capture live value",
    "min": "Capture minimum over the step",
    "max": "Capture maximum over the step",
    "mean": "Capture mean over the step",
}


def _binding(
    step: selectors.StepView, param: selectors.ParameterView, *, live: bool, chosen: str = ""
) -> dict[str, Any]:
    """Which instrument a parameter is read from on this step, and (while it can be recorded)
    the live panel beside its button. The MBR names a balance, or a logical tag that the step's
    equipment carries as ``<equipment>.<tag>``."""
    spec = param.instrument or {}
    ids = [str(e["equipment_id"]) for e in step.equipment if e.get("equipment_id")]
    opened = step.execution.opened_at if step.execution is not None else None
    if spec.get("kind") == "tag":
        logical = str(spec.get("tag") or "")
        found = instruments.existing_tags(f"{e}.{logical}" for e in ids)
        code = next((e for e in ids if f"{e}.{logical}" in found), ids[0] if ids else "")
        tag = f"{code}.{logical}" if code and logical else ""
        mode = _MODES.get(str(spec.get("capture") or "at_confirm"), "at_confirm")
        status = None
        if live and tag:
            status = instruments.tag_status(tag, mode=mode, since=opened)  # type: ignore[arg-type]
        query = f"?mode={mode}" + (
            f"&since={opened.isoformat()}" if opened and mode != "at_confirm" else ""
        )
        return {
            "kind": "tag",
            "instrument": code,
            "tag": tag,
            "mode": mode,
            "button": _CAPTURE_LABELS[mode],
            "status": status,
            "status_url": reverse("equipment:tag_status", args=[tag]) + query if tag else "",
        }
    return _balance_binding(step, live=live, chosen=chosen)


def _balance_binding(step: selectors.StepView, *, live: bool, chosen: str = "") -> dict[str, Any]:
    """The balance a value (a parameter, a weighed material) is read from on this step: the
    one named, else the first registered balance among the step's equipment; with its live
    panel while the value can be recorded."""
    ids = [str(e["equipment_id"]) for e in step.equipment if e.get("equipment_id")]
    balances = instruments.balances() if live else []
    registered = {b.code for b in balances}
    code = chosen or next((e for e in ids if e in registered), ids[0] if ids else "")
    return {
        "kind": "balance",
        "instrument": code,
        "tag": "",
        "mode": "at_confirm",
        "button": "Read balance",
        "balances": balances,
        "status": instruments.balance_status(code) if live else None,
        # The panel follows the balance field (hx-include), whichever balance it names.
        "status_url": reverse("equipment:balance_status_for"),
    }


def _source_of(entry: Entry) -> dict[str, str]:
    """Where a recorded value came from, for the line under it."""
    if entry.source == "calculated":
        return {"kind": "calculated", "text": "calculated by the system"}
    if entry.source == "instrument":
        reading: dict[str, Any] = {}
        if entry.reading:
            try:
                reading = json.loads(entry.reading)
            except ValueError:
                reading = {}
        parts = [entry.instrument_code]
        if reading.get("model"):
            parts.append(str(reading["model"]))
        if entry.instrument_serial:
            parts.append(f"SN {entry.instrument_serial}")
        if reading.get("tag_code") and reading.get("mode"):
            mode = str(reading["mode"])
            parts.append(
                f"tag {reading['tag_code']}"
                + ("" if mode == "at_confirm" else f", {mode} of {reading.get('count')} values")
            )
        verb = "Read from balance" if reading.get("mode") is None else "Captured from"
        return {"kind": "instrument", "text": f"{verb} {' · '.join(p for p in parts if p)}"}
    return {"kind": "manual", "text": "typed by hand"}


def _material_row(
    batch: Batch,
    step: selectors.StepView,
    material: selectors.MaterialView,
    *,
    can_record: bool,
    can_correct: bool,
    errors: dict[str, str] | None = None,
    values: Any = None,
) -> dict[str, Any]:
    equipment = [e.get("equipment_id") for e in step.equipment if e.get("equipment_id")]
    recordable = can_record and material.current is None and material.weighed
    return {
        "batch": batch,
        "step": step,
        "material": material,
        "current": material.current,
        "can_record": recordable,
        "can_correct": can_correct and material.current is not None,
        "instrument_default": equipment[0] if equipment else "",
        "binding": _balance_binding(step, live=recordable) if recordable else None,
        "errors": errors or {},
        "values": values or {},
        "row_id": f"material-{material.material}",
    }


def _step_sign_form(request: HttpRequest, batch: Batch, ex: StepExecution) -> SignForm | None:
    """The signature this person can give on this step now, if any."""
    action_url = ""
    meaning = Meaning.PERFORMED
    note = ""
    if ex.status in (StepStatus.AVAILABLE, StepStatus.IN_PROGRESS) and _can(
        request, "execution.perform"
    ):
        action_url = reverse("execution:perform", args=[batch.number, ex.step_key])
        note = "Complete the step: the values above are recorded as you performed them."
    elif (
        ex.verification_required
        and ex.verified_at is None
        and ex.status in (StepStatus.PERFORMED, StepStatus.COMPLETED)
        and _can(request, "execution.verify")
    ):
        action_url = reverse("execution:verify", args=[batch.number, ex.step_key])
        meaning = Meaning.VERIFIED
        note = "Second-person check of the values, weighings and materials of this step."
    elif (
        ex.approval_required
        and ex.approved_at is None
        and ex.status == StepStatus.PERFORMED
        and (not ex.verification_required or ex.verified_at is not None)
        and _can(request, "execution.approve")
    ):
        action_url = reverse("execution:approve", args=[batch.number, ex.step_key])
        meaning = Meaning.APPROVED
        note = "Supervisor approval of this step."
    if not action_url:
        return None
    return sign_form(
        request,
        obj=ex,
        meaning=meaning,
        action_url=action_url + f"?iteration={ex.iteration}",
        subject=f"step {ex.step_key}"
        + (f" (run {ex.iteration})" if ex.iteration > 1 else "")
        + f" of batch {batch.number}",
        note=note,
        form_id="step-sign-form",
    )


@require_GET
@login_required_htmx
def step_detail(request: HttpRequest, number: str, key: str) -> HttpResponse:
    permissions.require(request.user, "execution.view")
    batch = selectors.get_batch(number)
    return render(
        request, "execution/step.html", _step_context(request, batch, key, _iteration(request))
    )


def _row_response(
    request: HttpRequest,
    batch: Batch,
    key: str,
    *,
    param_key: str = "",
    material: str = "",
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _step_context(request, selectors.get_batch(batch.number), key)
    if param_key:
        row = next(r for r in context["rows"] if r["param"].key == param_key)
        template = "execution/_param_row.html"
    else:
        row = next(r for r in context["materials"] if r["material"].material == material)
        template = "execution/_material_row.html"
    row["errors"] = errors or {}
    row["values"] = request.POST if errors else {}
    binding = row.get("binding")
    if errors and binding and binding["kind"] == "balance" and row.get("can_record"):
        # A refused read keeps the balance the operator named, and its live panel.
        chosen = request.POST.get("instrument", "").strip()[:40]
        row["binding"] = (
            _binding(context["step"], row["param"], live=True, chosen=chosen)
            if param_key
            else _balance_binding(context["step"], live=True, chosen=chosen)
        )
    # htmx swaps 200 answers only; the row carries its own error text. The sign form comes
    # along (out of band): its fingerprint must be of the values now on the screen.
    return render(
        request,
        "execution/_row_update.html",
        {
            "row": row,
            "template": template,
            "sign_form": context["sign_form"],
            "calculated": [r for r in context["rows"] if r["is_calculated"]],
        },
        status=200 if is_htmx(request) else status,
    )


@require_POST
@login_required_htmx
def record(request: HttpRequest, number: str, key: str) -> HttpResponse:
    """One value from the step screen (typed, scanned, or read from an instrument)."""
    batch = selectors.get_batch(number)
    post = request.POST
    param_key = post.get("key", "")
    material = post.get("material", "")
    value: Any = post.get("value", "")
    unit = post.get("unit", "")
    if _has_unit(value):
        unit = ""  # a unit typed (or scanned) with the number wins over the unit box
    try:
        services.record_value(
            actor=request.user,
            number=number,
            step_key=key,
            key=param_key,
            material=material,
            value=_local_moment(value) if post.get("type") == "datetime" else value,
            unit=unit,
            source=post.get("source", "manual") or "manual",
            instrument=post.get("instrument", ""),
            tag=post.get("tag", ""),
            comment=post.get("comment", ""),
            reason=post.get("reason", ""),
            observed_at=_local_moment(post.get("observed_at")),
        )
    except GalenicError as exc:
        return _row_response(
            request,
            batch,
            key,
            param_key=param_key,
            material=material,
            errors=_errors(exc),
            status=exc.status,
        )
    return _row_response(request, batch, key, param_key=param_key, material=material)


@require_POST
@login_required_htmx
def correct(request: HttpRequest, number: str, entry_id: int) -> HttpResponse:
    batch = selectors.get_batch(number)
    original = Entry.objects.filter(batch=batch, pk=entry_id).select_related("step").first()
    if original is None:
        raise NotFound(f"Batch {number} has no entry {entry_id}.", field="entry_id")
    post = request.POST
    param_key, material = _row_keys(original)
    try:
        services.correct_entry(
            actor=request.user,
            number=number,
            entry_id=entry_id,
            value=post.get("value", ""),
            unit="" if _has_unit(post.get("value", "")) else post.get("unit", ""),
            reason=post.get("reason", ""),
            source=post.get("source", "manual") or "manual",
            instrument=post.get("instrument", ""),
            comment=post.get("comment", ""),
        )
    except GalenicError as exc:
        return _row_response(
            request,
            batch,
            original.step.step_key,
            param_key=param_key,
            material=material,
            errors=_errors(exc),
            status=exc.status,
        )
    return _row_response(
        request, batch, original.step.step_key, param_key=param_key, material=material
    )


def _has_unit(value: str) -> bool:
    try:
        return bool(Quantity.parse(value).unit)
    except UnitError:
        return False


def _row_keys(entry: Entry) -> tuple[str, str]:
    """(parameter key, material code) of the row an entry is shown in."""
    return (entry.key, "") if entry.kind == EntryKind.PARAMETER else ("", entry.key)


@require_POST
@login_required_htmx
def comment(request: HttpRequest, number: str, key: str) -> HttpResponse:
    """A comment on the step or on one of its entries (e.g. an excursion)."""
    batch = selectors.get_batch(number)
    entry_id = request.POST.get("entry_id") or ""
    entry = (
        Entry.objects.filter(batch=batch, pk=int(entry_id)).first() if entry_id.isdigit() else None
    )
    param_key, material = _row_keys(entry) if entry is not None else ("", "")
    try:
        services.add_comment(
            actor=request.user,
            number=number,
            text=request.POST.get("text", ""),
            step_key=key,
            entry_id=entry.pk if entry else None,
            iteration=_iteration(request),
        )
    except GalenicError as exc:
        if entry is not None:
            return _row_response(
                request,
                batch,
                key,
                param_key=param_key,
                material=material,
                errors=_errors(exc),
                status=exc.status,
            )
        context = _step_context(request, batch, key)
        context["comment_errors"] = _errors(exc)
        return render(request, "execution/step.html", context, status=exc.status)
    if entry is not None:
        return _row_response(request, batch, key, param_key=param_key, material=material)
    return _redirect(request, _step_url(number, key))


@require_POST
@login_required_htmx
def attach(request: HttpRequest, number: str, key: str) -> HttpResponse:
    batch = selectors.get_batch(number)
    upload = request.FILES.get("file")
    limit = services.max_attachment_bytes()
    try:
        services.add_attachment(
            actor=request.user,
            number=number,
            filename=(upload.name or "") if upload else "",
            content=upload.read(limit + 1) if upload else b"",
            content_type=(upload.content_type or "") if upload else "",
            description=request.POST.get("description", ""),
            step_key=key,
            iteration=_iteration(request),
        )
    except GalenicError as exc:
        context = _step_context(request, batch, key)
        context["attach_errors"] = _errors(exc)
        return render(request, "execution/step.html", context, status=exc.status)
    return _redirect(request, _step_url(number, key))


def _signed(request: HttpRequest, number: str, key: str, service: Any, action: str) -> HttpResponse:
    # Whoever may not sign this at all is refused as such (403), not told "nothing to sign".
    permissions.require(request.user, action)
    batch = selectors.get_batch(number)
    iteration = _iteration(request)
    ex = selectors.step_execution(batch, key, iteration)
    form = _step_sign_form(request, batch, ex)
    if form is None:
        context = _step_context(request, batch, key, iteration)
        context["action_errors"] = {"": "There is nothing for you to sign on this step now."}
        return render(request, "execution/step.html", context, status=409)
    outcome = handle_sign_post(
        request,
        form=form,
        perform=lambda authority, data: service(
            actor=request.user,
            number=number,
            step_key=key,
            authority=authority,
            iteration=ex.iteration,
            content_sha256=data.content_sha256,
        ),
    )
    if not outcome.ok:
        assert outcome.response is not None
        return outcome.response
    return _redirect(request, _batch_url(number))


@require_POST
@login_required_htmx
def perform(request: HttpRequest, number: str, key: str) -> HttpResponse:
    return _signed(request, number, key, services.perform_step, "execution.perform")


@require_POST
@login_required_htmx
def verify(request: HttpRequest, number: str, key: str) -> HttpResponse:
    return _signed(request, number, key, services.verify_step, "execution.verify")


@require_POST
@login_required_htmx
def approve(request: HttpRequest, number: str, key: str) -> HttpResponse:
    return _signed(request, number, key, services.approve_step, "execution.approve")


@require_GET
@login_required_htmx
def document_file(request: HttpRequest, number: str, name: str) -> HttpResponse:
    """An image the instructions refer to (served by the API view, same checks)."""
    from galenic.execution.api import document_file as api_document_file

    return api_document_file(request, number, name)
