"""Semantic diff between two versions: matched by keys, readable and structured."""

from __future__ import annotations

from decimal import Decimal

from galenic.recipes.document import MasterBatchRecord
from galenic.recipes.document.diff import diff
from galenic.recipes.document.model import Parameter, Step


def copy(doc: MasterBatchRecord) -> MasterBatchRecord:
    return doc.model_copy(deep=True)


def kinds(old: MasterBatchRecord, new: MasterBatchRecord) -> set[tuple[str, str, str]]:
    return {(c.kind, c.area, c.key) for c in diff(old, new).changes}


def test_identical_documents_have_no_changes(tiny_doc: MasterBatchRecord) -> None:
    result = diff(tiny_doc, copy(tiny_doc))
    assert result.is_empty
    assert result.old_hash == result.new_hash
    assert result.render_text() == "No changes.\n"


def test_added_and_removed_steps(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    ops = new.unit_procedures[0].operations
    ops[2].steps.append(Step(key="check_labels", title="Check labels", instructions="Check."))
    ops[0].steps.pop(0)  # line_clearance
    assert {("added", "steps", "check_labels"), ("removed", "steps", "line_clearance")} <= kinds(
        tiny_doc, new
    )


def test_moved_step_is_one_move_not_add_and_remove(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    ops = new.unit_procedures[0].operations
    moved = ops[1].steps.pop(0)  # charge_water
    ops[2].steps.insert(0, moved)
    changes = diff(tiny_doc, new).changes
    assert [(c.kind, c.key) for c in changes] == [("moved", "charge_water")]
    assert "from preparation/water #1 to preparation/labels #1" in changes[0].summary


def test_reordered_steps_within_an_operation(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    steps = new.unit_procedures[0].operations[3].steps
    steps.reverse()
    assert ("moved", "flow", "dissolve") in kinds(tiny_doc, new) or (
        "moved",
        "flow",
        "adjust_ph",
    ) in kinds(tiny_doc, new)
    assert len(diff(tiny_doc, new).changes) == 1


def test_renamed_and_rekeyed_steps(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    new.unit_procedures[0].operations[3].steps[0].title = "Dissolve the active"
    new.unit_procedures[0].operations[2].steps[0].key = "count_labels"
    found = kinds(tiny_doc, new)
    assert ("renamed", "steps", "dissolve") in found
    assert ("rekeyed", "steps", "count_labels") in found
    assert not any(kind in {"added", "removed"} for kind, _, _ in found)


def test_parameter_and_limit_changes(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    water = new.unit_procedures[0].operations[1].steps[0]
    water.parameters[0].action_high = Decimal(32)
    water.parameters[0].name = "Temperature of water"
    water.parameters.append(
        Parameter(key="conductivity", name="Conductivity", unit="µS/cm", action_high=Decimal("1.3"))
    )
    changes = {(c.kind, c.area, c.key, c.field): c for c in diff(tiny_doc, new).changes}
    limit = changes[("changed", "limits", "charge_water.water_temp", "action_high")]
    assert (limit.old, limit.new) == (Decimal(30), Decimal(32))
    assert limit.summary == "charge_water.water_temp action_high: 30 → 32 (°C)"
    assert ("changed", "parameters", "charge_water.water_temp", "name") in changes
    assert ("added", "parameters", "charge_water.conductivity", "") in changes


def test_material_component_and_header_changes(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    new.unit_procedures[0].operations[0].steps[1].materials[0].quantity = "1.1 kg"
    new.components[0].quantity = "1.1 kg"
    new.theoretical_yield.low_percent = Decimal("97.5")
    summaries = [c.summary for c in diff(tiny_doc, new).changes]
    assert 'step weigh_api material API-T quantity: "1 kg" → "1.1 kg"' in summaries
    assert 'component API-T quantity: "1 kg" → "1.1 kg"' in summaries
    assert "theoretical_yield.low_percent: 98.0 → 97.5" in summaries


def test_flow_changes(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    new.unit_procedures[0].operations[2].after = None
    adjust = new.unit_procedures[0].operations[3].steps[1]
    assert adjust.repeat is not None
    adjust.repeat.max = 5
    adjust.condition = "ph > 5.6 pH"
    summaries = [c.summary for c in diff(tiny_doc, new).changes if c.area == "flow"]
    assert summaries == [
        "operation preparation/labels runs after: setup → the previous operation",
        'step adjust_ph condition: "ph > 5.5 pH or ph < 4.5 pH" → "ph > 5.6 pH"',
        "step adjust_ph repeat.max: 3 → 5",
    ]


def test_text_and_structured_renderings(tiny_doc: MasterBatchRecord) -> None:
    new = copy(tiny_doc)
    new.unit_procedures[0].operations[1].steps[0].parameters[0].action_high = Decimal(32)
    result = diff(tiny_doc, new)
    text = result.render_text()
    assert text.startswith(f"1 change(s) from {result.old_hash[:12]} to {result.new_hash[:12]}")
    assert "Limits\n  ~ charge_water.water_temp action_high: 30 → 32 (°C)\n" in text
    data = result.as_dict()
    assert data["count"] == 1
    assert data["changes"][0]["old"] == "30"
    assert data["changes"][0]["new"] == "32"
