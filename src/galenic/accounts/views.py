"""Server-rendered pages: login/logout, own password and account, and user administration.

Views parse input and call one service; errors come back as GalenicError and are shown next to
the form they concern. Nothing here writes with the ORM.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from galenic.accounts import selectors, services
from galenic.accounts.forms import LoginForm
from galenic.accounts.models import User
from galenic.accounts.passwords import password_change_reason
from galenic.accounts.permissions import can, require
from galenic.accounts.roles import Role
from galenic.accounts.sessions import keep_session_after_password_change
from galenic.audit.selectors import events_for_object
from galenic.core.errors import GalenicError, PermissionDenied
from galenic.core.timefmt import local_today


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = "accounts:login"


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or default
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


def _errors(exc: GalenicError) -> dict[str, str]:
    return {e.field: e.message for e in exc.errors} or {"": exc.message}


def shown_as_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Turn a GalenicError that escapes a view (not allowed, not found) into the error page."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except GalenicError as exc:
            titles = {403: "Not allowed", 404: "Not found", 409: "Not possible now"}
            return render(
                request,
                "galenic/error.html",
                {"title": titles.get(exc.status, "Not accepted"), "text": exc.message},
                status=exc.status,
            )

    return wrapped


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- own account ---------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def password_change(request: HttpRequest) -> HttpResponse:
    """Change one's own password (also where expired or reset passwords send the user)."""
    ctx: dict[str, Any] = {
        "reason": password_change_reason(request.user),
        "next": _safe_next(request),
        "errors": {},
        "min_length": settings.PASSWORD_MIN_LENGTH,
        "history": settings.PASSWORD_HISTORY,
    }
    if request.method == "POST":
        if request.POST.get("new_password", "") != request.POST.get("new_password_again", ""):
            ctx["errors"] = {"new_password_again": "The two new passwords differ."}
            return render(request, "accounts/password_change.html", ctx, status=400)
        try:
            services.change_password(
                actor=request.user,  # type: ignore[arg-type]
                old_password=request.POST.get("old_password", ""),
                new_password=request.POST.get("new_password", ""),
                session_key=request.session.session_key,
            )
        except GalenicError as exc:
            if isinstance(exc, PermissionDenied):  # that attempt locked the account
                messages.error(request, exc.message)
                return redirect("accounts:login")
            ctx["errors"] = _errors(exc)
            return render(request, "accounts/password_change.html", ctx, status=exc.status)
        keep_session_after_password_change(request)
        messages.success(request, "Your password was changed.")
        return redirect(ctx["next"])
    return render(request, "accounts/password_change.html", ctx)


@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    return render(
        request,
        "accounts/me.html",
        {
            "u": user,
            "roles": sorted(user.role_codes()),
            "password_expires_at": selectors.password_expiry(user),
            "sessions": selectors.open_sessions(user),
        },
    )


# --- user administration ---------------------------------------------------------------------


@login_required
@shown_as_page
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "all")
    if status not in selectors.STATUSES:
        status = "all"
    search = request.GET.get("q", "")
    rows = selectors.users_for(request.user, status=status, search=search)
    return render(
        request,
        "accounts/user_list.html",
        {
            "rows": [(u, selectors.role_codes(u), selectors.status_of(u)) for u in rows],
            "status": status,
            "statuses": selectors.STATUSES,
            "q": search,
            "can_manage": can(request.user, "accounts.create_user"),
        },
    )


@login_required
@shown_as_page
@require_http_methods(["GET", "POST"])
def user_create(request: HttpRequest) -> HttpResponse:
    ctx: dict[str, Any] = {"roles": Role.choices, "errors": {}, "form": {}, "chosen": []}
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in ("username", "full_name", "email", "reason")}
        chosen = request.POST.getlist("roles")
        try:
            user, one_time = services.create_user_with_one_time_password(
                actor=request.user,  # type: ignore[arg-type]
                username=form["username"],
                full_name=form["full_name"],
                email=form["email"],
                roles=chosen,
                reason=form["reason"],
            )
        except GalenicError as exc:
            ctx.update(errors=_errors(exc), form=form, chosen=chosen)
            return render(request, "accounts/user_create.html", ctx, status=exc.status)
        # Shown once, never stored in clear: the page is not a redirect target.
        return render(
            request,
            "accounts/one_time_password.html",
            {"u": user, "one_time_password": one_time, "created": True},
        )
    require(request.user, "accounts.create_user")
    return render(request, "accounts/user_create.html", ctx)


def _detail_context(request: HttpRequest, user: User) -> dict[str, Any]:
    held = selectors.role_codes(user)
    is_self = user.pk == request.user.pk
    return {
        "u": user,
        "status": selectors.status_of(user),
        "held": [(code, Role(code).label) for code in held],
        "grantable": [(c, label) for c, label in Role.choices if c not in held],
        "history": selectors.role_history(user),
        "sessions": selectors.recent_sessions(user),
        "events": list(events_for_object("accounts.user", str(user.pk)).order_by("-seq")[:50]),
        "password_expires_at": selectors.password_expiry(user),
        "can_manage": can(request.user, "accounts.edit_user"),
        "training": _training_rows(request, user),
        "can_record_training": not is_self and can(request.user, "accounts.record_training"),
        "reviews": selectors.access_reviews(user),
        "review_due": selectors.review_due_on(user),
        "can_review_access": not is_self and can(request.user, "accounts.review_access"),
        # The service refuses the account's creator too (a second administrator checks).
        "can_check_identity": not is_self
        and not user.identity_verified
        and user.created_by_id != request.user.pk
        and can(request.user, "accounts.verify_identity"),
        "is_self": is_self,
        "errors": {},
        "form_name": "",
        "error_panel": "",
        "form": {},
    }


