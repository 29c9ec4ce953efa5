"""Reads of users, roles and sessions. Visibility is decided by permissions.require."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, cast

from django.conf import settings
from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from galenic.accounts.identity import normalise_user_id
from galenic.accounts.models import AccessReview, RoleGrant, TrainingRecord, User, UserSession
from galenic.accounts.permissions import require
from galenic.accounts.policy import password_expires_at
from galenic.core.errors import NotFound
from galenic.core.timefmt import display_zone, local_today

STATUSES = ("active", "locked", "deactivated", "all")


def _with_roles(qs: QuerySet[User]) -> QuerySet[User]:
    return qs.prefetch_related(
        Prefetch(
            "role_grants",
            queryset=RoleGrant.objects.filter(revoked_at__isnull=True).order_by("role"),
            to_attr="active_grants",
        )
    )


def users() -> QuerySet[User]:
    """Every user, with current role grants prefetched and the time of their last access review
    (no permission check: internal use)."""
    last_review = (
        AccessReview.objects.filter(user=OuterRef("pk"))
        .order_by("-reviewed_at")
        .values("reviewed_at")[:1]
    )
    return (
        _with_roles(User.objects.all())
        .annotate(last_access_review=Subquery(last_review))
        .order_by("username")
    )


def users_for(viewer: Any, *, status: str = "all", search: str = "") -> QuerySet[User]:
    require(viewer, "accounts.view_users")
    qs = users()
    if status == "active":
        qs = qs.filter(is_active=True, locked_at__isnull=True)
    elif status == "locked":
        qs = qs.filter(locked_at__isnull=False)
    elif status == "deactivated":
        qs = qs.filter(is_active=False)
    if search.strip():
        term = search.strip()
        qs = qs.filter(Q(username__icontains=term) | Q(full_name__icontains=term))
    return qs


def user_by_id(raw: str) -> User | None:
    """Look a user up by ID as typed (CLI on the server; no viewer)."""
    try:
        return users().filter(username=normalise_user_id(raw)).first()
    except ValueError:
        return None


def user_for(viewer: Any, username: str) -> User:
    require(viewer, "accounts.view_users")
    try:
        user_id = normalise_user_id(username)
        return users().get(username=user_id)
    except (ValueError, User.DoesNotExist):
        raise NotFound(f"There is no user {username!r}.", field="username") from None


def role_codes(user: User) -> list[str]:
    grants = getattr(user, "active_grants", None)
    if grants is not None:
        return [g.role for g in grants]
    return sorted(user.role_codes())


def status_of(user: User) -> str:
    if not user.is_active:
        return "deactivated"
    if user.is_locked:
        return "locked"
    return "active"


def password_expiry(user: User) -> datetime | None:
    return password_expires_at(user.password_changed_at, settings.PASSWORD_MAX_AGE_DAYS)


def role_history(user: User) -> QuerySet[RoleGrant]:
    """Every grant the user ever had, revoked ones included (Annex 11 12.3)."""
    return (
        RoleGrant.objects.filter(user=user)
        .select_related("granted_by", "revoked_by")
        .order_by("-granted_at", "-id")
    )


def open_sessions(user: User) -> QuerySet[UserSession]:
    return UserSession.objects.filter(user=user, ended_at__isnull=True).order_by("-created_at")


def recent_sessions(user: User, limit: int = 20) -> list[UserSession]:
    return list(UserSession.objects.filter(user=user).order_by("-created_at", "-id")[:limit])


# --- training -------------------------------------------------------------------------------


def training_of(viewer: Any, user: User) -> list[TrainingRecord]:
    """Every training record of ``user``, newest first, withdrawn ones included. A person sees
    their own; user administrators, QA approvers and inspectors see anyone's."""
    if getattr(viewer, "pk", None) != user.pk:
        require(viewer, "accounts.view_users")
    return list(
        TrainingRecord.objects.filter(user=user)
        .select_related("recorded_by", "withdrawn_by")
        .order_by("-completed_on", "-id")
    )


def training_state(record: TrainingRecord, today: date) -> str:
    """current | expired | withdrawn"""
    if record.withdrawn_at is not None:
        return "withdrawn"
    if record.valid_until is not None and record.valid_until < today:
        return "expired"
    return "current"


def training_gaps(user: User, courses: Iterable[str], today: date | None = None) -> list[str]:
    """What keeps ``user`` from work that needs ``courses``: one sentence per course with no
    current training (never trained, or the latest training expired). Empty when qualified."""
    wanted = list(dict.fromkeys(c for c in courses if c))
    if not wanted:
        return []
    day = today or local_today()
    latest: dict[str, TrainingRecord] = {}
    for record in TrainingRecord.objects.filter(
        user=user, course__in=wanted, withdrawn_at__isnull=True
    ).order_by("course", "-completed_on", "-id"):
        latest.setdefault(record.course, record)
    gaps = []
    for course in wanted:
        found = latest.get(course)
        if found is None:
            gaps.append(f"{user.username} has no training record for {course}")
        elif training_state(found, day) == "expired":
            assert found.valid_until is not None
            gaps.append(
                f"{user.username}'s training {course} expired on {found.valid_until.isoformat()}"
            )
    return gaps


def training_record(user: User, record_id: int) -> TrainingRecord:
    found = TrainingRecord.objects.filter(user=user, pk=record_id).first()
    if found is None:
        raise NotFound(f"{user.username} has no training record {record_id}.", field="record")
    return found


def same_user_id(user: User, raw: str) -> bool:
    try:
        return normalise_user_id(raw) == user.username
    except ValueError:
        return False


# --- periodic review of accounts (11.300(b)) --------------------------------------------------


def access_reviews(user: User) -> list[AccessReview]:
    return list(
        AccessReview.objects.filter(user=user)
        .select_related("reviewed_by")
        .order_by("-reviewed_at")
    )


_UNREAD = object()


def review_due_on(user: User) -> date | None:
    """The day the account's next review is due (from its last review, else its creation);
    None for deactivated accounts or when reviews are not tracked (GALENIC_ACCESS_REVIEW_DAYS=0).
    A user read through ``users()`` carries its last review; others are looked up."""
    days = settings.ACCESS_REVIEW_DAYS
    if not days or not user.is_active:
        return None
    read = getattr(user, "last_access_review", _UNREAD)
    last: datetime | None
    if read is _UNREAD:
        found = AccessReview.objects.filter(user=user).order_by("-reviewed_at").first()
        last = found.reviewed_at if found is not None else None
    else:
        last = cast(datetime | None, read)
    since = last or user.created_at
    return (since + timedelta(days=days)).astimezone(display_zone()).date()


def accounts_due_review(today: date | None = None) -> list[tuple[User, date]]:
    """Active accounts whose periodic review is due, the longest overdue first (no permission
    check: the command line on the server)."""
    day = today or local_today()
    found = []
    for user in users().filter(is_active=True):
        due = review_due_on(user)
        if due is not None and due <= day:
            found.append((user, due))
    return sorted(found, key=lambda pair: (pair[1], pair[0].username))


def reviews_due(viewer: Any, today: date | None = None) -> list[tuple[User, date]]:
    require(viewer, "accounts.view_users")
    return accounts_due_review(today)
