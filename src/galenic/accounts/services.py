"""Account services: the only code that changes users, roles, passwords and sessions.

Each function takes the acting user keyword-only, runs in one transaction and writes its
audit event in that same transaction.

Credential checks (``verify_credentials``, ``check_login``) are different: a failed attempt must
be *kept* (11.300(d)) even though the caller will abort what it was doing. They therefore write in
their own **durable** transaction and must be called *outside* any ``transaction.atomic()`` block
of the caller: check the credentials first, then open your own transaction for the change.
Calling them inside an atomic block raises ``RuntimeError`` (a programming error, never a user's).
"""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import connection, transaction

from galenic.accounts.identity import clean_full_name, normalise_user_id, skeleton
from galenic.accounts.models import (
    AccessReview,
    PasswordHistory,
    RoleGrant,
    TrainingRecord,
    User,
    UserSession,
)
from galenic.accounts.permissions import require
from galenic.accounts.policy import locks_now
from galenic.accounts.roles import Role
from galenic.audit import services as audit
from galenic.core.errors import (
    Conflict,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from galenic.core.timefmt import local_today, utcnow
from galenic.recipes.document.model import CODE_PATTERN

security_log = logging.getLogger("galenic.security")

WRONG_PASSWORD = "The password is not correct."  # noqa: S105 - a message, not a secret
WRONG_LOGIN = "User ID or password is not correct."
LOCKED = "This account is locked after repeated failed attempts. Ask an administrator to unlock it."
DEACTIVATED = "This account is deactivated."
NOW_LOCKED = (
    "Too many failed attempts: the account is now locked and its sessions have ended. "
    "Ask an administrator to unlock it."
)


def _require_outside_atomic(what: str) -> None:
    """Refuse to run inside a caller's atomic block (failed attempts must commit on their own)."""
    # Django's test wrapper atomics are exempt from durable=True; real callers' blocks are not.
    if connection.in_atomic_block and not all(
        getattr(a, "_from_testcase", False) for a in connection.atomic_blocks
    ):
        raise RuntimeError(
            f"accounts.services.{what} must be called outside the caller's transaction.atomic() "
            "block, so that failed attempts are committed even when the caller aborts"
        )


# --- sessions ------------------------------------------------------------------------------


def end_sessions(user: User, *, reason: str, except_key: str | None = None) -> int:
    """Delete the user's server-side sessions at once (logout, deactivation, lockout, reset).

    Runs inside the caller's transaction; returns how many sessions were ended.
    """
    from galenic.accounts.sessions import note_ended

    rows = UserSession.objects.filter(user=user, ended_at__isnull=True)
    if except_key:
        rows = rows.exclude(session_key=except_key)
    keys = list(rows.values_list("session_key", flat=True))
    if not keys:
        return 0
    Session.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(session_key__in=keys).update(ended_at=utcnow(), end_reason=reason)
    note_ended(keys)
    return len(keys)


# --- failed attempts and lockout (11.300(d)) -----------------------------------------------


def _security_event(
    *, user: User | None, action: str, attempted_id: str, purpose: str, detail: dict[str, object]
) -> None:
    audit.record(
        actor=user,
        action=action,
        obj=user,
        object_type="" if user else "accounts.user",
        object_id="" if user else attempted_id[:64],
        object_repr="" if user else f"unknown user ID {attempted_id!r}"[:300],
        new={"purpose": purpose, "attempted_id": attempted_id, **detail},
        category="security",
    )


def _record_failure(user: User, *, purpose: str, attempted_id: str, cause: str) -> bool:
    """Count one failed attempt in its own committed transaction; lock at the threshold.

    Returns True when this attempt locked the account.
    """
    with transaction.atomic(durable=True):
        locked_user = User.objects.select_for_update(no_key=True).get(pk=user.pk)
        locked_user.failed_attempts += 1
        just_locked = False
        fields = ["failed_attempts"]
        if locked_user.locked_at is None and locks_now(
            locked_user.failed_attempts, settings.LOCKOUT_THRESHOLD
        ):
            locked_user.locked_at = utcnow()
            fields.append("locked_at")
            just_locked = True
        locked_user.save(update_fields=fields)
        _security_event(
            user=locked_user,
            action=f"accounts.{purpose}.failed",
            attempted_id=attempted_id,
            purpose=purpose,
            detail={"cause": cause, "failed_attempts": locked_user.failed_attempts},
        )
        if just_locked:
            ended = end_sessions(locked_user, reason="locked")
            audit.record(
                actor=locked_user,
                action="accounts.user.lock",
                obj=locked_user,
                old={"locked": False},
                new={
                    "locked": True,
                    "failed_attempts": locked_user.failed_attempts,
                    "sessions_ended": ended,
                    "purpose": purpose,
                },
                reason=f"{settings.LOCKOUT_THRESHOLD} failed attempts",
                category="security",
            )
            transaction.on_commit(lambda: _announce_lock(locked_user, purpose))
    user.failed_attempts = locked_user.failed_attempts
    user.locked_at = locked_user.locked_at
    return just_locked


def _announce_lock(user: User, purpose: str) -> None:
    from galenic.accounts.signals import account_locked

    security_log.warning(
        "account %s locked after %s failed %s attempts",
        user.username,
        user.failed_attempts,
        purpose,
    )
    account_locked.send(sender=User, user=user, purpose=purpose)


def _record_refusal(user: User | None, *, purpose: str, attempted_id: str, cause: str) -> None:
    """A locked, deactivated or unknown account tried: refuse and keep a security event."""
    with transaction.atomic(durable=True):
        _security_event(
            user=user,
            action=f"accounts.{purpose}.refused",
            attempted_id=attempted_id,
            purpose=purpose,
            detail={"cause": cause},
        )


def _reset_failures(user: User) -> None:
    if user.failed_attempts == 0:
        return
    with transaction.atomic(durable=True):
        User.objects.filter(pk=user.pk, locked_at__isnull=True).update(failed_attempts=0)
    user.failed_attempts = 0


def _refuse_unusable(user: User, *, purpose: str, attempted_id: str) -> None:
    if not user.is_active:
        _record_refusal(user, purpose=purpose, attempted_id=attempted_id, cause="deactivated")
        raise PermissionDenied(DEACTIVATED, field="user_id")
    if user.is_locked:
        _record_refusal(user, purpose=purpose, attempted_id=attempted_id, cause="locked")
        raise PermissionDenied(LOCKED, field="user_id")


def verify_credentials(
    *, user_id: str | None, password: str, expected_user: User, purpose: str
) -> None:
    """Check that the person at the keyboard is ``expected_user`` (11.200(a), 11.300(d)).

    ``user_id`` is None when the caller needs the password only (later signings of a session).
    Nobody acts as someone else: a different ID is refused (PermissionDenied) and counts as a
    failed attempt of ``expected_user``. A wrong password counts too; at LOCKOUT_THRESHOLD the
    account locks, its sessions end and a security event is written. Failures are committed in
    their own transaction, so **call this outside your own ``transaction.atomic()`` block**.

    Raises ValidationFailed(field="password") for a wrong password, PermissionDenied for a wrong
    ID, a locked or deactivated account, or the attempt that locks the account. Success resets
    the failure counter. ``purpose`` names the context in the audit trail (e.g. "signature").
    """
    _require_outside_atomic("verify_credentials")
    user = User.objects.get(pk=expected_user.pk)  # fresh state, never a stale request.user
    attempted_id = user.username if user_id is None else user_id
    _refuse_unusable(user, purpose=purpose, attempted_id=attempted_id)

    if user_id is not None:
        try:
            given = normalise_user_id(user_id)
        except ValueError:
            given = None
        if given != user.username:
            locked = _record_failure(
                user, purpose=purpose, attempted_id=user_id, cause="wrong_user_id"
            )
            raise PermissionDenied(
                NOW_LOCKED
                if locked
                else "The user ID is not yours: nobody may act or sign as someone else.",
                field="user_id",
            )

    _check_secret(user, password, purpose=purpose, attempted_id=attempted_id)
    expected_user.failed_attempts = 0


def _check_secret(
    user: User,
    password: str,
    *,
    purpose: str,
    attempted_id: str,
    field: str = "password",
    message: str = WRONG_PASSWORD,
) -> None:
    """Check ``user``'s password; count a failure (committed) or reset the counter."""
    _require_outside_atomic(purpose)
    _refuse_unusable(user, purpose=purpose, attempted_id=attempted_id)
    if not password or not check_password(password, user.password):
        locked = _record_failure(
            user, purpose=purpose, attempted_id=attempted_id, cause="wrong_password"
        )
        if locked:
            raise PermissionDenied(NOW_LOCKED, field=field)
        raise ValidationFailed(message, field=field)
    _reset_failures(user)


def check_login(*, user_id: str, password: str) -> User:
    """Authenticate a login attempt, counting failures exactly as ``verify_credentials`` does.

    Returns the user on success (the caller then calls ``django.contrib.auth.login``). Raises
    ValidationFailed for a wrong ID or password (one message for both, so IDs are not probed),
    PermissionDenied for a locked or deactivated account. Call outside any atomic block.
    """
    _require_outside_atomic("check_login")
    purpose = "login"
    try:
        normalised = normalise_user_id(user_id)
    except ValueError:
        normalised = ""
    user = User.objects.filter(username=normalised).first() if normalised else None
    if user is None:
        # Unknown IDs cannot be locked, but repeated guessing must still show in the trail.
        _record_refusal(None, purpose=purpose, attempted_id=user_id, cause="unknown_user_id")
        raise ValidationFailed(WRONG_LOGIN, field="password")
    _check_secret(user, password, purpose=purpose, attempted_id=user_id, message=WRONG_LOGIN)
    return user


# --- users -----------------------------------------------------------------------------------
#
# ``actor=None`` means the system itself (the ``galenic`` CLI on the server, demo seeding): only
# someone with shell access to the server can act without a user, and the audit event's source
# ("cli", "system") says so.


def _allow(actor: User | None, action: str) -> None:
    if actor is not None:
        require(actor, action)


def _reason(reason: str) -> str:
    return _required_text(reason, "reason", "Give a reason: it is kept in the audit trail.")


def _required_text(raw: str, field: str, ask: str, *, limit: int | None = None) -> str:
    """Text a change must carry (a reason, what was checked); ``ask`` says what to write."""
    cleaned = (raw or "").strip()
    if not cleaned:
        raise ValidationFailed(ask, field=field)
    if limit is not None and len(cleaned) > limit:
        raise ValidationFailed(f"Keep it under {limit} characters.", field=field)
    return cleaned


def _not_for_oneself(actor: User | None, user: User, message: str, field: str = "") -> None:
    if actor is not None and actor.pk == user.pk:
        raise PermissionDenied(message, field=field)


def _user_id(raw: str) -> str:
    try:
        return normalise_user_id(raw)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="username") from None


