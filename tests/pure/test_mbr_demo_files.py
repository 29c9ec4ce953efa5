"""The two demo master records are valid, realistic and round-trip exactly."""

from __future__ import annotations

from pathlib import Path

import pytest
from flow_oracle import check_random_orders  # type: ignore[import-not-found]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from galenic.recipes.document import dump_yaml, load_yaml, validate
from galenic.recipes.document.dryrun import dry_run
from galenic.recipes.document.io import read_yaml
from galenic.recipes.document.model import MasterBatchRecord

DEMO = Path(__file__).resolve().parents[2] / "src" / "galenic" / "recipes" / "demo"
TABLET = DEMO / "paracetamol-500-tablets.yaml"
SYRUP = DEMO / "dextromethorphan-syrup.yaml"
FILES = [TABLET, SYRUP]


def load(path: Path) -> MasterBatchRecord:
    return load_yaml(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_demo_record_is_valid(path: Path) -> None:
    assert validate(read_yaml(path.read_text("utf-8"))) == []


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_demo_record_round_trips(path: Path) -> None:
    doc = load(path)
    text = dump_yaml(doc)
    assert load_yaml(text) == doc
    assert dump_yaml(load_yaml(text)) == text


def test_tablet_record_covers_the_process() -> None:
    doc = load(TABLET)
    steps = {ref.step.key: ref for ref in doc.walk_steps()}
    assert len(steps) >= 40
    assert [up.key for up in doc.unit_procedures] == [
        "dispensing",
        "granulation",
        "drying",
        "sizing",
        "blending",
        "compression",
        "reconciliation",
    ]
    drying = steps["drying_cycle"].step
    assert drying.repeat is not None
    assert drying.repeat.max == 6
    assert "lod" in drying.repeat.until
    ipc = {p.key for p in steps["ipc_checks"].step.parameters}
    assert {"tablet_weight", "mean_weight", "hardness", "thickness"} <= ipc
    assert doc.theoretical_yield.actual == "count_tablets.good_tablets"
    # 211.101: every dispensing step is verified by a second person
    for key, ref in steps.items():
        if key.startswith("dispense_"):
            assert ref.step.completion.verification
    # parallel branches: binder solution beside dry mixing
    ops = {op.key: op for op in doc.unit_procedures[1].operations}
    assert ops["binder_solution"].after == ops["dry_mixing"].after == ["granulation_preparation"]


@pytest.mark.parametrize(
    ("path", "size"),
    [(TABLET, None), (TABLET, "150000 tablet"), (SYRUP, None), (SYRUP, "250 L")],
)
def test_demo_record_dry_runs_cleanly_with_targets(path: Path, size: str | None) -> None:
    report = dry_run(load(path), batch_size=size)
    assert report.complete
    assert report.firing == []
    assert report.problems == []
    assert report.yield_result is not None
    assert report.yield_result.within_limits


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_orders_on_the_demo_records(data: st.DataObject) -> None:
    path = data.draw(st.sampled_from(FILES))
    raw = read_yaml(path.read_text("utf-8"))
    check_random_orders(load(path), raw, data.draw)


def test_demo_records_are_listed_by_code() -> None:
    from galenic.recipes.document.demos import demo_records

    assert sorted(demo_records()) == ["MBR-DXM15-SYR", "MBR-PCM500-TAB"]
