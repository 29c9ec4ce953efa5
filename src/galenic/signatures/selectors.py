"""Reads of signatures, each with its verification status and manifestation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet

from galenic.accounts.models import RoleGrant, User
from galenic.core.rows import RowShape, all_rows, connection_for, first_row
from galenic.signatures import policy
from galenic.signatures.manifestation import Manifestation, manifestation
from galenic.signatures.models import PolicyAcknowledgement, Signature
from galenic.signatures.registry import label_of
from galenic.signatures.verify import AuditedSigning, SignatureStatus, check_many, excised_for


@dataclass(frozen=True)
class SignatureEntry:
    """A signature as every screen and export shows it."""

    signature: Signature
    status: SignatureStatus
    changed_fields: tuple[str, ...]
    manifestation: Manifestation

    @property
    def ok(self) -> bool:
        return self.status.ok


def signatures_queryset(object_type: str, object_id: str) -> QuerySet[Signature]:
    return Signature.objects.filter(object_type=object_type.lower(), object_id=str(object_id))


def signatures_for(object_type: str, object_id: str) -> list[SignatureEntry]:
    """The record's signatures in signing order, each verified against the record as it is now."""
    signatures = list(signatures_queryset(object_type, object_id).order_by("signed_at", "id"))
    return [
        SignatureEntry(c.signature, c.status, c.changed_fields, manifestation(c.signature))
        for c in check_many(signatures)
    ]


def signatures_for_object(obj: models.Model) -> list[SignatureEntry]:
    return signatures_for(label_of(obj), str(obj.pk))


def excised_signatures_for(object_type: str, object_id: str) -> list[AuditedSigning]:
    """Signatures the audit trail recorded for this record that are no longer on it."""
    return excised_for(object_type.lower(), str(object_id))


def listing_for(object_type: str, object_id: str) -> dict[str, Any]:
    """Template context for ``signatures/_signature_list.html``."""
    return {
        "entries": signatures_for(object_type, object_id),
        "excised": excised_signatures_for(object_type, object_id),
    }


def has_acknowledged_policy(user: Any) -> bool:
    """Whether ``user`` signed the current accountability policy (11.10(j))."""
    pk = getattr(user, "pk", None)
    if pk is None:
        return False
    # Asked at every signing: SQL written once (core.rows).
    connection = connection_for(PolicyAcknowledgement)
    table = connection.ops.quote_name(PolicyAcknowledgement._meta.db_table)
    return (
        first_row(
            connection,
            f"SELECT 1 FROM {table} WHERE user_id = %s AND policy_version = %s LIMIT 1",  # noqa: S608
            [pk, policy.VERSION],
        )
        is not None
    )


def policy_acknowledgement(user: Any) -> PolicyAcknowledgement | None:
    pk = getattr(user, "pk", None)
    if pk is None:
        return None
    return (
        PolicyAcknowledgement.objects.filter(user_id=pk, policy_version=policy.VERSION)
        .select_related("user")
        .first()
    )


def acknowledgement_roster() -> QuerySet[PolicyAcknowledgement]:
    """Who acknowledged which policy version, when (supports the 11.100(c) certification)."""
    return PolicyAcknowledgement.objects.select_related("user").order_by("user__username", "id")


_SIGNER_ROW = RowShape(User)


def signer_now(user_id: Any) -> tuple[User | None, bool]:
    """The signer's account as stored now, with the roles it holds now (kept on it, where
    ``role_codes()`` looks first) and whether it has acknowledged the current accountability
    policy: what every signing checks, in one read. (None, False) when there is no such account."""
    connection = connection_for(User)
    quote = connection.ops.quote_name
    found = all_rows(
        connection,
        f"SELECT {_SIGNER_ROW.columns(connection, 'u')}, r.role, "  # noqa: S608 (no user input)
        f"EXISTS (SELECT 1 FROM {quote(PolicyAcknowledgement._meta.db_table)} a "
        "WHERE a.user_id = u.id AND a.policy_version = %s) "
        f"FROM {quote(User._meta.db_table)} u "
        f"LEFT JOIN {quote(RoleGrant._meta.db_table)} r "
        "ON r.user_id = u.id AND r.revoked_at IS NULL WHERE u.id = %s",
        [policy.VERSION, user_id],
    )
    if not found:
        return None, False
    width = _SIGNER_ROW.width
    signer = _SIGNER_ROW.build(connection, found[0])
    signer._role_cache = {str(row[width]) for row in found if row[width] is not None}
    return signer, bool(found[0][width + 1])