def _full_name(raw: str) -> str:
    try:
        return clean_full_name(raw)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="full_name") from None


def _email(raw: str) -> str:
    value = (raw or "").strip()
    if value:
        try:
            validate_email(value)
        except DjangoValidationError:
            raise ValidationFailed("Enter a valid e-mail address.", field="email") from None
    return value


def _roles(roles: list[str]) -> list[str]:
    valid = set(Role.values)
    unknown = sorted(set(roles) - valid)
    if unknown:
        raise ValidationFailed(
            f"unknown role(s): {', '.join(unknown)}; roles are {', '.join(sorted(valid))}",
            field="roles",
        )
    return sorted(set(roles))


def _validate_password(password: str, user: User | None, field: str = "password") -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(" ".join(exc.messages), field=field) from None


def _locked_row(user: User) -> User:
    try:
        return User.objects.select_for_update(no_key=True).get(pk=user.pk)
    except User.DoesNotExist:
        raise NotFound("There is no such user.", field="user") from None


def _snapshot(user: User) -> dict[str, object]:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "is_active": user.is_active,
        "locked": user.is_locked,
    }


def _active_admins_other_than(user: User) -> int:
    return (
        RoleGrant.objects.filter(role=Role.ADMIN, revoked_at__isnull=True, user__is_active=True)
        .exclude(user=user)
        .count()
    )


