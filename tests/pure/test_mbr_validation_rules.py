"""One test per validation rule: each case breaks the valid tiny record in one way and expects
the rule's code at the exact path. A final test checks every rule in RULES has a case."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from galenic.recipes.document import RULES, validate

Data = dict[str, Any]

UP0 = "unit_procedures[0]"
SETUP = f"{UP0}.operations[0]"
MIX = f"{UP0}.operations[3]"
FILL = "unit_procedures[1].operations[0].steps[0]"


def step(data: Data, u: int, o: int, s: int) -> Data:
    return data["unit_procedures"][u]["operations"][o]["steps"][s]


def weigh(data: Data) -> Data:
    return step(data, 0, 0, 1)


def dissolve(data: Data) -> Data:
    return step(data, 0, 3, 0)


def adjust(data: Data) -> Data:
    return step(data, 0, 3, 1)


def fill(data: Data) -> Data:
    return step(data, 1, 0, 0)


def set_(getter: Callable[[Data], Any], key: str, value: Any) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        getter(data)[key] = value

    return mutate


def delete(getter: Callable[[Data], Any], key: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        del getter(data)[key]

    return mutate


def weigh_param(data: Data) -> Data:
    return weigh(data)["parameters"][0]


def fill_param(i: int) -> Callable[[Data], Data]:
    return lambda data: fill(data)["parameters"][i]


def add_param(getter: Callable[[Data], Data], param: Data) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        getter(data).setdefault("parameters", []).append(param)

    return mutate


def imperial_component(data: Data) -> None:
    data["components"][1]["quantity"] = "231 lb"
    data["components"][1]["tolerance"] = "2 lb"


def cyclic_calculations(data: Data) -> None:
    params = fill(data)["parameters"]
    params[1]["expression"] = "yield_pct * 100 [L/%]"


def ambiguous_key(data: Data) -> None:
    weigh(data)["parameters"].append({"key": "room_clear", "name": "again", "type": "boolean"})
    fill(data)["parameters"].append(
        {
            "key": "check",
            "name": "c",
            "type": "boolean",
            "source": "calculated",
            "expression": "room_clear",
        }
    )


def self_reference(data: Data) -> None:
    fill(data)["parameters"][1]["expression"] = "volume_filled + 1 L"


def parallel_reference(data: Data) -> None:
    step(data, 0, 2, 0)["parameters"].append(
        {"key": "temp_copy", "unit": "°C", "source": "calculated", "expression": "water_temp"}
    )


def later_reference(data: Data) -> None:
    weigh(data)["parameters"].append(
        {"key": "bottles_copy", "unit": "bottle", "source": "calculated", "expression": "bottles"}
    )


def optional_reference(data: Data) -> None:
    weigh(data)["parameters"][0]["required"] = False
    fill(data)["parameters"].append(
        {"key": "mass_copy", "unit": "kg", "source": "calculated", "expression": "api_mass"}
    )


def conditional_reference(data: Data) -> None:
    fill(data)["parameters"].append(
        {"key": "ph_copy", "unit": "pH", "source": "calculated", "expression": "ph_adjusted"}
    )


def verified_without_verification(data: Data) -> None:
    weigh(data)["completion"] = {"verification": False}


def unknown_attachment_image(data: Data) -> None:
    dissolve(data)["instructions"] = "See ![set-up](attachment:nope)"


def label_without_specimen(data: Data) -> None:
    del data["packaging"][2]["specimen"]


def empty_operation(data: Data) -> None:
    data["unit_procedures"][1]["operations"].append({"key": "empty", "title": "Empty", "steps": []})


CASES: list[tuple[str, Callable[[Data], None], str, str]] = [
    (
        "structure: unknown field",
        set_(weigh, "tolerence", "1 %"),
        f"{SETUP}.steps[1].tolerence",
        "structure",
    ),
    ("structure: bad key", set_(weigh, "key", "Weigh API"), f"{SETUP}.steps[1].key", "structure"),
    (
        "structure: not a number",
        set_(weigh_param, "target", "abc"),
        f"{SETUP}.steps[1].parameters[0].target",
        "structure",
    ),
    (
        "structure: NaN",
        set_(weigh_param, "target", "NaN"),
        f"{SETUP}.steps[1].parameters[0].target",
        "structure",
    ),
    (
        "cfr: product strength",
        lambda d: d["product"].pop("strength"),
        "product.strength",
        "cfr.missing",
    ),
    (
        "cfr: unit weight",
        lambda d: d["product"].pop("unit_weight"),
        "product.unit_weight",
        "cfr.missing",
    ),
    (
        "cfr: component tolerance",
        lambda d: d["components"][0].pop("tolerance"),
        "components[0].tolerance",
        "cfr.missing",
    ),
    (
        "cfr: yield limits",
        lambda d: d["theoretical_yield"].pop("low_percent"),
        "theoretical_yield.low_percent",
        "cfr.missing",
    ),
    (
        "cfr: phase weights",
        lambda d: d["unit_procedures"][0].pop("theoretical_output"),
        "unit_procedures",
        "cfr.missing",
    ),
    ("cfr: label specimen", label_without_specimen, "packaging[2].specimen", "cfr.missing"),
    ("cfr: precautions", lambda d: d.pop("precautions"), "precautions", "cfr.missing"),
    (
        "cfr: step instructions",
        delete(weigh, "instructions"),
        f"{SETUP}.steps[1].instructions",
        "cfr.missing",
    ),
    (
        "key.duplicate: step",
        set_(weigh, "key", "line_clearance"),
        f"{SETUP}.steps[1].key",
        "key.duplicate",
    ),
    (
        "key.duplicate: component",
        lambda d: d["components"][1].update(code="API-T"),
        "components[1].code",
        "key.duplicate",
    ),
    (
        "key.reserved",
        set_(weigh_param, "key", "batch_size"),
        f"{SETUP}.steps[1].parameters[0].key",
        "key.reserved",
    ),
    (
        "unit.unknown",
        set_(weigh_param, "unit", "kgg"),
        f"{SETUP}.steps[1].parameters[0].unit",
        "unit.unknown",
    ),
    (
        "unit.incompatible: material",
        lambda d: weigh(d)["materials"][0].update(quantity="1 L"),
        f"{SETUP}.steps[1].materials[0].quantity",
        "unit.incompatible",
    ),
    (
        "unit.incompatible: calculation",
        set_(fill_param(1), "expression", "bottles * 100 [g/bottle]"),
        f"{FILL}.parameters[1].expression",
        "unit.incompatible",
    ),
    ("unit.systems", imperial_component, "components", "unit.systems"),
    (
        "quantity.invalid",
        lambda d: d["components"][0].update(quantity="one kg"),
        "components[0].quantity",
        "quantity.invalid",
    ),
    (
        "limits.order",
        set_(weigh_param, "action_high", 0.9),
        f"{SETUP}.steps[1].parameters[0].action_high",
        "limits.order",
    ),
    (
        "limits.order: yield",
        lambda d: d["theoretical_yield"].update(high_percent=90),
        "theoretical_yield.high_percent",
        "limits.order",
    ),
    (
        "limits.type",
        lambda d: step(d, 0, 0, 0)["parameters"][0].update(action_high=3),
        f"{SETUP}.steps[0].parameters[0].action_high",
        "limits.type",
    ),
    (
        "param.choices",
        lambda d: dissolve(d)["parameters"][1].update(expected="purple"),
        f"{MIX}.steps[0].parameters[1].expected",
        "param.choices",
    ),
    (
        "param.expected",
        lambda d: step(d, 0, 0, 0)["parameters"][0].update(expected="yes please"),
        f"{SETUP}.steps[0].parameters[0].expected",
        "param.expected",
    ),
    (
        "param.pattern",
        add_param(weigh, {"key": "lot", "type": "barcode", "pattern": "(unclosed"}),
        f"{SETUP}.steps[1].parameters[1].pattern",
        "param.pattern",
    ),
    (
        "source.expression",
        delete(fill_param(1), "expression"),
        f"{FILL}.parameters[1].expression",
        "source.expression",
    ),
    (
        "source.instrument",
        set_(weigh_param, "unit", "mL"),
        f"{SETUP}.steps[1].parameters[0].unit",
        "source.instrument",
    ),
    (
        "expr.syntax",
        set_(fill_param(1), "expression", "bottles * (100 [mL/bottle]"),
        f"{FILL}.parameters[1].expression",
        "expr.syntax",
    ),
    ("expr.type", set_(adjust, "condition", "ph + 1 pH"), f"{MIX}.steps[1].condition", "expr.type"),
    (
        "expr.percent",
        set_(fill_param(2), "expression", "volume_filled / theoretical_yield * 100"),
        f"{FILL}.parameters[2].expression",
        "expr.percent",
    ),
    (
        "ref.unknown: calculation",
        set_(fill_param(1), "expression", "bottle_count * 100 [mL/bottle]"),
        f"{FILL}.parameters[1].expression",
        "ref.unknown",
    ),
    (
        "ref.unknown: condition",
        set_(adjust, "condition", "ph_final > 5.5 pH"),
        f"{MIX}.steps[1].condition",
        "ref.unknown",
    ),
    (
        "ref.unknown: yield actual",
        lambda d: d["theoretical_yield"].update(actual="fill.nothing"),
        "theoretical_yield.actual",
        "ref.unknown",
    ),
    ("ref.ambiguous", ambiguous_key, f"{FILL}.parameters[3].expression", "ref.ambiguous"),
    (
        "ref.later: later step",
        later_reference,
        f"{SETUP}.steps[1].parameters[1].expression",
        "ref.later",
    ),
    (
        "ref.later: parallel branch",
        parallel_reference,
        f"{UP0}.operations[2].steps[0].parameters[1].expression",
        "ref.later",
    ),
    (
        "ref.later: own value in condition",
        set_(adjust, "condition", "ph_adjusted > 5.5 pH"),
        f"{MIX}.steps[1].condition",
        "ref.later",
    ),
    (
        "ref.optional: optional",
        optional_reference,
        f"{FILL}.parameters[3].expression",
        "ref.optional",
    ),
    (
        "ref.optional: conditional step",
        conditional_reference,
        f"{FILL}.parameters[3].expression",
        "ref.optional",
    ),
    (
        "ref.cycle: two calculations",
        cyclic_calculations,
        f"{FILL}.parameters[1].expression",
        "ref.cycle",
    ),
    ("ref.cycle: itself", self_reference, f"{FILL}.parameters[1].expression", "ref.cycle"),
    (
        "flow.after: unknown",
        lambda d: d["unit_procedures"][0]["operations"][3].update(after=["water", "label"]),
        f"{MIX}.after[1]",
        "flow.after",
    ),
    (
        "flow.after: later",
        lambda d: d["unit_procedures"][0]["operations"][1].update(after=["mixing"]),
        f"{UP0}.operations[1].after[0]",
        "flow.after",
    ),
    (
        "flow.unreachable",
        set_(adjust, "condition", "1 > 2"),
        f"{MIX}.steps[1].condition",
        "flow.unreachable",
    ),
    (
        "loop.unbounded: no max",
        lambda d: adjust(d)["repeat"].pop("max"),
        f"{MIX}.steps[1].repeat.max",
        "loop.unbounded",
    ),
    (
        "loop.unbounded: absurd max",
        lambda d: adjust(d)["repeat"].update(max=100000),
        f"{MIX}.steps[1].repeat.max",
        "loop.unbounded",
    ),
    (
        "loop.static",
        lambda d: adjust(d)["repeat"].update(until="ph > 4 pH"),
        f"{MIX}.steps[1].repeat.until",
        "loop.static",
    ),
    (
        "structure.empty",
        empty_operation,
        "unit_procedures[1].operations[1].steps",
        "structure.empty",
    ),
    (
        "material.unknown",
        lambda d: weigh(d)["materials"][0].update(material="API-X"),
        f"{SETUP}.steps[1].materials[0].material",
        "material.unknown",
    ),
    (
        "material.unknown: active",
        lambda d: d["product"]["active_ingredients"][0].update(material="WAT-PW"),
        "product.active_ingredients[0].material",
        "material.unknown",
    ),
    (
        "material.verification",
        verified_without_verification,
        f"{SETUP}.steps[1].completion.verification",
        "material.verification",
    ),
    (
        "equipment.spec",
        lambda d: weigh(d)["equipment"][0].update(equipment_id="BAL-001"),
        f"{SETUP}.steps[1].equipment[0]",
        "equipment.spec",
    ),
    (
        "duration.order",
        lambda d: dissolve(d)["duration"].update(min="40 min"),
        f"{MIX}.steps[0].duration.max",
        "duration.order",
    ),
    (
        "duration unit",
        lambda d: dissolve(d)["duration"].update(max="30 kg"),
        f"{MIX}.steps[0].duration.max",
        "unit.incompatible",
    ),
    ("batch.range", lambda d: d["batch_size"].update(max=80), "batch_size.max", "batch.range"),
    (
        "attachment.unknown",
        unknown_attachment_image,
        f"{MIX}.steps[0].instructions",
        "attachment.unknown",
    ),
    (
        "instructions.unsafe: html",
        set_(dissolve, "instructions", "Stir <script>alert(1)</script>"),
        f"{MIX}.steps[0].instructions",
        "instructions.unsafe",
    ),
    (
        "instructions.unsafe: link",
        set_(dissolve, "instructions", "[x](javascript:alert(1))"),
        f"{MIX}.steps[0].instructions",
        "instructions.unsafe",
    ),
    (
        "quantity.invalid: zero addition",
        lambda d: weigh(d)["materials"][0].update(quantity="0 kg"),
        f"{SETUP}.steps[1].materials[0].quantity",
        "quantity.invalid",
    ),
    (
        "ref.optional: yield actual",
        lambda d: fill(d)["parameters"][1].update(required=False),
        "theoretical_yield.actual",
        "ref.optional",
    ),
]


def test_the_tiny_record_is_valid(tiny_data: Data) -> None:
    assert validate(tiny_data) == []


@pytest.mark.parametrize(
    ("mutate", "path", "code"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(tiny_data: Data, mutate: Callable[[Data], None], path: str, code: str) -> None:
    mutate(tiny_data)
    problems = validate(tiny_data)
    found = {(p.path, p.code) for p in problems}
    assert (path, code) in found, [str(p) for p in problems]
    assert all(p.message for p in problems)


def test_every_rule_has_a_case() -> None:
    covered = {c[3] for c in CASES}
    assert set(RULES) <= covered, set(RULES) - covered


def test_every_problem_is_returned_not_just_the_first(tiny_data: Data) -> None:
    weigh_param(tiny_data)["action_high"] = 0.9
    tiny_data["product"].pop("strength")
    fill(tiny_data)["parameters"][1]["expression"] = "nothing * 2"
    adjust(tiny_data)["repeat"].pop("max")
    codes = sorted(p.code for p in validate(tiny_data))
    assert codes == ["cfr.missing", "limits.order", "loop.unbounded", "ref.unknown"]


def test_structural_problems_are_all_reported_with_paths(tiny_data: Data) -> None:
    weigh_param(tiny_data)["target"] = "abc"
    fill(tiny_data)["colour"] = "red"
    tiny_data["format"] = "other/9"
    paths = {p.path for p in validate(tiny_data)}
    assert {
        f"{SETUP}.steps[1].parameters[0].target",
        f"{FILL}.colour",
        "format",
    } <= paths
