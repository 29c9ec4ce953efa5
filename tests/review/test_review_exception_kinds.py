"""Every kind of exception appears in the report exactly when it should: each scenario is the
clean batch with one thing done differently, and the report holds exactly the kinds expected."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

pytestmark = pytest.mark.django_db


def alert_excursion(r: Any) -> None:
    r.check(temperature="23.5")
    r.dry()
    r.count()


def action_excursion(r: Any) -> None:
    r.record("check", "temperature", "26.0", comment="air conditioning failed")
    r.record("check", "extra_mixing", False)
    r.perform("check")
    r.dry()
    r.count()


def correction(r: Any) -> None:
    r.record("check", "temperature", "21.0")
    entry = r.record("check", "extra_mixing", True)
    r.correct(entry, False, "ticked the wrong box")
    r.perform("check")
    r.dry()
    r.count()


def late_entry(r: Any) -> None:
    r.record(
        "check",
        "temperature",
        "21.0",
        observed_at=r.batch().started_at.isoformat(),
        reason="network down, written on paper",
    )
    r.record("check", "extra_mixing", False)
    r.perform("check")
    r.dry()
    r.count()


def manual_instead_of_instrument(r: Any) -> None:
    r.record("check", "reference_weight", "100.0", "g", reason="balance printer broken")
    r.check()
    r.dry()
    r.count()


def repeated_attempt(r: Any) -> None:
    r.check()
    r.dry("4.0", "2.0")
    r.count()


def loop_past_its_count(r: Any) -> None:
    r.check()
    r.dry("4.0", "3.0")
    r.count()


def duration_out_of_range(r: Any) -> None:
    r.check(mixing=True)
    r.record("mix", "speed", "150")
    r.perform("mix")  # at once: shorter than the 10 min minimum
    r.dry()
    r.count()


def comment(r: Any) -> None:
    r.check()
    r.comment("Dryer door seal looks worn; reported to maintenance.", step="dry")
    r.dry()
    r.count()


def attachment(r: Any) -> None:
    from galenic.core.context import action_context
    from galenic.execution import services as execution

    r.check()
    with action_context("test"):
        execution.add_attachment(
            actor=r.operator,
            number=r.number,
            filename="dryer-printout.pdf",
            content=b"%PDF-1.4\n% dryer cycle printout\n",
            content_type="application/pdf",
            description="Dryer cycle printout",
            step_key="dry",
        )
    r.dry()
    r.count()


def yield_out_of_limits(r: Any) -> None:
    r.check()
    r.dry()
    r.count(good="900")


SCENARIOS: dict[str, tuple[Callable[[Any], None], Counter[str]]] = {
    "alert_excursion": (alert_excursion, Counter({"limit_excursion_alert": 1})),
    "action_excursion": (action_excursion, Counter({"limit_excursion_action": 1, "deviation": 1})),
    "correction": (correction, Counter({"correction": 1})),
    "late_entry": (late_entry, Counter({"late_entry": 1})),
    "manual_instead_of_instrument": (
        manual_instead_of_instrument,
        Counter({"manual_entry_instrument_expected": 1}),
    ),
    "repeated_attempt": (repeated_attempt, Counter({"repeated_attempt": 1})),
    "loop_past_its_count": (
        loop_past_its_count,
        Counter({"repeated_attempt": 1, "loop_exhausted": 1}),
    ),
    "duration_out_of_range": (duration_out_of_range, Counter({"duration_out_of_range": 1})),
    "comment": (comment, Counter({"comment": 1})),
    "attachment": (attachment, Counter({"attachment": 1})),
    "yield_out_of_limits": (
        yield_out_of_limits,
        Counter({"yield_out_of_limits": 1, "deviation": 1}),
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_kind_appears_exactly_when_it_should(name: str, run: Any, report: Any) -> None:
    scenario, expected = SCENARIOS[name]
    r = run()
    scenario(r)
    r.complete()
    review = report(r.number)
    kinds = Counter(review.items.values_list("kind", flat=True))
    assert kinds == expected
    for item in review.items.all():
        assert item.message
        if item.kind != "yield_out_of_limits" and item.source != "deviation":
            assert item.step_id is not None  # linked to its step


def test_attempt_to_change_after_completion_needs_a_look(run: Any, report: Any) -> None:
    from galenic.core.errors import Conflict

    r = run()
    r.clean()
    with pytest.raises(Conflict):
        r.record("count", "good_tablets", "995")
    review = report(r.number)
    [item] = review.items.all()
    assert item.kind == "changed_after_completion"
    assert item.source == "audit"
    assert "execution.entry.record.refused" in item.message
    # A second refresh adds nothing twice.
    assert report(r.number).items.count() == 1