def create_user(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    password: str,
    roles: list[str],
    email: str = "",
    reason: str = "",
    must_change_password: bool = False,
    identity_evidence: str = "",
) -> User:
    """Create an account. IDs are case-folded, NFKC-normalised and checked against every ID that
    ever existed, including look-alikes (11.100(a), 11.300(a)).

    An account an administrator creates signs nothing until a second administrator has checked
    the person's identity (``verify_identity``, 11.100(b)). One created on the server itself
    (``actor`` None: ``galenic users create-admin``, seeding) counts as checked by whoever ran
    it, with ``identity_evidence`` (or a sentence saying so) kept."""
    _allow(actor, "accounts.create_user")
    user_id = _user_id(username)
    name = _full_name(full_name)
    mail = _email(email)
    role_codes = _roles(roles)
    _validate_password(password, User(username=user_id, full_name=name, email=mail))
    with transaction.atomic():
        if User.objects.filter(username=user_id).exists():
            raise ValidationFailed(
                f"user ID {user_id!r} exists or existed and is never reissued", field="username"
            )
        twin = User.objects.filter(id_skeleton=skeleton(user_id)).first()
        if twin is not None:
            raise ValidationFailed(
                f"user ID {user_id!r} is too easily confused with the existing ID "
                f"{twin.username!r}; choose another",
                field="username",
            )
        now = utcnow()
        user = User(
            username=user_id,
            id_skeleton=skeleton(user_id),
            full_name=name,
            email=mail,
            password_changed_at=now,
            must_change_password=must_change_password,
            created_by=actor,
        )
        if actor is None:
            user.identity_verified_at = now
            user.identity_evidence = (identity_evidence or "").strip() or (
                "Created on the server (command line or seeding); identity attested by whoever "
                "ran it."
            )
        user.set_password(password)
        user.save()
        for role in role_codes:
            RoleGrant.objects.create(user=user, role=role, granted_by=actor, grant_reason=reason)
        audit.record(
            actor=actor,
            action="accounts.user.create",
            obj=user,
            new={
                "username": user.username,
                "full_name": user.full_name,
                "email": user.email,
                "roles": role_codes,
                "must_change_password": must_change_password,
            },
            reason=reason.strip(),
        )
    return user


