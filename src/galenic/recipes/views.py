"""Master batch records in the browser: list, version page, visual builder, diff, dry run and
the lifecycle buttons with the signing form. Views read through selectors and change nothing
themselves: every change is a call to ``recipes.services``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from galenic.accounts import permissions
from galenic.core.errors import (
    GalenicError,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from galenic.recipes import builder, editing, selectors, services
from galenic.recipes.api import export_response, run_dry_run
from galenic.recipes.document import (
    DocumentInvalid,
    MasterBatchRecord,
    Problem,
    dump_yaml,
    to_data,
    validate,
)
from galenic.recipes.document.diff import AREA_TITLES
from galenic.recipes.document.dryrun import parse_example_values
from galenic.recipes.document.richtext import to_html
from galenic.recipes.models import MasterRecordVersion, VersionStatus
from galenic.signatures.forms import SignForm, handle_sign_post, is_htmx, sign_form
from galenic.signatures.models import Meaning
from galenic.signatures.views import login_required_htmx

S = VersionStatus


def _version(request: HttpRequest, code: str, number: int) -> MasterRecordVersion:
    return selectors.version(request.user, code, number)


def _version_url(version: MasterRecordVersion) -> str:
    return reverse("recipes:version", args=[version.master.code, version.version])


def _can(request: HttpRequest, action: str) -> bool:
    return permissions.can(request.user, action)


# --- list and new ----------------------------------------------------------------------------


@require_GET
@login_required_htmx
def mbr_list(request: HttpRequest) -> HttpResponse:
    masters = selectors.master_records_with_versions(request.user)
    return render(
        request,
        "recipes/mbr_list.html",
        {"masters": masters, "can_author": _can(request, "recipes.author")},
    )


@require_http_methods(["GET", "POST"])
@login_required_htmx
def mbr_new(request: HttpRequest) -> HttpResponse:
    """A new MBR: an empty draft to fill in the builder, or a draft from a YAML/JSON file."""
    permissions.require(request.user, "recipes.author")
    context: dict[str, Any] = {"values": request.POST, "errors": {}, "problems": []}
    if request.method == "POST":
        reason = request.POST.get("reason", "")
        upload = request.FILES.get("file")
        try:
            if upload is not None:
                text = upload.read(services.MAX_ATTACHMENT_BYTES + 1).decode("utf-8")
                version = services.import_text(actor=request.user, text=text, reason=reason)
            else:
                document = services.document_from_data(
                    {
                        "code": request.POST.get("code", "").strip(),
                        "title": request.POST.get("title", "").strip(),
                    }
                )
                version = services.create_master_record(
                    actor=request.user, document=document, reason=reason
                )
        except UnicodeDecodeError:
            context["errors"] = {"file": "The file must be UTF-8 text (YAML or JSON)."}
        except GalenicError as exc:
            context["message"] = exc.message
            context["errors"] = {e.field: e.message for e in exc.errors}
            context["problems"] = exc.errors
        else:
            messages.success(
                request, f"{version.master.code} version {version.version} created as a draft."
            )
            if upload is not None:
                return redirect(_version_url(version))
            return redirect("recipes:builder", version.master.code, version.version)
    return render(
        request, "recipes/mbr_new.html", context, status=400 if context["errors"] else 200
    )


@require_GET
@login_required_htmx
def mbr_detail(request: HttpRequest, code: str) -> HttpResponse:
    master = selectors.master_record(request.user, code)
    versions = list(selectors.versions_of(master))
    return render(
        request,
        "recipes/mbr_detail.html",
        {"master": master, "versions": versions, "open_version": selectors.open_version(master)},
    )


# --- the version page ------------------------------------------------------------------------


def _attachment_url(doc: MasterBatchRecord) -> Callable[[str], str]:
    shas = {a.id: a.sha256 for a in doc.attachments}

    def url(attachment_id: str) -> str:
        sha = shas.get(attachment_id)
        return reverse("recipes:attachment", args=[sha]) if sha else "#"

    return url


def document_context(version: MasterRecordVersion) -> dict[str, Any]:
    doc = version.document()
    url = _attachment_url(doc)
    # to_html escapes everything and emits only its own safe Markdown subset.
    steps_html = {
        ref.step.key: mark_safe(to_html(ref.step.instructions, url))  # noqa: S308
        for ref in doc.walk_steps()
    }
    present = selectors.attachments_present([a.sha256 for a in doc.attachments])
    return {
        "doc": doc,
        "steps_html": steps_html,
        "attachments": [
            {
                "item": a,
                "url": url(a.id) if a.sha256 in present else "",
                "image": a.media_type.startswith("image/"),
            }
            for a in doc.attachments
        ],
        "step_count": sum(1 for _ in doc.walk_steps()),
    }


def _people(version: MasterRecordVersion) -> set[int]:
    ids = services.preparers(version)
    if version.checked_signature is not None:
        ids.add(version.checked_signature.signer_id)
    return ids


def _sign_form_for(request: HttpRequest, version: MasterRecordVersion, action: str) -> SignForm:
    meaning, label, note = {
        "submit": (
            Meaning.AUTHORED,
            "Sign as author and send for review",
            "You confirm you prepared this master record and it is complete and correct.",
        ),
        "check": (
            Meaning.CHECKED,
            "Sign as checker",
            "You confirm you independently checked this master record (21 CFR 211.186).",
        ),
        "approve": (
            Meaning.APPROVED,
            "Sign the QA approval",
            "You approve this master record for use once it is made effective.",
        ),
    }[action]
    return sign_form(
        request,
        meaning=meaning,
        action_url=reverse("recipes:sign", args=[version.master.code, version.version, action]),
        obj=version,
        subject=f"{version.master.code} version {version.version}: {version.master.name}",
        summary=[
            ("MBR", version.master.code),
            ("Version", str(version.version)),
            ("Document", version.content_hash[:23] + "…"),
        ],
        note=note,
        submit_label=label,
        form_id=f"sign-{action}",
    )


def lifecycle_context(request: HttpRequest, version: MasterRecordVersion) -> dict[str, Any]:
    """Which lifecycle actions this user may take on this version now."""
    user = request.user
    mine = user.pk in _people(version)
    status = version.status
    actions: dict[str, Any] = {}
    problems = selectors.problems(version) if status == S.DRAFT else []
    if status == S.DRAFT and _can(request, "recipes.author"):
        actions["edit"] = True
        if not problems:
            actions["submit"] = _sign_form_for(request, version, "submit")
    if status == S.IN_REVIEW:
        if version.checked_signature_id is None:
            if _can(request, "recipes.check") and not mine:
                actions["check"] = _sign_form_for(request, version, "check")
        elif (
            _can(request, "recipes.approve")
            and not mine
            and (
                user.pk != version.checked_signature.signer_id  # type: ignore[union-attr]
            )
        ):
            actions["approve"] = _sign_form_for(request, version, "approve")
    if status in (S.IN_REVIEW, S.APPROVED) and _can(request, "recipes.reject"):
        actions["reject"] = True
    if status == S.APPROVED and _can(request, "recipes.make_effective"):
        actions["make_effective"] = True
    if status in services.RETIRABLE and _can(request, "recipes.retire"):
        actions["retire"] = True
    if (
        status in services.NEW_VERSION_FROM
        and _can(request, "recipes.author")
        and selectors.open_version(version.master) is None
    ):
        actions["new_version"] = True
    baseline = selectors.approval_baseline(version)
    comparison = selectors.compare(baseline, version) if baseline is not None else None
    return {
        "actions": actions,
        "problems": problems,
        "mine": mine,
        "baseline": baseline,
        "comparison": comparison,
        "area_titles": AREA_TITLES,
    }


@require_GET
@login_required_htmx
def version_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _version(request, code, number)
    return render(
        request,
        "recipes/version.html",
        {
            "version": version,
            "master": version.master,
            **document_context(version),
            **lifecycle_context(request, version),
        },
    )


@require_GET
@login_required_htmx
def version_export(request: HttpRequest, code: str, number: int, fmt: str) -> HttpResponse:
    if fmt not in ("yaml", "json"):
        raise NotFound("Export as .yaml or .json.", field="format")
    return export_response(_version(request, code, number), fmt)


@require_GET
@login_required_htmx
def attachment(request: HttpRequest, sha256: str) -> HttpResponse:
    stored = selectors.attachment(request.user, sha256)
    response = HttpResponse(bytes(stored.content), content_type=stored.media_type)
    disposition = "inline" if stored.media_type.startswith("image/") else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{stored.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox; frame-ancestors 'none'"
    return response


# --- lifecycle -------------------------------------------------------------------------------


@require_POST
@login_required_htmx
def sign(request: HttpRequest, code: str, number: int, action: str) -> HttpResponse:
    version = _version(request, code, number)
    if action not in ("submit", "check", "approve"):
        raise ValidationFailed("Unknown action.", field="action")
    form = _sign_form_for(request, version, action)
    service = {
        "submit": services.submit_for_review,
        "check": services.check_version,
        "approve": services.approve,
    }[action]
    outcome = handle_sign_post(
        request,
        form=form,
        perform=lambda authority, data: service(
            actor=request.user,
            version=version,
            authority=authority,
            reason=data.reason,
            expected_content_sha256=data.content_sha256,
        ),
    )
    if not outcome.ok:
        assert outcome.response is not None
        return outcome.response
    done = {
        "submit": "signed as author and sent for review",
        "check": "checked and signed",
        "approve": "approved and signed",
    }[action]
    messages.success(request, f"{version.master.code} version {version.version} {done}.")
    return _go(request, _version_url(version))


def _go(request: HttpRequest, url: str) -> HttpResponse:
    if is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)


REASON_ACTIONS: dict[str, tuple[Callable[..., MasterRecordVersion], str]] = {
    "reject": (services.reject, "sent back to draft"),
    "make-effective": (services.make_effective, "is now effective"),
    "retire": (services.retire, "retired"),
}


@require_POST
@login_required_htmx
def reason_action(request: HttpRequest, code: str, number: int, action: str) -> HttpResponse:
    version = _version(request, code, number)
    if action not in REASON_ACTIONS:
        raise ValidationFailed("Unknown action.", field="action")
    service, done = REASON_ACTIONS[action]
    try:
        version = service(
            actor=request.user,
            version=version,
            reason=request.POST.get("reason", ""),
            expected_row_version=_int(request.POST.get("row_version")),
        )
    except (PermissionDenied, NotAuthenticated):
        raise  # a refusal of the person is a 403 page, never a quiet redirect
    except GalenicError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{version.master.code} version {version.version} {done}.")
    return redirect(_version_url(version))


@require_POST
@login_required_htmx
def new_version(request: HttpRequest, code: str, number: int) -> HttpResponse:
    source = _version(request, code, number)
    try:
        version = services.new_version(
            actor=request.user, version=source, reason=request.POST.get("reason", "")
        )
    except (PermissionDenied, NotAuthenticated):
        raise
    except GalenicError as exc:
        messages.error(request, exc.message)
        return redirect(_version_url(source))
    messages.success(request, f"Version {version.version} started as a draft.")
    return redirect("recipes:builder", code, version.version)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- diff and dry run ------------------------------------------------------------------------


@require_GET
@login_required_htmx
def diff_page(request: HttpRequest, code: str) -> HttpResponse:
    master = selectors.master_record(request.user, code)
    versions = list(selectors.versions_of(master))
    numbers = [v.version for v in versions]
    new_n = _int(request.GET.get("to")) or (numbers[0] if numbers else None)
    old_n = _int(request.GET.get("from")) or (numbers[1] if len(numbers) > 1 else new_n)
    comparison = None
    if old_n is not None and new_n is not None:
        old = selectors.version(request.user, code, old_n)
        new = selectors.version(request.user, code, new_n)
        comparison = selectors.compare(old, new)
    return render(
        request,
        "recipes/diff.html",
        {
            "master": master,
            "versions": versions,
            "old_n": old_n,
            "new_n": new_n,
            "comparison": comparison,
            "area_titles": AREA_TITLES,
        },
    )


@require_http_methods(["GET", "POST"])
@login_required_htmx
def dry_run_page(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _version(request, code, number)
    doc = version.document()
    nominal = f"{doc.batch_size.size} {doc.batch_size.unit}" if doc.batch_size else ""
    context: dict[str, Any] = {
        "version": version,
        "master": version.master,
        "batch_size": request.POST.get("batch_size", nominal),
        "values_text": request.POST.get("values", ""),
        "problems": selectors.problems(version),
        "report": None,
        "error": None,
    }
    if request.method == "POST" and not context["problems"]:
        try:
            lines = [ln for ln in context["values_text"].splitlines() if ln.strip()]
            values = parse_example_values(lines)
        except ValueError as exc:
            context["error"] = ValidationFailed(str(exc), field="values")
        else:
            try:
                context["report"] = run_dry_run(version, context["batch_size"], dict(values))
            except GalenicError as exc:
                context["error"] = exc
    return render(request, "recipes/dry_run.html", context)


# --- the visual builder ----------------------------------------------------------------------


def _draft(request: HttpRequest, code: str, number: int) -> MasterRecordVersion:
    version = _version(request, code, number)
    permissions.require(request.user, "recipes.author")
    return version


def builder_context(
    version: MasterRecordVersion, *, focus: str = "", message: str = ""
) -> dict[str, Any]:
    doc = version.document()
    problems = validate(doc)
    return {
        "version": version,
        "master": version.master,
        "view": builder.builder_view(to_data(doc), problems),
        "problem_count": len(problems),
        "focus": focus,
        "message": message,
        "editable": version.status == S.DRAFT,
        "role_options": builder.SPECS["component"].fields[2].choices,
        "packaging_options": builder.SPECS["packaging"].fields[0].choices,
    }


@require_GET
@login_required_htmx
def builder_page(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _draft(request, code, number)
    if version.status != S.DRAFT:
        messages.error(
            request,
            f"Version {version.version} is {version.get_status_display().lower()}: only a draft "
            "is edited. Start a new version to change it.",
        )
        return redirect(_version_url(version))
    return render(request, "recipes/builder.html", builder_context(version))


def _ops_from_post(
    version: MasterRecordVersion, post: QueryDict
) -> tuple[list[editing.EditOp], str]:
    """The edit a builder form asks for, and the path to keep in view afterwards."""
    kind = post.get("kind", "")
    action = post.get("action", "set")
    path = post.get("path", "")
    if kind not in builder.SPECS:
        raise ValidationFailed("Unknown part of the record.", field="kind")
    if action == "set":
        return builder.edits_for_set(kind, path, post), path
    if action == "remove":
        return [editing.EditOp("remove", path)], path.rsplit("[", 1)[0]
    if action in ("up", "down"):
        tokens = editing.parse_path(path)
        index = tokens[-1] if tokens and isinstance(tokens[-1], int) else 0
        to = index - 1 if action == "up" else index + 1
        moved = editing.format_path([*tokens[:-1], to])
        return [editing.EditOp("move", path, to=to)], moved
    if action == "move_to":
        into = post.get("into", "")
        try:
            count = len(editing.node_at(to_data(version.document()), into) or [])
        except (editing.EditError, TypeError):
            count = 0
        return [editing.EditOp("move", path, into=into)], f"{into}[{count}]"
    if action == "add":
        list_path = post.get("list", "")
        data = to_data(version.document())
        try:
            siblings = editing.node_at(data, list_path)
        except editing.EditError:
            siblings = []
        item = builder.new_item(kind, data, siblings, post)
        count = len(siblings) if isinstance(siblings, list) else 0
        return [editing.EditOp("insert", list_path, item=item)], f"{list_path}[{count}]"
    raise ValidationFailed("Unknown action.", field="action")


def _errors_response(
    request: HttpRequest, kind: str, path: str, problems: list[Problem], message: str = ""
) -> HttpResponse:
    """Problems for one form: its own list, and out-of-band beside each of its fields."""
    if kind not in builder.SPECS:
        kind = "header"
    fields = builder.bind(kind, path, None, builder.problems_by_path(problems))
    own = builder.item_problems(kind, path, problems, field_paths=[f.path for f in fields])
    return render(
        request,
        "recipes/_form_problems.html",
        {"fields": fields, "own": own, "message": message, "others": len(problems) - len(own)},
    )


@require_GET
@login_required_htmx
def builder_item(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """A step's forms, loaded when the step is opened (keeps the builder light for big MBRs)."""
    version = _draft(request, code, number)
    context = builder_context(version)
    step = context["view"].step(request.GET.get("path", ""))
    if step is None:
        return HttpResponse('<p class="muted">This step is no longer there; reload the page.</p>')
    return render(request, "recipes/_step_body.html", {**context, "step": step})


