"""Role grants and revocations (21 CFR 11.10(d)(g), Annex 11 12.3): audited with old and new
values and a reason; nobody changes their own roles; history kept."""

from __future__ import annotations

import pytest

from galenic.accounts import services
from galenic.accounts.models import RoleGrant, User
from galenic.accounts.permissions import can
from galenic.core.errors import Conflict, PermissionDenied, ValidationFailed


def test_admin_cannot_grant_own_roles(personas, events):
    admin = personas["admin"]
    with pytest.raises(PermissionDenied, match="your own roles"):
        services.grant_role(actor=admin, user=admin, role="qa_approver", reason="want it")
    assert "qa_approver" not in User.objects.get(pk=admin.pk).role_codes()
    assert events("accounts.role") == []


def test_admin_cannot_revoke_own_roles(personas, make_user):
    make_user("ada2", ["admin"])
    admin = personas["admin"]
    with pytest.raises(PermissionDenied, match="your own roles"):
        services.revoke_role(actor=admin, user=admin, role="admin", reason="x")


def test_grant_is_audited_with_old_new_and_reason(personas, events):
    services.grant_role(
        actor=personas["admin"], user=personas["operator"], role="verifier", reason="trained SOP-12"
    )
    (event,) = events("accounts.role.grant")
    assert event["actor"] == "ada"
    assert event["old"] == {"roles": ["operator"]}
    assert event["new"] == {"roles": ["operator", "verifier"]}
    assert event["reason"] == "trained SOP-12"
    assert can(User.objects.get(username="olivia"), "signatures.sign")


def test_revoke_takes_effect_at_once_and_keeps_history(personas, events):
    admin, inspector = personas["admin"], personas["inspector"]
    assert can(User.objects.get(pk=inspector.pk), "audit.view")
    services.revoke_role(actor=admin, user=inspector, role="inspector", reason="audit finished")
    assert not can(User.objects.get(pk=inspector.pk), "audit.view")
    grant = RoleGrant.objects.get(user=inspector, role="inspector")
    assert grant.revoked_at is not None
    assert grant.revoked_by == admin
    assert grant.revoke_reason == "audit finished"
    (event,) = events("accounts.role.revoke")
    assert event["old"] == {"roles": ["inspector"]}
    assert event["new"] == {"roles": []}
    # granting again adds a new row; the old one stays as history
    services.grant_role(actor=admin, user=inspector, role="inspector", reason="next audit")
    assert RoleGrant.objects.filter(user=inspector, role="inspector").count() == 2


def test_role_change_needs_a_reason(personas):
    with pytest.raises(ValidationFailed) as err:
        services.grant_role(
            actor=personas["admin"], user=personas["operator"], role="verifier", reason="  "
        )
    assert err.value.field == "reason"


def test_granting_a_held_role_is_a_conflict(personas):
    with pytest.raises(Conflict):
        services.grant_role(
            actor=personas["admin"], user=personas["operator"], role="operator", reason="again"
        )


def test_last_active_admin_cannot_lose_the_role(personas, make_user):
    admin = personas["admin"]
    other = make_user("ada2", ["admin"])
    services.revoke_role(actor=admin, user=other, role="admin", reason="moved to QA")
    # ada is now the only administrator: neither the system nor anyone may remove her
    with pytest.raises(Conflict, match="last active administrator"):
        services.revoke_role(actor=None, user=admin, role="admin", reason="x")
    with pytest.raises(Conflict, match="last active administrator"):
        services.deactivate_user(actor=None, user=admin, reason="x")


def test_operator_cannot_grant_roles(personas):
    with pytest.raises(PermissionDenied):
        services.grant_role(
            actor=personas["operator"], user=personas["verifier"], role="qa_approver", reason="x"
        )


def test_role_change_and_audit_commit_together(personas, events, monkeypatch):
    """If the audit write fails, the grant is not kept either (same transaction)."""
    from galenic.audit import services as audit

    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit, "record", broken)
    with pytest.raises(RuntimeError):
        services.grant_role(
            actor=personas["admin"], user=personas["operator"], role="verifier", reason="x"
        )
    assert "verifier" not in User.objects.get(username="olivia").role_codes()