def create_user_with_one_time_password(
    *,
    actor: User | None,
    username: str,
    full_name: str,
    roles: list[str],
    email: str = "",
    reason: str = "",
) -> tuple[User, str]:
    """Create a user whose first password is a one-time password, shown once to the
    administrator; the user must choose their own at the first login (11.200(a)(2))."""
    one_time = _one_time_password()
    user = create_user(
        actor=actor,
        username=username,
        full_name=full_name,
        password=one_time,
        roles=roles,
        email=email,
        reason=reason,
        must_change_password=True,
    )
    return user, one_time


def update_user(*, actor: User | None, user: User, full_name: str, email: str, reason: str) -> User:
    """Correct a printed name or e-mail. The ID itself never changes."""
    _allow(actor, "accounts.edit_user")
    why = _reason(reason)
    name = _full_name(full_name)
    mail = _email(email)
    with transaction.atomic():
        row = _locked_row(user)
        old = {"full_name": row.full_name, "email": row.email}
        new = {"full_name": name, "email": mail}
        if old == new:
            raise ValidationFailed("Nothing changed.", field="full_name")
        row.full_name, row.email = name, mail
        row.save(update_fields=["full_name", "email"])
        audit.record(
            actor=actor, action="accounts.user.update", obj=row, old=old, new=new, reason=why
        )
    return row


