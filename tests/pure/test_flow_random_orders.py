"""Part 11 §11.10(f): random action orders never reach "complete" off the master-record graph.

The oracle (flow_oracle.py) derives each step's predecessors straight from the document data, independently
of the engine's graph code: sequence within an operation, ``after`` between operations (default:
the previous one), and a barrier between unit procedures.
"""

from __future__ import annotations

from pathlib import Path

from flow_oracle import check_random_orders, value_strategy  # type: ignore[import-not-found]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galenic.recipes.document import Flow, parse
from galenic.recipes.document.io import read_yaml

TINY_TEXT = (Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_orders_on_the_tiny_record(data: st.DataObject) -> None:
    raw = read_yaml(TINY_TEXT)
    check_random_orders(parse(raw), raw, data.draw)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_tiny_record_can_always_be_finished_in_order(data: st.DataObject) -> None:
    """Choosing only among available steps always ends in a complete batch."""
    raw = read_yaml(TINY_TEXT)
    doc = parse(raw)
    flow = Flow(doc)
    state = flow.start()
    for _ in range(100):
        if state.is_complete:
            break
        key = data.draw(st.sampled_from(state.available()))
        step = doc.step(key)
        assert step is not None
        values = {
            p.key: data.draw(value_strategy(p))
            for p in step.parameters
            if p.source.value != "calculated"
        }
        state = state.complete(key, values)
    assert state.is_complete
