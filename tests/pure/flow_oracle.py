"""Test oracle for the flow engine, written independently of the engine's graph code.

Each step's predecessors come straight from the document data: sequence within an operation,
``after`` between operations (default: the previous one), a barrier between unit procedures.
Shared by the random-order property tests.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from galenic.recipes.document import Flow, IncompleteStep, OutOfTurn, StepStatus
from galenic.recipes.document.model import DataType, MasterBatchRecord
from galenic.rules.units import Quantity


def oracle_predecessors(data: dict[str, Any]) -> dict[str, set[str]]:
    preds: dict[str, set[str]] = {}
    before_up: set[str] = set()
    for up in data["unit_procedures"]:
        ends: dict[str, set[str]] = {}
        previous: set[str] | None = None
        for op in up["operations"]:
            if op.get("after"):
                start = set().union(*(ends[name] for name in op["after"]))
            elif "after" in op or previous is None:
                start = set(before_up)
            else:
                start = previous
            last = start
            for step in op["steps"]:
                preds[step["key"]] = set(last)
                last = {step["key"]}
            ends[op["key"]] = last
            previous = last
        before_up = set().union(*ends.values()) if ends else before_up
    return preds


def value_strategy(param: Any) -> st.SearchStrategy[Any]:
    if param.type is DataType.BOOLEAN:
        return st.booleans()
    if param.type is DataType.CHOICE:
        return st.sampled_from(param.choices)
    low = param.action_low if param.action_low is not None else Decimal(0)
    high = param.action_high if param.action_high is not None else Decimal(2000)
    return st.decimals(
        min_value=low - 1, max_value=high + 1, places=1, allow_nan=False, allow_infinity=False
    ).map(lambda d: Quantity(d, param.unit))


def check_random_orders(doc: MasterBatchRecord, data: dict[str, Any], draw: Any) -> None:
    flow = Flow(doc)
    preds = oracle_predecessors(data)
    keys = list(flow.graph.order)
    state = flow.start()
    completed: list[str] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4 * len(keys)))):
        key = draw(st.sampled_from([*keys, "not_a_step"]))
        step = doc.step(key)
        values: dict[str, Any] = {}
        if step is not None:
            for param in step.parameters:
                if param.source.value != "calculated" and draw(st.integers(0, 19)) > 0:
                    values[param.key] = draw(value_strategy(param))
        before = state
        try:
            state = state.complete(key, values)
        except (OutOfTurn, IncompleteStep):
            assert state is before
            continue
        # a successful completion: every oracle predecessor had ended before it
        for pred in preds[key]:
            assert before.status(pred).status.ended, f"{key} completed before {pred}"
        assert before.status(key).status is StepStatus.AVAILABLE
        completed.append(key)
    statuses = {s.key: s.status for s in state.steps()}
    if state.is_complete:
        for key in keys:
            assert statuses[key].ended
            if statuses[key] is not StepStatus.SKIPPED:
                assert key in completed
    for key, status in statuses.items():
        if status is StepStatus.SKIPPED:
            assert key not in completed