def grant_role(*, actor: User | None, user: User, role: str, reason: str) -> RoleGrant:
    """Give a role. Nobody grants roles to themselves (segregation of duties, 11.10(g))."""
    _allow(actor, "accounts.grant_role")
    why = _reason(reason)
    (code,) = _roles([role])
    _not_for_oneself(actor, user, "You cannot change your own roles; ask another administrator.")
    with transaction.atomic():
        row = _locked_row(user)
        before = sorted(row.role_codes())
        if code in before:
            raise Conflict(f"{row.username} already holds the role {code}.", field="role")
        if not row.is_active:
            raise Conflict("A deactivated user cannot be given roles.", field="user")
        grant = RoleGrant.objects.create(user=row, role=code, granted_by=actor, grant_reason=why)
        audit.record(
            actor=actor,
            action="accounts.role.grant",
            obj=row,
            old={"roles": before},
            new={"roles": sorted({*before, code})},
            reason=why,
        )
    return grant


def revoke_role(*, actor: User | None, user: User, role: str, reason: str) -> None:
    """Take a role away; the grant row stays as history. Its effect is immediate."""
    _allow(actor, "accounts.revoke_role")
    why = _reason(reason)
    (code,) = _roles([role])
    _not_for_oneself(actor, user, "You cannot change your own roles; ask another administrator.")
    with transaction.atomic():
        row = _locked_row(user)
        before = sorted(row.role_codes())
        grant = RoleGrant.objects.filter(user=row, role=code, revoked_at__isnull=True).first()
        if grant is None:
            raise Conflict(f"{row.username} does not hold the role {code}.", field="role")
        if code == Role.ADMIN and _active_admins_other_than(row) == 0:
            raise Conflict("This is the last active administrator.", field="role")
        RoleGrant.objects.filter(pk=grant.pk).update(
            revoked_at=utcnow(), revoked_by=actor, revoke_reason=why
        )
        audit.record(
            actor=actor,
            action="accounts.role.revoke",
            obj=row,
            old={"roles": before},
            new={"roles": sorted(set(before) - {code})},
            reason=why,
        )


def deactivate_user(*, actor: User | None, user: User, reason: str) -> User:
    """Deactivate instead of deleting: the ID stays taken forever; all sessions end at once."""
    _allow(actor, "accounts.deactivate_user")
    why = _reason(reason)
    _not_for_oneself(actor, user, "You cannot deactivate yourself; ask another administrator.")
    with transaction.atomic():
        row = _locked_row(user)
        if not row.is_active:
            raise Conflict(f"{row.username} is already deactivated.", field="user")
        if Role.ADMIN in row.role_codes() and _active_admins_other_than(row) == 0:
            raise Conflict("This is the last active administrator.", field="user")
        old = _snapshot(row)
        row.is_active = False
        row.deactivated_at = utcnow()
        row.save(update_fields=["is_active", "deactivated_at"])
        ended = end_sessions(row, reason="deactivated")
        audit.record(
            actor=actor,
            action="accounts.user.deactivate",
            obj=row,
            old=old,
            new={**_snapshot(row), "sessions_ended": ended},
            reason=why,
        )
    return row


