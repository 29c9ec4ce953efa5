"""Dry run: the path taken, calculations with inputs, limits that would fire, yield."""

from __future__ import annotations

from galenic.recipes.document.dryrun import dry_run, parse_example_values
from galenic.recipes.document.model import MasterBatchRecord


def test_defaults_walk_every_step_and_skip_the_conditional_one(tiny_doc: MasterBatchRecord) -> None:
    report = dry_run(tiny_doc)
    assert report.complete
    assert [(e.step, e.status) for e in report.path] == [
        ("line_clearance", "completed"),
        ("weigh_api", "completed"),
        ("charge_water", "completed"),
        ("issue_labels", "completed"),
        ("dissolve", "completed"),
        ("adjust_ph", "skipped"),
        ("fill", "completed"),
    ]
    skipped = report.path[5]
    assert "condition 'ph > 5.5 pH or ph < 4.5 pH' is false (ph = 5 pH)" in skipped.reason


def test_given_values_drive_loops_limits_and_yield(tiny_doc: MasterBatchRecord) -> None:
    report = dry_run(
        tiny_doc,
        values={
            "dissolve.ph": "6.2 pH",
            "ph_adjusted": ["5.9 pH", "5.6 pH", "5.8 pH"],
            "bottles": "970 bottle",
        },
    )
    adjust_runs = [e for e in report.path if e.step == "adjust_ph"]
    assert [e.run for e in adjust_runs] == [1, 2, 3]
    assert adjust_runs[-1].status == "exhausted"
    assert "ran 3 of at most 3 times" in adjust_runs[-1].reason
    fired = {
        (c.step, c.run, c.parameter, c.evaluation.outcome.value)
        for c in report.firing
        if c.evaluation
    }
    assert ("dissolve", 1, "ph", "action_high") in fired
    assert ("adjust_ph", 3, "ph_adjusted", "action_high") in fired
    assert ("fill", 1, "yield_pct", "action_low") in fired
    assert report.yield_result is not None
    assert str(report.yield_result.percent_rounded) == "97.0"
    assert report.yield_result.needs_investigation


def test_calculations_show_inputs_and_results(tiny_doc: MasterBatchRecord) -> None:
    report = dry_run(tiny_doc, values={"bottles": "990 bottle"})
    described = [c.describe() for c in report.calculations]
    assert described == [
        "fill.volume_filled = bottles * 100 [mL/bottle]  [bottles = 990 bottle]  → 99.000 L",
        "fill.yield_pct = volume_filled / theoretical_yield  "
        "[volume_filled = 99.000 L, theoretical_yield = 100 L]  → 99.0 %",
    ]


def test_batch_size_scales_the_walk(tiny_doc: MasterBatchRecord) -> None:
    report = dry_run(tiny_doc, batch_size="50 L", values={"bottles": "495 bottle"})
    assert report.yield_result is not None
    assert report.yield_result.within_limits
    assert str(report.batch_size) == "50 L"


def test_refused_example_values_are_reported(tiny_doc: MasterBatchRecord) -> None:
    report = dry_run(tiny_doc, values={"appearance": "purple"})
    assert any("appearance" in p and "not one of" in p for p in report.problems)


def test_text_rendering_has_every_section(tiny_doc: MasterBatchRecord) -> None:
    text = dry_run(tiny_doc, values={"dissolve.ph": "6.2 pH"}).render_text()
    for heading in (
        "Dry run of MBR-TINY",
        "Path (",
        "Calculations (",
        "Limits that would fire (",
        "Yield:",
        "Result:",
    ):
        assert heading in text
    assert "SKIPPED" not in text  # ph 6.2 makes the adjustment step run
    assert "ACTION_HIGH: 6.2 pH is above the action limit 5.5 pH" in text


def test_as_dict_is_plain_data(tiny_doc: MasterBatchRecord) -> None:
    data = dry_run(tiny_doc).as_dict()
    assert data["complete"] is True
    assert data["path"][0]["checks"][0]["outcome"] == "in_range"


def test_example_values_from_the_command_line() -> None:
    assert parse_example_values(["lod=3.1 %", "lod=2.2 %", "x=1"]) == {
        "lod": ["3.1 %", "2.2 %"],
        "x": ["1"],
    }
