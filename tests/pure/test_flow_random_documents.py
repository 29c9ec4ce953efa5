"""Random master-record shapes (parallel branches, joins, conditions, repeat loops) under random
action orders: the engine never completes a step before its predecessors, never completes a
skipped step, respects repeat bounds, and reaches "complete" only when every step has ended."""

from __future__ import annotations

from typing import Any

from flow_oracle import oracle_predecessors  # type: ignore[import-not-found]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galenic.recipes.document import Flow, IncompleteStep, OutOfTurn, StepStatus, parse, validate

HEADER: dict[str, Any] = {
    "format": "galenic.mbr/1",
    "code": "MBR-RANDOM",
    "title": "Random shape",
    "product": {
        "name": "P",
        "strength": "1 mg",
        "dosage_form": "tablet",
        "unit_weight": "100 mg",
        "active_ingredients": [{"material": "A", "amount_per_unit": "1 mg"}],
    },
    "batch_size": {"size": 1000, "unit": "tablet"},
    "components": [
        {"code": "A", "name": "A", "role": "active", "quantity": "1 g", "tolerance": "1 %"}
    ],
    "theoretical_yield": {"quantity": "1000 tablet", "low_percent": 90, "high_percent": 110},
    "packaging": [
        {"kind": "container", "code": "C"},
        {"kind": "label", "code": "L", "specimen": "lbl"},
    ],
    "precautions": ["Take care."],
    "attachments": [
        {"id": "lbl", "filename": "l.png", "media_type": "image/png", "sha256": "0" * 64}
    ],
}


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    counter = iter(range(10_000))
    earlier_steps: list[str] = []  # steps of earlier unit procedures: safe to reference
    ups = []
    for u in range(draw(st.integers(1, 3))):
        ops: list[dict[str, Any]] = []
        up_steps: list[str] = []
        for o in range(draw(st.integers(1, 4))):
            op: dict[str, Any] = {"key": f"op{u}_{o}", "title": "op", "steps": []}
            if o > 0 and draw(st.booleans()):
                op["after"] = draw(
                    st.lists(
                        st.sampled_from([p["key"] for p in ops]), max_size=len(ops), unique=True
                    )
                )
            for _ in range(draw(st.integers(1, 3))):
                key = f"s{next(counter)}"
                step: dict[str, Any] = {
                    "key": key,
                    "title": key,
                    "instructions": "Do it.",
                    "parameters": [{"key": "ok", "type": "boolean"}],
                }
                if earlier_steps and draw(st.integers(0, 3)) == 0:
                    ref = draw(st.sampled_from(earlier_steps))
                    step["condition"] = f"{ref}.ok == true"
                if draw(st.integers(0, 3)) == 0:
                    step["repeat"] = {"until": "ok", "max": draw(st.integers(1, 3))}
                op["steps"].append(step)
                up_steps.append(key)
            ops.append(op)
        up: dict[str, Any] = {"key": f"up{u}", "title": "up", "operations": ops}
        if u == 0:
            up["theoretical_output"] = "100 g"
            ops[0]["steps"][0]["sampling"] = {"description": "a sample"}
        ups.append(up)
        # values of conditional steps may be missing: reference only unconditional ones
        earlier_steps += [s["key"] for op in ops for s in op["steps"] if "condition" not in s]
    return {**HEADER, "unit_procedures": ups}


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents(), st.data())
def test_random_documents_under_random_orders(raw: dict[str, Any], data: st.DataObject) -> None:
    assert validate(raw) == []
    doc = parse(raw)
    flow = Flow(doc)
    preds = oracle_predecessors(raw)
    keys = list(flow.graph.order)
    state = flow.start()
    completions: dict[str, int] = {}
    for _ in range(data.draw(st.integers(1, 6 * len(keys)))):
        if state.available() and data.draw(st.booleans()):
            key = data.draw(st.sampled_from(state.available()))
        else:
            key = data.draw(st.sampled_from(keys))
        values = {"ok": data.draw(st.booleans())}
        before = state
        try:
            state = state.complete(key, values)
        except (OutOfTurn, IncompleteStep):
            continue
        for pred in preds[key]:
            assert before.status(pred).status.ended, f"{key} completed before {pred}"
        completions[key] = completions.get(key, 0) + 1
        step = doc.step(key)
        assert step is not None
        limit = step.repeat.max if step.repeat and step.repeat.max else 1
        assert completions[key] <= limit
    for s in state.steps():
        if s.status is StepStatus.SKIPPED:
            assert s.key not in completions
        if s.status is StepStatus.AVAILABLE:
            assert all(state.status(p).status.ended for p in preds[s.key])
    if state.is_complete:
        assert all(s.status.ended for s in state.steps())
        assert all(
            s.key in completions for s in state.steps() if s.status is not StepStatus.SKIPPED
        )
