"""The one signing service (21 CFR 11.50, 11.70, 11.100, 11.200, 11.10(j)).

Signing is two steps, so that a failed password attempt is counted toward lockout even though
the signing transaction is rolled back:

1. ``authenticate_signer(session=, actor=, user_id=, password=)`` runs *before* the feature's
   transaction. It checks the credentials through ``accounts.services.verify_credentials`` (which
   commits failed attempts in its own transaction) and returns a single-use ``SignerAuthority``.
2. ``sign(authority=, obj=, meaning=, ...)`` runs *inside* the feature's transaction, next to the
   change it signs, and writes the signature and its audit event there: the change, the
   signature and the audit event commit together or not at all.

In a continuous session (``SIGNATURE_MODE=session``) the first signing needs user ID and password
and later ones the password only (11.200(a)(1)(i)); a new session (after logout or the inactivity
timeout) starts over. In kiosk mode, or without a session (CLI, gateway), every signing needs
both (11.200(a)(1)(ii)).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, connection, models, transaction

from galenic.accounts import permissions
from galenic.accounts import services as accounts_services
from galenic.accounts.models import User
from galenic.audit import services as audit
from galenic.core import context, rows
from galenic.core.errors import Conflict, NotAuthenticated, PermissionDenied, ValidationFailed
from galenic.core.timefmt import utcnow
from galenic.signatures import policy, registry
from galenic.signatures.binding import binding_sha256, canonical_content, sha256_text
from galenic.signatures.models import Credentials, Meaning, PolicyAcknowledgement, Signature
from galenic.signatures.selectors import has_acknowledged_policy, signer_now

SESSION_KEY = "galenic.signatures.full_credentials"
SIGN_ACTION = "signatures.sign"
ACKNOWLEDGE_ACTION = "signatures.policy.acknowledge"
# An authority is meant for the signing right after the password was entered, not for later.
AUTHORITY_TTL = timedelta(minutes=2)
# Meanings that are never given without saying why.
REASON_REQUIRED = frozenset({Meaning.REJECTED})


class SigningError(RuntimeError):
    """The signing service was used the wrong way: a programming error, never a user error."""


# --- 11.200: which credentials a signing needs ------------------------------------------


def signature_mode() -> str:
    mode = str(settings.SIGNATURE_MODE).strip().lower()
    if mode not in {"session", "kiosk"}:
        raise ImproperlyConfigured(
            f"GALENIC_SIGNATURE_MODE must be 'session' or 'kiosk', not {settings.SIGNATURE_MODE!r}"
        )
    return mode


def needs_user_id(session: SessionBase | None, *, actor: Any = None) -> bool:
    """Whether the next signing must include the user ID as well as the password.

    True in kiosk mode, without a session, and in a session where this person has not yet
    signed with full credentials (a new login, after logout or after the inactivity timeout).
    """
    if signature_mode() == "kiosk" or session is None:
        return True
    marker = session.get(SESSION_KEY)
    if not isinstance(marker, dict) or "user" not in marker:
        return True
    return actor is not None and marker["user"] != getattr(actor, "pk", None)


class SignerAuthority:
    """Proof that ``user`` has just entered their signature components.

    Only ``authenticate_signer`` issues one, and each is good for one ``sign`` call within
    ``AUTHORITY_TTL``; constructing one by hand gives an object ``sign`` refuses.
    """

    __slots__ = ("__weakref__", "authenticated_at", "credentials", "request_id", "user")

    def __init__(
        self, *, user: User, credentials: str, authenticated_at: datetime, request_id: str
    ) -> None:
        self.user = user
        self.credentials = credentials
        self.authenticated_at = authenticated_at
        self.request_id = request_id

    def __repr__(self) -> str:
        return f"<SignerAuthority {self.user.username} {self.credentials} at {self.authenticated_at:%H:%M:%S}>"

    @property
    def full_credentials(self) -> bool:
        return self.credentials == Credentials.USER_ID_AND_PASSWORD


_issued: weakref.WeakSet[SignerAuthority] = weakref.WeakSet()
_issued_lock = threading.Lock()


def _issue(authority: SignerAuthority) -> SignerAuthority:
    with _issued_lock:
        _issued.add(authority)
    return authority


def _redeem(authority: Any) -> SignerAuthority:
    with _issued_lock:
        genuine = isinstance(authority, SignerAuthority) and authority in _issued
        if genuine:
            _issued.discard(authority)
    if not genuine:
        raise SigningError(
            "sign() needs a SignerAuthority from authenticate_signer(), used once: "
            "every signature needs its own entry of the signer's password"
        )
    if utcnow() - authority.authenticated_at > AUTHORITY_TTL:
        raise ValidationFailed(
            "Too much time passed since you entered your password; enter it again.",
            field="password",
        )
    return authority


def _outside_transaction() -> None:
    # Django's own test-case transaction does not count: only a real caller's block does.
    blocks = getattr(connection, "atomic_blocks", [])
    if any(not getattr(block, "_from_testcase", False) for block in blocks):
        raise SigningError(
            "authenticate_signer() must run before the signing transaction opens, so that a "
            "failed attempt is counted toward lockout even when that transaction rolls back"
        )


def _check_can_sign(user: Any) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("Log in first.")
    if not user.is_active:
        raise PermissionDenied("This account is deactivated and cannot sign.")
    if user.is_locked:
        raise PermissionDenied("This account is locked and cannot sign until an admin unlocks it.")
    if getattr(user, "identity_verified_at", None) is None:
        raise PermissionDenied(
            "Your electronic signature is not issued yet: an administrator other than the one "
            "who created your account must first record that your identity was checked "
            "(21 CFR 11.100(b)).",
            field="user_id",
        )
    permissions.require(user, "signatures.sign")


def authenticate_signer(
    *,
    session: SessionBase | None,
    actor: Any,
    user_id: str | None,
    password: str,
    full_credentials: bool = False,
) -> SignerAuthority:
    """Check the signer's credentials (11.200(a)); call before the signing transaction.

    ``full_credentials=True`` asks for the user ID whatever the session says (the policy
    acknowledgement does). Raises ValidationFailed (field ``user_id``/``password``),
    PermissionDenied or NotAuthenticated; a wrong password counts toward lockout.
    """
    _outside_transaction()
    _check_can_sign(actor)
    ask_user_id = full_credentials or needs_user_id(session, actor=actor)
    given_id = (user_id or "").strip() or None
    if ask_user_id and given_id is None:
        if full_credentials:
            why = ""
        elif session is None or signature_mode() == "kiosk":
            why = ": every signature on this terminal needs both"
        else:
            why = ": the first signature of a session needs both"
        raise ValidationFailed(
            f"Enter your user ID as well as your password{why}.", field="user_id"
        )
    if not password:
        raise ValidationFailed("Enter your password to sign.", field="password")
    accounts_services.verify_credentials(
        user_id=given_id, password=password, expected_user=actor, purpose="signature"
    )
    credentials = Credentials.USER_ID_AND_PASSWORD if given_id is not None else Credentials.PASSWORD
    if (
        credentials == Credentials.USER_ID_AND_PASSWORD
        and session is not None
        and signature_mode() == "session"
    ):
        session[SESSION_KEY] = {"user": actor.pk}
    return _issue(
        SignerAuthority(
            user=actor,
            credentials=str(credentials),
            authenticated_at=utcnow(),
            request_id=context.current().request_id,
        )
    )


# --- signing --------------------------------------------------------------------------


def _meaning(value: Any) -> Meaning:
    if not value:
        raise ValidationFailed("A signature needs a meaning.", field="meaning")
    try:
        return Meaning(value)
    except ValueError:
        raise ValidationFailed(f"{value!r} is not a signature meaning.", field="meaning") from None


def _is_own_policy_acknowledgement(obj: models.Model, signer: User, meaning: Meaning) -> bool:
    return (
        isinstance(obj, PolicyAcknowledgement)
        and obj.user_id == signer.pk
        and meaning == Meaning.ACKNOWLEDGED
    )


def sign(
    *,
    authority: SignerAuthority,
    obj: models.Model,
    meaning: Meaning | str,
    content: Mapping[str, Any] | None = None,
    reason: str = "",
    require_reason: bool = False,
    expected_content_sha256: str = "",
    actor: Any = None,
) -> Signature:
    """Sign ``obj`` for ``meaning``; call inside the transaction of the change being signed.

    The content signed is what ``obj``'s registered content function returns for the record as
    stored now. ``content`` (what the caller showed the signer) and ``expected_content_sha256``
    (the hash the sign form carried), when given, must match it, or the signing is refused with
    a Conflict: nobody signs something other than what they saw.
    """
    if not connection.in_atomic_block:
        raise SigningError("sign() must run inside the transaction of the change it signs")
    the_meaning = _meaning(meaning)
    reason = (reason or "").strip()
    if (require_reason or the_meaning in REASON_REQUIRED) and not reason:
        raise ValidationFailed(
            f"Give the reason for this signature ({the_meaning.label}).", field="reason"
        )
    if obj.pk is None:
        raise SigningError("save the record before signing it")
    label = registry.label_of(obj)
    registry.get(label)  # NotSignable unless the feature registered its content
    authority = _redeem(authority)
    if actor is not None and getattr(actor, "pk", None) != authority.user.pk:
        raise PermissionDenied("Nobody signs as someone else.", field="user_id")
    # Current state: locked, deactivated or a role revoked since the password was checked?
    signer, acknowledged = signer_now(authority.user.pk)
    if signer is None:
        raise PermissionDenied("This account no longer exists and cannot sign.", field="user_id")
    _check_can_sign(signer)
    if not acknowledged and not _is_own_policy_acknowledgement(obj, signer, the_meaning):
        raise PermissionDenied(
            "Read and sign the electronic signature accountability policy before your first "
            "signature.",
            field="policy",
        )

    stored = rows.get(type(obj), obj.pk)  # exactly what the database holds
    if stored is None:
        raise SigningError("the record to sign is not in the database")
    canonical = canonical_content(registry.content_of(stored))
    digest = sha256_text(canonical)
    if content is not None and canonical_content(content) != canonical:
        raise Conflict(
            "The record differs from what was shown to you; review it again before signing.",
            field="content",
        )
    if expected_content_sha256 and expected_content_sha256 != digest:
        raise Conflict(
            "The record changed after it was shown to you; review it again before signing.",
            field="content",
        )

    signature = Signature(
        signer=signer,
        signer_user_id=signer.username,
        signer_name=signer.full_name,
        meaning=the_meaning.value,
        signed_at=utcnow(),
        time_zone=str(settings.DISPLAY_TIME_ZONE),
        object_type=label,
        object_id=str(obj.pk),
        content_json=canonical,
        content_sha256=digest,
        reason=reason,
        request_id=context.current().request_id,
        credentials=authority.credentials,
    )
    signature.binding_sha256 = binding_sha256(signature.binding_fields())
    rows.insert(signature)
    audit.record(
        actor=signer,
        action=SIGN_ACTION,
        obj=stored,
        object_repr=str(obj),  # the caller's instance may hold what its label shows
        new=audit_values(signature),
        reason=reason,
    )
    return signature


def audit_values(signature: Signature) -> dict[str, Any]:
    """What the audit event of a signing records; ``verify`` cross-checks the binding against it."""
    return {
        "signature_uid": str(signature.uid),
        "signer_user_id": signature.signer_user_id,
        "signer_name": signature.signer_name,
        "meaning": signature.meaning,
        "signed_at": signature.signed_at,
        "time_zone": signature.time_zone,
        "credentials": signature.credentials,
        "content_sha256": signature.content_sha256,
        "binding_sha256": signature.binding_sha256,
    }


# --- 11.10(j), 11.100(c): the accountability policy -------------------------------------


def policy_acknowledgement_content(ack: PolicyAcknowledgement) -> dict[str, Any]:
    return {
        "policy_version": ack.policy_version,
        "policy_sha256": ack.policy_sha256,
        "policy_text": ack.policy_text,
        "user_id": ack.user.username,
        "acknowledged_at": ack.acknowledged_at,
    }


def acknowledge_policy(*, actor: Any, authority: SignerAuthority) -> PolicyAcknowledgement:
    """Record and sign ``actor``'s acknowledgement of the current accountability policy.

    Needs an authority obtained with user ID *and* password, whatever the session.
    """
    if authority.user.pk != getattr(actor, "pk", None):
        raise PermissionDenied("Nobody signs as someone else.", field="user_id")
    _check_can_sign(actor)
    if not authority.full_credentials:
        raise ValidationFailed(
            "Acknowledging the policy needs your user ID as well as your password.",
            field="user_id",
        )
    try:
        with transaction.atomic():
            if has_acknowledged_policy(actor):
                raise Conflict(
                    f"You have already acknowledged policy version {policy.VERSION}.",
                    field="policy",
                )
            ack = PolicyAcknowledgement(
                user=actor,
                policy_version=policy.VERSION,
                policy_sha256=policy.sha256(),
                policy_text=policy.text(),
                acknowledged_at=utcnow(),
            )
            ack.save(force_insert=True)
            audit.record(
                actor=actor,
                action=ACKNOWLEDGE_ACTION,
                obj=ack,
                new={"policy_version": ack.policy_version, "policy_sha256": ack.policy_sha256},
            )
            sign(authority=authority, obj=ack, meaning=Meaning.ACKNOWLEDGED, actor=actor)
    except IntegrityError:  # a concurrent acknowledgement won the race
        raise Conflict(
            f"You have already acknowledged policy version {policy.VERSION}.", field="policy"
        ) from None
    return ack