@require_POST
@login_required_htmx
def builder_op(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _draft(request, code, number)
    kind, path = request.POST.get("kind", ""), request.POST.get("path", "")
    try:
        ops, focus = _ops_from_post(version, request.POST)
        version = services.edit_document(
            actor=request.user,
            version=version,
            ops=ops,
            expected_row_version=_int(request.POST.get("row_version")),
            reason=request.POST.get("reason") or None,
        )
    except (GalenicError, editing.EditError) as exc:
        if isinstance(exc, editing.EditError):
            exc = ValidationFailed(exc.message, field=exc.path)
        if not is_htmx(request):
            messages.error(request, exc.message)
            return redirect("recipes:builder", code, number)
        problems = [Problem(e.field, "refused", e.message) for e in exc.errors]
        response = _errors_response(request, kind, path, problems, message=exc.message)
        response["HX-Retarget"] = f"#{builder.form_id(kind, path)}-problems"
        response["HX-Reswap"] = "innerHTML"
        return response
    if not is_htmx(request):
        return redirect("recipes:builder", code, number)
    return render(request, "recipes/_builder.html", builder_context(version, focus=focus))


@require_POST
@login_required_htmx
def builder_preview(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """Instant validation: what the record's problems would be with this form as typed."""
    version = _draft(request, code, number)
    kind, path = request.POST.get("kind", ""), request.POST.get("path", "")
    if kind not in builder.SPECS:
        raise ValidationFailed("Unknown part of the record.", field="kind")
    try:
        doc = services.apply_edits(
            version.document(), builder.edits_for_set(kind, path, request.POST)
        )
        problems = validate(doc)
    except ValidationFailed as exc:
        problems = [Problem(e.field, "structure", e.message) for e in exc.errors]
    return _errors_response(request, kind, path, problems)


@require_POST
@login_required_htmx
def builder_attach(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = _draft(request, code, number)
    upload = request.FILES.get("file")
    try:
        if upload is None:
            raise ValidationFailed("Choose a file to attach.", field="file")
        version = services.add_attachment(
            actor=request.user,
            version=version,
            attachment_id=request.POST.get("attachment_id", "").strip(),
            filename=upload.name or "file",
            media_type=upload.content_type or "",
            content=upload.read(services.MAX_ATTACHMENT_BYTES + 1),
            description=request.POST.get("description", "").strip(),
            expected_row_version=_int(request.POST.get("row_version")),
            reason=request.POST.get("reason") or None,
        )
    except (PermissionDenied, NotAuthenticated):
        raise
    except GalenicError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "File attached.")
    return redirect(reverse("recipes:builder", args=[code, number]) + "#a-attachments")


@require_http_methods(["GET", "POST"])
@login_required_htmx
def builder_yaml(request: HttpRequest, code: str, number: int) -> HttpResponse:
    """The whole draft as YAML text, for edits the forms do not cover."""
    version = _draft(request, code, number)
    context: dict[str, Any] = {
        "version": version,
        "master": version.master,
        "text": dump_yaml(version.document()),
        "errors": [],
    }
    if request.method == "POST":
        context["text"] = request.POST.get("text", "").replace("\r\n", "\n")
        try:
            document = services.read_document(context["text"])
            services.replace_document(
                actor=request.user,
                version=version,
                document=document,
                expected_row_version=_int(request.POST.get("row_version")),
                reason=request.POST.get("reason") or None,
            )
        except (GalenicError, DocumentInvalid) as exc:
            context["message"] = str(getattr(exc, "message", exc))
            context["errors"] = getattr(exc, "errors", [])
            return render(request, "recipes/builder_yaml.html", context, status=400)
        messages.success(request, "Document saved.")
        return redirect("recipes:builder", code, number)
    return render(request, "recipes/builder_yaml.html", context)
