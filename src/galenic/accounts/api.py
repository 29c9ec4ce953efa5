"""Accounts API: the signed-in user (/me) and user administration (admins; inspectors read).

Every change goes through accounts.services, which checks permissions and audits the change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status

from galenic.accounts import selectors, services
from galenic.accounts.models import User
from galenic.accounts.passwords import password_change_reason
from galenic.accounts.roles import Role
from galenic.accounts.sessions import keep_session_after_password_change

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