def reactivate_user(*, actor: User | None, user: User, reason: str) -> User:
    _allow(actor, "accounts.reactivate_user")
    why = _reason(reason)
    with transaction.atomic():
        row = _locked_row(user)
        if row.is_active:
            raise Conflict(f"{row.username} is active.", field="user")
        old = _snapshot(row)
        row.is_active = True
        row.deactivated_at = None
        row.failed_attempts = 0
        row.save(update_fields=["is_active", "deactivated_at", "failed_attempts"])
        audit.record(
            actor=actor,
            action="accounts.user.reactivate",
            obj=row,
            old=old,
            new=_snapshot(row),
            reason=why,
        )
    return row


def unlock_user(*, actor: User | None, user: User, reason: str) -> User:
    """Lift a lockout after the administrator has looked into it (11.300(d))."""
    _allow(actor, "accounts.unlock_user")
    why = _reason(reason)
    with transaction.atomic():
        row = _locked_row(user)
        if not row.is_locked:
            raise Conflict(f"{row.username} is not locked.", field="user")
        old = {"locked": True, "locked_at": row.locked_at, "failed_attempts": row.failed_attempts}
        row.locked_at = None
        row.failed_attempts = 0
        row.save(update_fields=["locked_at", "failed_attempts"])
        audit.record(
            actor=actor,
            action="accounts.user.unlock",
            obj=row,
            old=old,
            new={"locked": False, "failed_attempts": 0},
            reason=why,
            category="security",
        )
    return row


_OTP_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/l/I


def _one_time_password() -> str:
    length = max(16, settings.PASSWORD_MIN_LENGTH)
    raw = "".join(secrets.choice(_OTP_ALPHABET) for _ in range(length))
    return "-".join(raw[i : i + 4] for i in range(0, length, 4))


def _push_history(row: User) -> None:
    if row.password:
        PasswordHistory.objects.create(user=row, password_hash=row.password)


def reset_password(*, actor: User | None, user: User, reason: str) -> str:
    """Give the user a one-time password, shown once to the administrator; the user must
    choose their own at the next login (11.200(a)(2), 11.300(c)). All sessions end."""
    _allow(actor, "accounts.reset_password")
    why = _reason(reason)
    _not_for_oneself(actor, user, "Change your own password on the 'Change password' page.")
    one_time = _one_time_password()
    with transaction.atomic():
        row = _locked_row(user)
        if not row.is_active:
            raise Conflict("Reactivate the user before resetting the password.", field="user")
        _push_history(row)
        row.set_password(one_time)
        row.must_change_password = True
        row.password_changed_at = utcnow()
        row.failed_attempts = 0
        row.save(
            update_fields=[
                "password",
                "must_change_password",
                "password_changed_at",
                "failed_attempts",
            ]
        )
        ended = end_sessions(row, reason="password_reset")
        audit.record(
            actor=actor,
            action="accounts.password.reset",
            obj=row,
            new={"must_change_password": True, "sessions_ended": ended},
            reason=why,
            category="security",
        )
    return one_time


def change_password(
    *, actor: User, old_password: str, new_password: str, session_key: str | None = None
) -> User:
    """The user changes their own password. The old one is checked (a wrong one counts toward
    lockout) and the new one must pass the policy: length, not among the last N, not common.
    Other sessions of the user end; ``session_key`` (the current one) stays.

    Call outside any atomic block (the old-password check may commit a failed attempt).
    """
    if actor is None or not actor.is_authenticated:
        raise NotAuthenticated("Log in first.")
    _check_secret(
        User.objects.get(pk=actor.pk),
        old_password,
        purpose="password_change",
        attempted_id=actor.username,
        field="old_password",
    )
    with transaction.atomic():
        row = _locked_row(actor)
        _validate_password(new_password, row, field="new_password")
        _push_history(row)
        row.set_password(new_password)
        was_forced = row.must_change_password
        row.must_change_password = False
        row.password_changed_at = utcnow()
        row.save(update_fields=["password", "must_change_password", "password_changed_at"])
        ended = end_sessions(row, reason="password_changed", except_key=session_key)
        audit.record(
            actor=row,
            action="accounts.password.change",
            obj=row,
            old={"must_change_password": was_forced},
            new={"must_change_password": False, "other_sessions_ended": ended},
            category="security",
        )
    actor.password = row.password
    actor.must_change_password = False
    actor.password_changed_at = row.password_changed_at
    return row


