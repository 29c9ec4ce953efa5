"""11.10(g): who may do what on a batch. Operators execute, verifiers verify, supervisors issue,
steer and approve; QA never executes; inspectors and admins only read."""

from __future__ import annotations

import pytest

from galenic.accounts.permissions import can

pytestmark = pytest.mark.django_db

ROLES = [
    "operator",
    "verifier",
    "supervisor",
    "engineer",
    "reviewer",
    "approver",
    "admin",
    "inspector",
]
# persona "verifier" (victor) also holds the operator role.
ALLOWED = {
    "execution.view": set(ROLES),
    "execution.create_batch": {"supervisor"},
    "execution.release_batch": {"supervisor"},
    "execution.start_batch": {"supervisor", "operator", "verifier"},
    "execution.hold": {"supervisor"},
    "execution.resume": {"supervisor"},
    "execution.complete_batch": {"supervisor"},
    "execution.record": {"operator", "verifier"},
    "execution.perform": {"operator", "verifier"},
    "execution.correct": {"operator", "verifier", "supervisor"},
    "execution.verify": {"verifier"},
    "execution.approve": {"supervisor"},
    "execution.comment": {"operator", "verifier", "supervisor"},
    "execution.attach": {"operator", "verifier", "supervisor"},
    "quality.view": set(ROLES),
    "quality.open": {"operator", "verifier", "supervisor", "reviewer", "approver"},
    "quality.classify": {"reviewer", "approver"},
    "quality.investigate": {"reviewer", "approver"},
    "quality.close": {"approver"},
}


@pytest.mark.parametrize("action", sorted(ALLOWED))
def test_role_by_action(personas, action):
    allowed = {role for role in ROLES if can(personas[role], action)}
    assert allowed == ALLOWED[action]


def test_qa_and_admins_never_execute(personas):
    for role in ("reviewer", "approver", "admin", "inspector", "engineer"):
        for action in ("execution.record", "execution.perform", "execution.verify"):
            assert not can(personas[role], action)
