"""The pure flow engine: sequence, parallel branches, conditions, repeat loops, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from galenic.recipes.document import (
    DocumentInvalid,
    Flow,
    IncompleteStep,
    MasterBatchRecord,
    OutOfTurn,
    StepRun,
    StepStatus,
    parse,
)
from galenic.recipes.document.flow import FlowError, FlowState
from galenic.rules.units import Quantity

Q = Quantity.parse


def run_to_mixing(flow: Flow) -> FlowState:
    state = flow.start()
    state = state.complete("line_clearance", {"room_clear": True})
    state = state.complete("weigh_api", {"api_mass": Q("1.001 kg")})
    state = state.complete("charge_water", {"water_temp": Q("25 °C")})
    return state.complete("issue_labels", {"labels_issued": Q("1000 item")})


def test_only_the_first_step_is_available_at_the_start(tiny_doc: MasterBatchRecord) -> None:
    assert Flow(tiny_doc).start().available() == ["line_clearance"]


def test_out_of_turn_completion_is_refused_with_the_reason(tiny_doc: MasterBatchRecord) -> None:
    state = Flow(tiny_doc).start()
    with pytest.raises(OutOfTurn) as info:
        state.complete("fill", {"bottles": Q("1 bottle")})
    assert info.value.step == "fill"
    assert "finish 'line_clearance' first" in str(info.value)
    with pytest.raises(OutOfTurn, match="no step 'nope'"):
        state.complete("nope")


def test_parallel_branches_are_available_side_by_side_and_join(tiny_doc: MasterBatchRecord) -> None:
    state = Flow(tiny_doc).start()
    state = state.complete("line_clearance", {"room_clear": True})
    state = state.complete("weigh_api", {"api_mass": Q("1 kg")})
    assert state.available() == ["charge_water", "issue_labels"]
    state = state.complete("issue_labels", {"labels_issued": Q("990 item")})
    assert state.available() == ["charge_water"]  # the join waits for both branches
    with pytest.raises(OutOfTurn, match="finish 'charge_water' first"):
        state.complete("dissolve", {"ph": Q("5 pH"), "appearance": "clear"})
    state = state.complete("charge_water", {"water_temp": Q("24 °C")})
    assert state.available() == ["dissolve"]


def test_a_conditional_step_is_skipped_with_the_reason(tiny_doc: MasterBatchRecord) -> None:
    state = run_to_mixing(Flow(tiny_doc))
    state = state.complete("dissolve", {"ph": Q("5.0 pH"), "appearance": "clear"})
    skipped = state.status("adjust_ph")
    assert skipped.status is StepStatus.SKIPPED
    assert "is false" in skipped.reason
    assert "ph = 5.0 pH" in skipped.reason
    assert [e.kind for e in state.events] == ["skipped"]
    assert state.available() == ["fill"]
    with pytest.raises(OutOfTurn, match="was skipped"):
        state.complete("adjust_ph", {"ph_adjusted": Q("5 pH")})


def test_a_repeat_loop_is_offered_until_its_condition_holds(tiny_doc: MasterBatchRecord) -> None:
    state = run_to_mixing(Flow(tiny_doc))
    state = state.complete("dissolve", {"ph": Q("6.1 pH"), "appearance": "clear"})
    assert state.available() == ["adjust_ph"]
    state = state.complete("adjust_ph", {"ph_adjusted": Q("5.8 pH")})
    again = state.status("adjust_ph")
    assert again.status is StepStatus.AVAILABLE
    assert again.iteration == 2
    state = state.complete("adjust_ph", {"ph_adjusted": Q("5.3 pH")})
    assert state.status("adjust_ph").status is StepStatus.COMPLETED
    assert state.values["adjust_ph.ph_adjusted"] == Q("5.3 pH")
    assert state.available() == ["fill"]


def test_a_repeat_loop_ends_at_its_maximum_and_reports_it(tiny_doc: MasterBatchRecord) -> None:
    state = run_to_mixing(Flow(tiny_doc))
    state = state.complete("dissolve", {"ph": Q("6.1 pH"), "appearance": "clear"})
    for _ in range(3):
        state = state.complete("adjust_ph", {"ph_adjusted": Q("5.9 pH")})
    ended = state.status("adjust_ph")
    assert ended.status is StepStatus.EXHAUSTED
    assert "ran 3 of at most 3 times" in ended.reason
    assert [e.kind for e in state.exceptions()] == ["exhausted"]
    assert state.available() == ["fill"]
    with pytest.raises(OutOfTurn, match="has ended"):
        state.complete("adjust_ph", {"ph_adjusted": Q("5 pH")})


def test_a_completed_step_cannot_be_completed_again(tiny_doc: MasterBatchRecord) -> None:
    state = Flow(tiny_doc).start().complete("line_clearance", {"room_clear": True})
    with pytest.raises(OutOfTurn, match="already complete"):
        state.complete("line_clearance", {"room_clear": True})


def test_required_values_must_be_present_and_calculations_are_not_typed(
    tiny_doc: MasterBatchRecord,
) -> None:
    state = Flow(tiny_doc).start()
    with pytest.raises(IncompleteStep) as info:
        state.complete("line_clearance", {})
    assert info.value.missing == ["room_clear"]
    with pytest.raises(IncompleteStep, match="no parameter"):
        state.complete("line_clearance", {"room_clear": True, "extra": True})


def test_calculated_values_are_computed_with_their_inputs(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)
    state = run_to_mixing(flow).complete("dissolve", {"ph": Q("5 pH"), "appearance": "clear"})
    with pytest.raises(IncompleteStep, match="calculated by the system"):
        state.complete("fill", {"bottles": Q("990 bottle"), "volume_filled": Q("99 L")})
    calcs = flow.calculate(state, "fill", {"bottles": Q("990 bottle")})
    assert [(c.parameter, c.result) for c in calcs] == [
        ("volume_filled", Q("99 L")),
        ("yield_pct", Q("99 %")),
    ]
    assert calcs[1].inputs == {"volume_filled": Q("99 L"), "theoretical_yield": Q("100 L")}
    done = state.complete("fill", {"bottles": Q("990 bottle")})
    assert done.values["fill.yield_pct"] == Q("99.0 %")
    assert done.is_complete


def test_batch_size_scales_materials_and_theoretical_yield(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc, batch_size=Q("50 L"))
    (api,) = flow.materials("weigh_api")
    assert api.quantity == Q("0.5 kg")
    assert api.limits is not None
    assert (api.limits.action_low, api.limits.action_high) == (
        Q("0.4975 kg").magnitude,
        Q("0.5025 kg").magnitude,
    )
    assert api.verified
    assert flow.theoretical_yield() == Q("50 L")
    with pytest.raises(FlowError, match="below the smallest"):
        Flow(tiny_doc, batch_size=Q("10 L"))
    with pytest.raises(FlowError):
        Flow(tiny_doc, batch_size=Q("10 kg"))


def test_replay_reaches_the_same_state(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)
    state = run_to_mixing(flow)
    replayed = flow.replay(state.runs)
    assert replayed.available() == state.available()
    assert replayed.values == state.values
    with pytest.raises(OutOfTurn):
        flow.replay([StepRun("fill", {"bottles": Q("1 bottle")})])


def test_an_invalid_record_cannot_be_executed(tiny_data: dict[str, Any]) -> None:
    tiny_data["unit_procedures"][0]["operations"][0]["steps"][1]["parameters"][0]["action_low"] = 2
    with pytest.raises(DocumentInvalid):
        Flow(parse(tiny_data))


def test_replay_of_a_full_history_with_calculations(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)
    state = run_to_mixing(flow).complete("dissolve", {"ph": Q("5 pH"), "appearance": "clear"})
    state = state.complete("fill", {"bottles": Q("990 bottle")})
    assert state.runs[-1].values["yield_pct"] == Q("99 %")  # the record holds calculated values
    replayed = flow.replay(state.runs)
    assert replayed.is_complete
    assert replayed.values == state.values
    # a recorded calculated value is kept as recorded, not silently recomputed
    history = [
        *state.runs[:-1],
        StepRun("fill", {**state.runs[-1].values, "yield_pct": Q("98.9 %")}),
    ]
    assert flow.replay(history).values["fill.yield_pct"] == Q("98.9 %")