# --- login sessions (called from the auth signals, see accounts/signals.py) --------------------


def start_session(*, user: User, session_key: str, remote_addr: str = "") -> UserSession:
    """Register a new server-side session so it can be ended at once later; audit the login."""
    with transaction.atomic():
        row = UserSession.objects.create(
            user=user, session_key=session_key, remote_addr=remote_addr[:64]
        )
        audit.record(
            actor=user,
            action="accounts.login",
            obj=user,
            new={"session": row.pk, "remote_addr": remote_addr[:64]},
            category="security",
        )
    return row


def end_session(*, user: User, session_key: str, reason: str = "logout") -> None:
    """The user logged out (or the session timed out): end it and audit it."""
    with transaction.atomic():
        row = UserSession.objects.filter(
            user=user, session_key=session_key, ended_at__isnull=True
        ).first()
        if row is None:
            return  # already ended by deactivation, lockout or an admin: nothing to record
        Session.objects.filter(session_key=session_key).delete()
        UserSession.objects.filter(pk=row.pk).update(ended_at=utcnow(), end_reason=reason)
        audit.record(
            actor=user,
            action=f"accounts.{reason}",
            obj=user,
            new={"session": row.pk},
            category="security",
        )


# --- training (21 CFR 11.10(i), 211.25(a)) -------------------------------------------------------

# The codes a master record step names under ``training`` (one pattern, or a course could be
# recorded that no step can name, or the reverse).
_COURSE = re.compile(CODE_PATTERN)


def _course(raw: str) -> str:
    code = (raw or "").strip()
    if not _COURSE.match(code):
        raise ValidationFailed(
            "Give the course code (letters, digits, '.', '_', '/', '-'; up to 64), e.g. "
            "SOP-GRAN-002.",
            field="course",
        )
    return code


def _date(value: date | str | None, field: str, *, required: bool) -> date | None:
    if value in (None, ""):
        if required:
            raise ValidationFailed("Give the date (YYYY-MM-DD).", field=field)
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a date (YYYY-MM-DD).", field=field) from None


def _training_values(record: TrainingRecord) -> dict[str, object]:
    return {
        "user": record.user.username,
        "course": record.course,
        "title": record.title,
        "completed_on": record.completed_on.isoformat(),
        "valid_until": record.valid_until.isoformat() if record.valid_until else None,
        "note": record.note,
    }


def record_training(
    *,
    actor: User | None,
    user: User,
    course: str,
    completed_on: date | str | None,
    valid_until: date | str | None = None,
    title: str = "",
    note: str = "",
) -> TrainingRecord:
    """Record training a person completed. Nobody records their own; the date it was completed
    cannot be in the future; a record that expires ends on or after that date."""
    _allow(actor, "accounts.record_training")
    _not_for_oneself(
        actor,
        user,
        "Nobody records their own training: ask a trainer or your supervisor.",
        field="user",
    )
    code = _course(course)
    done = _date(completed_on, "completed_on", required=True)
    until = _date(valid_until, "valid_until", required=False)
    assert done is not None
    today = local_today()
    if done > today:
        raise ValidationFailed(
            "The training cannot be completed in the future.", field="completed_on"
        )
    if until is not None and until < done:
        raise ValidationFailed(
            "A training cannot end before it was completed.", field="valid_until"
        )
    if len(title) > 200:
        raise ValidationFailed("The title is longer than 200 characters.", field="title")
    if not user.is_active:
        raise Conflict(f"{user.username} is deactivated.", field="user")
    with transaction.atomic():
        record = TrainingRecord.objects.create(
            user=user,
            course=code,
            title=title.strip(),
            completed_on=done,
            valid_until=until,
            recorded_by=actor,
            recorded_at=utcnow(),
            note=note.strip(),
        )
        audit.record(
            actor=actor,
            action="accounts.training.record",
            obj=user,
            object_repr=f"{user.username}: training {code}",
            new=_training_values(record),
        )
    return record


