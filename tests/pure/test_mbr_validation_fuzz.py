"""Whatever a client sends (the visual builder posts JSON), validation answers with problems and
never crashes; whatever validates can be executed and exported."""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galenic.recipes.document import Flow, Problem, dump_json, load_json, parse, validate
from galenic.recipes.document.dryrun import dry_run
from galenic.recipes.document.io import read_yaml

TINY = read_yaml((Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8"))

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6
    )
    | st.text(max_size=30)
    | st.sampled_from(["500 mg", "kg", "°C", "%", "ph > 5 pH", "x.y", "1 > 2", "true", "a_b", ""]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(data, dict):
        for key, value in data.items():
            found += paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += paths(value, (*prefix, i))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> dict[str, Any]:
    data = copy.deepcopy(TINY)
    for _ in range(draw(st.integers(1, 4))):
        candidates = [p for p in paths(data) if p]
        path = draw(st.sampled_from(candidates))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "delete", "duplicate"]))
        if action == "delete" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "duplicate" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_validation_never_crashes(data: dict[str, Any]) -> None:
    problems = validate(data)
    assert all(isinstance(p, Problem) and p.message for p in problems)
    if not problems:
        doc = parse(data)
        assert load_json(dump_json(doc)) == doc
        Flow(doc).start()
        dry_run(doc)


STRING_POOL = st.sampled_from(
    [
        "500 mg",
        "0.5 %",
        "1 L",
        "30 min",
        "kg",
        "mL",
        "°C",
        "pH",
        "%",
        "bottle",
        "",
        "mgg",
        "ph > 5.5 pH",
        "ph_adjusted >= 4.5 pH",
        "bottles * 2",
        "volume_filled / theoretical_yield",
        "batch_size",
        "1 > 2",
        "true",
        "fill.bottles",
        "dissolve.ph < 3 pH",
        "water_temp + 1 °C",
        "line_clearance",
        "weigh_api",
        "dissolve",
        "fill",
        "setup",
        "water",
        "labels",
        "mixing",
        "API-T",
        "WAT-PW",
        "label_tiny",
        "clear",
        "hazy",
        "(x",
        "a.b.c",
        "number",
        "choice",
        "boolean",
        "calculated",
        "instrument",
        "balance",
        "tag",
        "maximum",
    ]
)


@st.composite
def typed_mutation(draw: st.DrawFn) -> dict[str, Any]:
    """Keep every value's type, change its content: reaches the semantic rules."""
    data = copy.deepcopy(TINY)
    for _ in range(draw(st.integers(1, 5))):
        leaves = [p for p in paths(data) if p]
        path = draw(st.sampled_from(leaves))
        parent: Any = data
        for part in path[:-1]:
            parent = parent[part]
        current = parent[path[-1]]
        if isinstance(current, bool):
            parent[path[-1]] = draw(st.booleans())
        elif isinstance(current, int | Decimal):
            parent[path[-1]] = draw(
                st.decimals(min_value=-100, max_value=1000, places=2, allow_nan=False)
            )
        elif isinstance(current, str):
            parent[path[-1]] = draw(STRING_POOL)
        elif isinstance(current, list) and current:
            del current[draw(st.integers(0, len(current) - 1))]
    return data


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(typed_mutation())
def test_semantic_validation_never_crashes_and_valid_means_executable(data: dict[str, Any]) -> None:
    problems = validate(data)
    assert all(isinstance(p, Problem) and p.message for p in problems)
    if not problems:
        doc = parse(data)
        report = dry_run(doc)
        assert report.complete or report.problems


def test_a_few_hand_picked_oddities() -> None:
    for data in [
        {},
        {"code": "X"},
        {"code": "X", "unit_procedures": None},
        {"code": "X", "batch_size": {"size": Decimal(0), "unit": "kg"}},
    ]:
        assert validate(data)