def _training_rows(request: HttpRequest, user: User) -> list[dict[str, Any]]:
    today = local_today()
    return [
        {"r": r, "state": selectors.training_state(r, today)}
        for r in selectors.training_of(request.user, user)
    ]


@login_required
@shown_as_page
@require_GET
def user_detail(request: HttpRequest, username: str) -> HttpResponse:
    user = selectors.user_for(request.user, username)
    return render(request, "accounts/user_detail.html", _detail_context(request, user))


def _act(request: HttpRequest, username: str, form_name: str, action: Any) -> HttpResponse:
    """Run one service for a posted form; on error re-render the page with the error there."""
    user = selectors.user_for(request.user, username)
    try:
        done = action(user)
    except GalenicError as exc:
        ctx = _detail_context(request, selectors.user_for(request.user, username))
        panel = "roles" if form_name == "grant" or form_name.startswith("revoke-") else form_name
        ctx.update(errors=_errors(exc), form_name=form_name, error_panel=panel, form=request.POST)
        template = "accounts/_roles.html" if _is_htmx(request) else "accounts/user_detail.html"
        # htmx swaps only 2xx answers; the error is in the panel it replaces.
        return render(request, template, ctx, status=200 if _is_htmx(request) else exc.status)
    if isinstance(done, HttpResponse):
        return done
    if _is_htmx(request):
        ctx = _detail_context(request, selectors.user_for(request.user, username))
        ctx["done"] = done
        return render(request, "accounts/_roles.html", ctx)
    messages.success(request, done)
    return redirect(reverse("accounts:user_detail", args=[user.username]))


def _reason(request: HttpRequest) -> str:
    return request.POST.get("reason", "")


@login_required
@shown_as_page
@require_POST
def user_edit(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        services.update_user(
            actor=request.user,  # type: ignore[arg-type]
            user=user,
            full_name=request.POST.get("full_name", ""),
            email=request.POST.get("email", ""),
            reason=_reason(request),
        )
        return f"Details of {user.username} corrected."

    return _act(request, username, "edit", action)


@login_required
@shown_as_page
@require_POST
def role_grant(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        role = request.POST.get("role", "")
        services.grant_role(actor=request.user, user=user, role=role, reason=_reason(request))  # type: ignore[arg-type]
        return f"Role {role} granted to {user.username}."

    return _act(request, username, "grant", action)


@login_required
@shown_as_page
@require_POST
def role_revoke(request: HttpRequest, username: str, role: str) -> HttpResponse:
    def action(user: User) -> str:
        services.revoke_role(actor=request.user, user=user, role=role, reason=_reason(request))  # type: ignore[arg-type]
        return f"Role {role} revoked from {user.username}."

    return _act(request, username, f"revoke-{role}", action)


@login_required
@shown_as_page
@require_POST
def user_deactivate(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        services.deactivate_user(actor=request.user, user=user, reason=_reason(request))  # type: ignore[arg-type]
        return f"{user.username} deactivated; their sessions have ended."

    return _act(request, username, "deactivate", action)


@login_required
@shown_as_page
@require_POST
def user_reactivate(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        services.reactivate_user(actor=request.user, user=user, reason=_reason(request))  # type: ignore[arg-type]
        return f"{user.username} reactivated."

    return _act(request, username, "reactivate", action)


@login_required
@shown_as_page
@require_POST
def user_unlock(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        services.unlock_user(actor=request.user, user=user, reason=_reason(request))  # type: ignore[arg-type]
        return f"{user.username} unlocked."

    return _act(request, username, "unlock", action)


@login_required
@shown_as_page
@require_POST
def user_reset_password(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> HttpResponse:
        one_time = services.reset_password(actor=request.user, user=user, reason=_reason(request))  # type: ignore[arg-type]
        return render(
            request,
            "accounts/one_time_password.html",
            {"u": user, "one_time_password": one_time, "created": False},
        )

    return _act(request, username, "reset", action)


@login_required
@shown_as_page
@require_POST
def training_add(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        record = services.record_training(
            actor=request.user,  # type: ignore[arg-type]
            user=user,
            course=request.POST.get("course", ""),
            completed_on=request.POST.get("completed_on", ""),
            valid_until=request.POST.get("valid_until", ""),
            title=request.POST.get("title", ""),
            note=request.POST.get("note", ""),
        )
        return f"Training {record.course} recorded for {user.username}."

    return _act(request, username, "training", action)


@login_required
@shown_as_page
@require_POST
def training_withdraw(request: HttpRequest, username: str, record_id: int) -> HttpResponse:
    def action(user: User) -> str:
        record = selectors.training_record(user, record_id)
        services.withdraw_training(actor=request.user, record=record, reason=_reason(request))  # type: ignore[arg-type]
        return f"Training record {record.course} of {user.username} withdrawn."

    return _act(request, username, f"withdraw-{record_id}", action)


@login_required
@shown_as_page
@require_POST
def identity_check(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        services.verify_identity(
            actor=request.user,  # type: ignore[arg-type]
            user=user,
            evidence=request.POST.get("evidence", ""),
        )
        return f"Identity of {user.username} checked: their electronic signature is issued."

    return _act(request, username, "identity", action)


@login_required
@shown_as_page
@require_POST
def access_review(request: HttpRequest, username: str) -> HttpResponse:
    def action(user: User) -> str:
        services.review_access(
            actor=request.user,  # type: ignore[arg-type]
            user=user,
            note=request.POST.get("note", ""),
        )
        return f"Review of {user.username}'s account recorded."

    return _act(request, username, "review", action)