def withdraw_training(*, actor: User | None, record: TrainingRecord, reason: str) -> TrainingRecord:
    """Withdraw a training record entered in error (kept, with who, when and why)."""
    _allow(actor, "accounts.record_training")
    why = _reason(reason)
    with transaction.atomic():
        row = TrainingRecord.objects.select_for_update().get(pk=record.pk)
        if row.withdrawn_at is not None:
            raise Conflict("This training record is already withdrawn.", field="record")
        row.withdrawn_at = utcnow()
        row.withdrawn_by = actor
        row.withdraw_reason = why
        row.save(update_fields=["withdrawn_at", "withdrawn_by", "withdraw_reason"])
        audit.record(
            actor=actor,
            action="accounts.training.withdraw",
            obj=row.user,
            object_repr=f"{row.user.username}: training {row.course}",
            old=_training_values(row),
            new={"withdrawn": True},
            reason=why,
        )
    return row


# --- identity check before an e-signature is issued (21 CFR 11.100(b)) ---------------------------


def verify_identity(*, actor: User | None, user: User, evidence: str) -> User:
    """Record that the person's identity was checked (what was seen: an ID document, the HR
    record); until then the account signs nothing. The administrator who created the account
    cannot do it, nor can anyone for themselves: a second administrator does."""
    _allow(actor, "accounts.verify_identity")
    seen = _required_text(
        evidence,
        "evidence",
        "Say what was checked (e.g. 'passport seen in person; HR record 4711').",
        limit=1000,
    )
    _not_for_oneself(actor, user, "Nobody checks their own identity.", field="user")
    if actor is not None and actor.pk == user.created_by_id:
        raise PermissionDenied(
            f"You created {user.username}'s account: a second administrator checks the "
            "identity (21 CFR 11.100(b)).",
            field="user",
        )
    with transaction.atomic():
        row = _locked_row(user)
        if row.identity_verified_at is not None:
            raise Conflict(
                f"{row.username}'s identity was already checked on "
                f"{row.identity_verified_at:%Y-%m-%d}.",
                field="user",
            )
        if not row.is_active:
            raise Conflict(f"{row.username} is deactivated.", field="user")
        row.identity_verified_at = utcnow()
        row.identity_verified_by = actor
        row.identity_evidence = seen
        row.save(
            update_fields=["identity_verified_at", "identity_verified_by", "identity_evidence"]
        )
        audit.record(
            actor=actor,
            action="accounts.user.verify_identity",
            obj=row,
            old={"identity_verified": False},
            new={"identity_verified": True, "evidence": seen},
            category="security",
        )
    return row


# --- periodic review of accounts (21 CFR 11.300(b), Annex 11 12.3) ------------------------------


def review_access(*, actor: User | None, user: User, note: str) -> AccessReview:
    """Record that an administrator reviewed the account (the ID still belongs to this person,
    the roles are still right) and what they concluded. Nobody reviews their own account."""
    _allow(actor, "accounts.review_access")
    text = _required_text(
        note,
        "note",
        "Say what was reviewed and concluded (e.g. 'still in production; roles confirmed with "
        "the line manager').",
        limit=2000,
    )
    _not_for_oneself(actor, user, "Nobody reviews their own account.", field="user")
    roles = ",".join(sorted(user.role_codes()))
    with transaction.atomic():
        review = AccessReview.objects.create(
            user=user, reviewed_by=actor, reviewed_at=utcnow(), roles=roles, note=text
        )
        audit.record(
            actor=actor,
            action="accounts.user.review_access",
            obj=user,
            new={"roles": roles, "note": text, "active": user.is_active},
            category="security",
        )
    return review
