"""The rules of review and disposition, as plain functions (no Django import).

Which audit events of a completed batch need a reviewer's look, and what blocks signing the
review or releasing/rejecting the batch. Services gather the facts; these decide.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

# Actions that never need a look after completion: review and disposition themselves, and
# exporting (reading) the record.
QUIET_PREFIXES = ("review.", "exports.")
BLOCKING_CLASSIFICATIONS = frozenset({"major", "critical"})


def needs_a_look(
    *, action: str, seq: int, request_id: str, completion_seq: int, completion_request: str
) -> bool:
    """An audit event on the batch's records after it was completed (an edit after completion,
    a late signature, a new comment), other than the completion itself and review/export."""
    if seq <= completion_seq or (completion_request and request_id == completion_request):
        return False
    return not action.startswith(QUIET_PREFIXES)


@dataclass(frozen=True)
class OpenDeviation:
    number: str
    classification: str
    status: str


@dataclass(frozen=True)
class Facts:
    """What the gates look at, gathered inside the deciding transaction."""

    status: str  # review status: open | reviewed | released | rejected
    items: int
    unacknowledged: int
    open_deviations: Sequence[OpenDeviation] = ()
    review_signed: bool = False
    review_signature_valid: bool = False
    actor_executed: bool = False
    actor_is_reviewer: bool = False
    independent_reviewer: bool = True
    releaser_differs_from_reviewer: bool = True
    reasons: list[str] = field(default_factory=list)


def blocking_deviations(deviations: Iterable[OpenDeviation]) -> list[OpenDeviation]:
    return [
        d
        for d in deviations
        if d.classification in BLOCKING_CLASSIFICATIONS and d.status != "closed"
    ]


def acknowledge_blockers(facts: Facts) -> list[tuple[str, str]]:
    """(field, reason) pairs that forbid this person to acknowledge exceptions now."""
    found: list[tuple[str, str]] = []
    if facts.status in ("released", "rejected"):
        found.append(("status", "The batch has been dispositioned; its review is closed."))
    if facts.independent_reviewer and facts.actor_executed:
        found.append(
            (
                "reviewer",
                "You took part in executing this batch; its review must be done by someone else.",
            )
        )
    return found


def review_blockers(facts: Facts) -> list[tuple[str, str]]:
    """(field, reason) pairs that forbid signing the review now."""
    found = acknowledge_blockers(facts)
    if facts.status == "reviewed" and facts.review_signature_valid:
        found.append(("status", "The review is signed already."))
    if facts.unacknowledged:
        found.append(
            (
                "items",
                f"{facts.unacknowledged} of {facts.items} exception(s) are not acknowledged yet.",
            )
        )
    return found


def disposition_blockers(facts: Facts) -> list[tuple[str, str]]:
    """(field, reason) pairs that forbid releasing or rejecting the batch now (211.192)."""
    found: list[tuple[str, str]] = []
    if facts.status in ("released", "rejected"):
        found.append(("status", "The batch has been dispositioned already."))
        return found
    if not facts.review_signed:
        found.append(("review", "The review by exception has not been signed yet."))
    elif not facts.review_signature_valid:
        found.append(
            (
                "review",
                "The review changed after it was signed (new exceptions or acknowledgements); "
                "it must be signed again.",
            )
        )
    if facts.unacknowledged:
        found.append(("items", f"{facts.unacknowledged} exception(s) are not acknowledged."))
    blocking = blocking_deviations(facts.open_deviations)
    if blocking:
        names = ", ".join(f"{d.number} ({d.classification})" for d in blocking)
        found.append(("deviations", f"Major or critical deviations are still open: {names}."))
    if facts.actor_executed:
        found.append(
            ("approver", "You took part in executing this batch; you cannot disposition it.")
        )
    if facts.releaser_differs_from_reviewer and facts.actor_is_reviewer:
        found.append(
            ("approver", "You signed the review; release or rejection needs a second person.")
        )
    return found


__all__ = [
    "BLOCKING_CLASSIFICATIONS",
    "QUIET_PREFIXES",
    "Facts",
    "OpenDeviation",
    "acknowledge_blockers",
    "blocking_deviations",
    "disposition_blockers",
    "needs_a_look",
    "review_blockers",
]
