"""Completing a step with the calculations its caller just computed (execution stores them, then
completes the step) gives the same state as letting the flow compute them again."""

from __future__ import annotations

import pytest
from test_flow_engine import run_to_mixing

from galenic.recipes.document import Flow, MasterBatchRecord
from galenic.rules.units import Quantity

Q = Quantity.parse


def test_given_calculations_give_the_same_state(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)
    state = run_to_mixing(flow).complete("dissolve", {"ph": Q("5 pH"), "appearance": "clear"})
    values = {"bottles": Q("990 bottle")}
    computed = state.complete("fill", values)
    given = state.complete("fill", values, calculations=flow.calculate(state, "fill", values))
    assert given.values == computed.values
    assert given.runs == computed.runs
    assert given.events == computed.events
    assert [s.status for s in given.steps()] == [s.status for s in computed.steps()]


def test_calculations_of_another_step_are_refused(tiny_doc: MasterBatchRecord) -> None:
    flow = Flow(tiny_doc)
    state = run_to_mixing(flow).complete("dissolve", {"ph": Q("5 pH"), "appearance": "clear"})
    others = flow.calculate(state, "fill", {"bottles": Q("990 bottle")})
    mixing = run_to_mixing(flow)
    with pytest.raises(ValueError, match="another step"):
        mixing.complete("dissolve", {"ph": Q("5 pH"), "appearance": "clear"}, calculations=others)
