"""The one place that decides who may do what (21 CFR 11.10(d)(g)).

Every service calls ``require(actor, "<action>")`` before it changes anything; views and API
endpoints never decide on their own. Each bounded context adds its actions to ``ACTIONS``.
"""

from __future__ import annotations

from typing import Any

from galenic.accounts.roles import Role
from galenic.core.errors import NotAuthenticated, PermissionDenied

R = Role
ANY_ROLE = frozenset(r.value for r in Role)

ACTIONS: dict[str, frozenset[str]] = {
    # accounts
    "accounts.manage_users": frozenset({R.ADMIN}),
    "accounts.view_users": frozenset({R.ADMIN, R.INSPECTOR, R.QA_APPROVER}),
    "accounts.create_user": frozenset({R.ADMIN}),
    "accounts.edit_user": frozenset({R.ADMIN}),
    "accounts.grant_role": frozenset({R.ADMIN}),
    "accounts.revoke_role": frozenset({R.ADMIN}),
    "accounts.deactivate_user": frozenset({R.ADMIN}),
    "accounts.reactivate_user": frozenset({R.ADMIN}),
    "accounts.unlock_user": frozenset({R.ADMIN}),
    "accounts.reset_password": frozenset({R.ADMIN}),
    "accounts.record_training": frozenset({R.ADMIN}),  # training records, 11.10(i)
    "accounts.verify_identity": frozenset({R.ADMIN}),  # before a signature is issued, 11.100(b)
    "accounts.review_access": frozenset({R.ADMIN}),  # periodic account review, 11.300(b)
    # audit trail
    "audit.view": frozenset({R.ADMIN, R.INSPECTOR, R.QA_REVIEWER, R.QA_APPROVER, R.SUPERVISOR}),
    "audit.verify": frozenset({R.ADMIN, R.INSPECTOR, R.QA_APPROVER}),
    # signatures: what a person may sign is checked by the feature; inspectors are read-only and
    # admins stay independent of the data (FDA Data Integrity Q&A Q4), so neither role signs.
    "signatures.sign": frozenset(ANY_ROLE - {R.INSPECTOR, R.ADMIN}),
    "signatures.view": ANY_ROLE,
    # equipment and instruments; "device" is held only by gateways (equipment.services.DevicePrincipal)
    "equipment.view": ANY_ROLE,
    "equipment.manage": frozenset({R.ADMIN}),
    "equipment.calibrate": frozenset({R.ADMIN, R.SUPERVISOR}),
    "equipment.capture": frozenset({R.OPERATOR, R.VERIFIER, R.SUPERVISOR}),
    "equipment.ingest": frozenset({"device"}),
    # batch execution (211.188): operators execute, verifiers verify, supervisors issue and
    # steer batches; QA never executes; inspectors read
    "execution.view": ANY_ROLE,
    "execution.create_batch": frozenset({R.SUPERVISOR}),
    "execution.release_batch": frozenset({R.SUPERVISOR}),
    "execution.start_batch": frozenset({R.SUPERVISOR, R.OPERATOR}),
    "execution.hold": frozenset({R.SUPERVISOR}),
    "execution.resume": frozenset({R.SUPERVISOR}),
    "execution.complete_batch": frozenset({R.SUPERVISOR}),
    "execution.record": frozenset({R.OPERATOR}),
    "execution.perform": frozenset({R.OPERATOR}),
    "execution.correct": frozenset({R.OPERATOR, R.SUPERVISOR}),
    "execution.verify": frozenset({R.VERIFIER}),
    "execution.approve": frozenset({R.SUPERVISOR}),
    "execution.comment": frozenset({R.OPERATOR, R.VERIFIER, R.SUPERVISOR}),
    "execution.attach": frozenset({R.OPERATOR, R.VERIFIER, R.SUPERVISOR}),
    # quality events (211.100(b), 211.192)
    "quality.view": ANY_ROLE,
    "quality.open": frozenset({R.OPERATOR, R.VERIFIER, R.SUPERVISOR, R.QA_REVIEWER, R.QA_APPROVER}),
    "quality.classify": frozenset({R.QA_REVIEWER, R.QA_APPROVER}),
    "quality.investigate": frozenset({R.QA_REVIEWER, R.QA_APPROVER}),
    "quality.close": frozenset({R.QA_APPROVER}),
    # exports: MBRs are read by everyone who works to them
    "exports.mbr": ANY_ROLE,
    "exports.batch": frozenset({R.SUPERVISOR, R.QA_REVIEWER, R.QA_APPROVER, R.INSPECTOR}),
    # review by exception and disposition (211.192; Annex 11 §15: only QA releases)
    "review.view": frozenset({R.QA_REVIEWER, R.QA_APPROVER, R.INSPECTOR}),
    "review.acknowledge": frozenset({R.QA_REVIEWER, R.QA_APPROVER}),
    "review.sign": frozenset({R.QA_REVIEWER, R.QA_APPROVER}),
    "review.release": frozenset({R.QA_APPROVER}),
    # master batch records (211.186: one prepares, a second checks; QA approves)
    "recipes.view": ANY_ROLE,
    "recipes.author": frozenset({R.PROCESS_ENGINEER}),
    "recipes.check": frozenset({R.PROCESS_ENGINEER, R.QA_REVIEWER, R.QA_APPROVER}),
    "recipes.reject": frozenset({R.PROCESS_ENGINEER, R.QA_REVIEWER, R.QA_APPROVER}),
    "recipes.approve": frozenset({R.QA_APPROVER}),
    "recipes.make_effective": frozenset({R.QA_APPROVER}),
    "recipes.retire": frozenset({R.QA_APPROVER}),
}


def can(user: Any, action: str) -> bool:
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not getattr(user, "is_active", False)
    ):
        return False
    allowed = ACTIONS.get(action)
    if allowed is None:
        raise KeyError(f"unknown action {action!r}: add it to galenic.accounts.permissions.ACTIONS")
    return bool(user.role_codes() & allowed)


def require(user: Any, action: str) -> None:
    if user is None or not getattr(user, "is_authenticated", False):
        raise NotAuthenticated("Log in first.")
    if not can(user, action):
        allowed = ", ".join(sorted(ACTIONS[action]))
        raise PermissionDenied(f"Your roles do not allow '{action}' (needs one of: {allowed}).")
