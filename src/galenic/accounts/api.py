"""Accounts API: the signed-in user (/me) and user administration (admins; inspectors read).

Every change goes through accounts.services, which checks permissions and audits the change.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from galenic.accounts import selectors, services
from galenic.accounts.models import TrainingRecord, User
from galenic.accounts.passwords import password_change_reason
from galenic.accounts.roles import Role
from galenic.accounts.sessions import keep_session_after_password_change
from galenic.core.timefmt import local_today

router = Router(tags=["accounts"])


class RoleOut(Schema):
    code: str
    label: str


class UserOut(Schema):
    username: str
    full_name: str
    email: str
    roles: list[str]
    status: str  # active | locked | deactivated
    is_active: bool
    locked: bool
    failed_attempts: int
    must_change_password: bool
    password_expires_at: datetime | None
    created_at: datetime
    deactivated_at: datetime | None
    last_login: datetime | None
    identity_verified: bool
    identity_verified_at: datetime | None
    access_review_due: date | None


class MeOut(Schema):
    username: str
    full_name: str
    email: str
    roles: list[str]
    must_change_password: bool
    password_change_required: str | None
    password_expires_at: datetime | None


class UserCreateIn(Schema):
    username: str
    full_name: str
    email: str = ""
    roles: list[str] = []
    reason: str = ""


class UserCreatedOut(Schema):
    user: UserOut
    one_time_password: str


class UserUpdateIn(Schema):
    full_name: str
    email: str = ""
    reason: str


class ReasonIn(Schema):
    reason: str


class RoleGrantIn(Schema):
    role: str
    reason: str


class OneTimePasswordOut(Schema):
    username: str
    one_time_password: str


class PasswordChangeIn(Schema):
    old_password: str
    new_password: str


class OkOut(Schema):
    ok: bool = True


class TrainingIn(Schema):
    course: str
    completed_on: str
    valid_until: str | None = None
    title: str = ""
    note: str = ""


class TrainingOut(Schema):
    id: int
    course: str
    title: str
    completed_on: date
    valid_until: date | None
    state: str  # current | expired | withdrawn
    recorded_by: str | None
    recorded_at: datetime
    note: str
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdraw_reason: str


def _training_out(record: TrainingRecord, today: date) -> TrainingOut:
    return TrainingOut(
        id=record.pk,
        course=record.course,
        title=record.title,
        completed_on=record.completed_on,
        valid_until=record.valid_until,
        state=selectors.training_state(record, today),
        recorded_by=record.recorded_by.username if record.recorded_by else None,
        recorded_at=record.recorded_at,
        note=record.note,
        withdrawn_at=record.withdrawn_at,
        withdrawn_by=record.withdrawn_by.username if record.withdrawn_by else None,
        withdraw_reason=record.withdraw_reason,
    )


def _out(user: User) -> UserOut:
    return UserOut(
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=selectors.role_codes(user),
        status=selectors.status_of(user),
        is_active=user.is_active,
        locked=user.is_locked,
        failed_attempts=user.failed_attempts,
        must_change_password=user.must_change_password,
        password_expires_at=selectors.password_expiry(user),
        created_at=user.created_at,
        deactivated_at=user.deactivated_at,
        last_login=user.last_login,
        identity_verified=user.identity_verified,
        identity_verified_at=user.identity_verified_at,
        access_review_due=selectors.review_due_on(user),
    )


def _actor(request: HttpRequest) -> Any:
    return request.user


@router.get("/me", response=MeOut, summary="The signed-in user")
def me(request: HttpRequest) -> MeOut:
    user: Any = request.user
    return MeOut(
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        roles=sorted(user.role_codes()),
        must_change_password=user.must_change_password,
        password_change_required=password_change_reason(user),
        password_expires_at=selectors.password_expiry(user),
    )


@router.post("/me/password", response=OkOut, summary="Change your own password")
def change_own_password(request: HttpRequest, payload: PasswordChangeIn) -> OkOut:
    services.change_password(
        actor=_actor(request),
        old_password=payload.old_password,
        new_password=payload.new_password,
        session_key=request.session.session_key,
    )
    keep_session_after_password_change(request)
    return OkOut()


@router.get("/roles", response=list[RoleOut], summary="Roles a user can hold")
def roles(request: HttpRequest) -> list[RoleOut]:
    return [RoleOut(code=r.value, label=str(r.label)) for r in Role]


@router.get("/users", response=list[UserOut], summary="Users (admins, QA approvers, inspectors)")
def list_users(request: HttpRequest, status: str = "all", search: str = "") -> list[UserOut]:
    return [_out(u) for u in selectors.users_for(request.user, status=status, search=search)]


@router.post("/users", response={201: UserCreatedOut}, summary="Create a user")
def create_user(request: HttpRequest, payload: UserCreateIn) -> Status[UserCreatedOut]:
    user, one_time = services.create_user_with_one_time_password(
        actor=_actor(request),
        username=payload.username,
        full_name=payload.full_name,
        email=payload.email,
        roles=payload.roles,
        reason=payload.reason,
    )
    return Status(
        201,
        UserCreatedOut(
            user=_out(selectors.user_for(request.user, user.username)), one_time_password=one_time
        ),
    )


@router.get("/users/{username}", response=UserOut, summary="One user")
def get_user(request: HttpRequest, username: str) -> UserOut:
    return _out(selectors.user_for(request.user, username))


@router.patch("/users/{username}", response=UserOut, summary="Correct the name or e-mail")
def update_user(request: HttpRequest, username: str, payload: UserUpdateIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.update_user(
        actor=_actor(request),
        user=user,
        full_name=payload.full_name,
        email=payload.email,
        reason=payload.reason,
    )
    return _out(selectors.user_for(request.user, username))


@router.post("/users/{username}/roles", response=UserOut, summary="Grant a role")
def grant_role(request: HttpRequest, username: str, payload: RoleGrantIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.grant_role(actor=_actor(request), user=user, role=payload.role, reason=payload.reason)
    return _out(selectors.user_for(request.user, username))


@router.post("/users/{username}/roles/{role}/revoke", response=UserOut, summary="Revoke a role")
def revoke_role(request: HttpRequest, username: str, role: str, payload: ReasonIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.revoke_role(actor=_actor(request), user=user, role=role, reason=payload.reason)
    return _out(selectors.user_for(request.user, username))


@router.post("/users/{username}/deactivate", response=UserOut, summary="Deactivate (never delete)")
def deactivate(request: HttpRequest, username: str, payload: ReasonIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.deactivate_user(actor=_actor(request), user=user, reason=payload.reason)
    return _out(selectors.user_for(request.user, username))


@router.post("/users/{username}/reactivate", response=UserOut, summary="Reactivate")
def reactivate(request: HttpRequest, username: str, payload: ReasonIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.reactivate_user(actor=_actor(request), user=user, reason=payload.reason)
    return _out(selectors.user_for(request.user, username))


@router.post("/users/{username}/unlock", response=UserOut, summary="Unlock after lockout")
def unlock(request: HttpRequest, username: str, payload: ReasonIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.unlock_user(actor=_actor(request), user=user, reason=payload.reason)
    return _out(selectors.user_for(request.user, username))


@router.post(
    "/users/{username}/reset-password",
    response=OneTimePasswordOut,
    summary="Reset the password to a one-time password the user must change",
)
def reset_password(request: HttpRequest, username: str, payload: ReasonIn) -> OneTimePasswordOut:
    user = selectors.user_for(request.user, username)
    one_time = services.reset_password(actor=_actor(request), user=user, reason=payload.reason)
    return OneTimePasswordOut(username=user.username, one_time_password=one_time)


def _person(request: HttpRequest, username: str) -> User:
    """Oneself, or (for those who may see users) anyone."""
    me = request.user
    if isinstance(me, User) and selectors.same_user_id(me, username):
        return me
    return selectors.user_for(me, username)


@router.get(
    "/users/{username}/training",
    response=list[TrainingOut],
    summary="Training records (one's own, or anyone's for user administrators and QA)",
)
def list_training(request: HttpRequest, username: str) -> list[TrainingOut]:
    user = _person(request, username)
    today = local_today()
    return [_training_out(r, today) for r in selectors.training_of(request.user, user)]


@router.post(
    "/users/{username}/training",
    response={201: TrainingOut},
    summary="Record training a person completed (21 CFR 11.10(i))",
)
def record_training(
    request: HttpRequest, username: str, payload: TrainingIn
) -> Status[TrainingOut]:
    user = _person(request, username)
    record = services.record_training(
        actor=_actor(request),
        user=user,
        course=payload.course,
        completed_on=payload.completed_on,
        valid_until=payload.valid_until,
        title=payload.title,
        note=payload.note,
    )
    return Status(201, _training_out(record, local_today()))


@router.post(
    "/users/{username}/training/{record_id}/withdraw",
    response=TrainingOut,
    summary="Withdraw a training record entered in error",
)
def withdraw_training(
    request: HttpRequest, username: str, record_id: int, payload: ReasonIn
) -> TrainingOut:
    user = _person(request, username)
    record = selectors.training_record(user, record_id)
    done = services.withdraw_training(actor=_actor(request), record=record, reason=payload.reason)
    return _training_out(done, local_today())


class IdentityCheckIn(Schema):
    evidence: str


@router.post(
    "/users/{username}/verify-identity",
    response=UserOut,
    summary="Record the identity check that issues the e-signature (a second admin; 11.100(b))",
)
def verify_identity(request: HttpRequest, username: str, payload: IdentityCheckIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.verify_identity(actor=_actor(request), user=user, evidence=payload.evidence)
    return _out(selectors.user_for(request.user, username))


class AccessReviewIn(Schema):
    note: str


class ReviewDueOut(Schema):
    username: str
    full_name: str
    roles: list[str]
    due: date


@router.get(
    "/access-reviews/due",
    response=list[ReviewDueOut],
    summary="Active accounts whose periodic review is due (21 CFR 11.300(b))",
)
def reviews_due(request: HttpRequest) -> list[ReviewDueOut]:
    return [
        ReviewDueOut(
            username=u.username, full_name=u.full_name, roles=selectors.role_codes(u), due=due
        )
        for u, due in selectors.reviews_due(request.user)
    ]


@router.post(
    "/users/{username}/access-review",
    response=UserOut,
    summary="Record the periodic review of an account (21 CFR 11.300(b))",
)
def review_access(request: HttpRequest, username: str, payload: AccessReviewIn) -> UserOut:
    user = selectors.user_for(request.user, username)
    services.review_access(actor=_actor(request), user=user, note=payload.note)
    return _out(selectors.user_for(request.user, username))
