"""The visual builder's forms (htmx posts): edit a field, add, reorder and remove steps and
parameters, instant validation with problems beside the fields, and a stale form refused."""

from __future__ import annotations

import re

import pytest

BASE = "/mbrs/MBR-TINY/v1/builder"
STEP = "unit_procedures[0].operations[0].steps[1]"  # weigh_api


@pytest.fixture
def draft(mbr):
    return mbr.create()


def _post(client, url, data):
    return client.post(url, data, HTTP_HX_REQUEST="true")


def _fields(step_values):
    base = {"completion.performer_signature": "on", "completion.verification": "on"}
    return {**base, **step_values}


def test_edit_a_step_field(ui, draft, personas):
    from galenic.recipes.models import MasterRecordVersion

    client = ui(personas["engineer"])
    answer = _post(
        client,
        f"{BASE}/op/",
        {
            "kind": "step",
            "path": STEP,
            "action": "set",
            "row_version": "1",
            "reason": "clearer title",
            **_fields(
                {
                    "key": "weigh_api",
                    "title": "Weigh Tinyol",
                    "instructions": "Weigh Tinyol on the balance.",
                }
            ),
        },
    )
    assert answer.status_code == 200
    assert 'data-testid="builder-valid"' in answer.content.decode()
    version = MasterRecordVersion.objects.get(pk=draft.pk)
    assert version.row_version == 2
    step = version.document().step("weigh_api")
    assert step.title == "Weigh Tinyol"
    assert step.completion.verification is True
    assert step.materials  # fields the form does not hold are kept


def test_add_move_and_remove(ui, draft, personas):
    from galenic.recipes.models import MasterRecordVersion

    client = ui(personas["engineer"])
    steps = "unit_procedures[0].operations[0].steps"
    answer = _post(
        client,
        f"{BASE}/op/",
        {"kind": "step", "action": "add", "list": steps, "row_version": "1"},
    )
    assert answer.status_code == 200
    doc = MasterRecordVersion.objects.get(pk=draft.pk).document()
    keys = [s.key for s in doc.unit_procedures[0].operations[0].steps]
    assert keys == ["line_clearance", "weigh_api", "step_1"]
    html = answer.content.decode()
    assert "a step title is required" not in html  # "New step" has a title
    assert "the step instructions is required" in html or "instructions" in html

    _post(
        client,
        f"{BASE}/op/",
        {"kind": "step", "action": "up", "path": f"{steps}[2]", "row_version": "2"},
    )
    doc = MasterRecordVersion.objects.get(pk=draft.pk).document()
    assert [s.key for s in doc.unit_procedures[0].operations[0].steps] == [
        "line_clearance",
        "step_1",
        "weigh_api",
    ]
    _post(
        client,
        f"{BASE}/op/",
        {
            "kind": "parameter",
            "action": "add",
            "list": f"{steps}[1].parameters",
            "row_version": "3",
        },
    )
    doc = MasterRecordVersion.objects.get(pk=draft.pk).document()
    assert [p.key for p in doc.step("step_1").parameters] == ["param_1"]
    _post(
        client,
        f"{BASE}/op/",
        {"kind": "step", "action": "remove", "path": f"{steps}[1]", "row_version": "4"},
    )
    doc = MasterRecordVersion.objects.get(pk=draft.pk).document()
    assert doc.step("step_1") is None


def test_add_component_with_its_fields(ui, draft, personas):
    from galenic.recipes.models import MasterRecordVersion

    client = ui(personas["engineer"])
    _post(
        client,
        f"{BASE}/op/",
        {
            "kind": "component",
            "action": "add",
            "list": "components",
            "row_version": "1",
            "new_code": "EXC-SUC",
            "new_name": "Sucrose",
            "new_role": "excipient",
            "new_quantity": "60 kg",
            "new_tolerance": "1 %",
        },
    )
    doc = MasterRecordVersion.objects.get(pk=draft.pk).document()
    sucrose = doc.component("EXC-SUC")
    assert (sucrose.name, sucrose.quantity, sucrose.tolerance) == ("Sucrose", "60 kg", "1 %")


def test_instant_validation_puts_problems_beside_the_fields(ui, draft, personas):
    client = ui(personas["engineer"])
    param = "unit_procedures[0].operations[1].steps[0].parameters[0]"  # water_temp
    answer = _post(
        client,
        f"{BASE}/preview/",
        {
            "kind": "parameter",
            "path": param,
            "key": "water_temp",
            "type": "number",
            "unit": "°C",
            "source": "manual",
            "target": "25",
            "alert_low": "22",
            "alert_high": "35",  # above action_high
            "action_low": "20",
            "action_high": "30",
            "required": "on",
        },
    )
    html = answer.content.decode()
    slot = "p-unit_procedures-0-operations-1-steps-0-parameters-0-action_high"
    match = re.search(
        rf'<ul id="{slot}" class="field-problems" hx-swap-oob="true">(.*?)</ul>', html, re.S
    )
    assert match is not None
    assert "action_high 30 is below alert_high 35" in match.group(1)
    target_slot = "p-unit_procedures-0-operations-1-steps-0-parameters-0-target"
    assert f'<ul id="{target_slot}" class="field-problems" hx-swap-oob="true"></ul>' in html
    # nothing was saved by the preview
    from galenic.recipes.models import MasterRecordVersion

    assert MasterRecordVersion.objects.get(pk=draft.pk).row_version == 1


def test_structure_error_shown_at_the_field_and_nothing_saved(ui, draft, personas):
    from galenic.recipes.models import MasterRecordVersion

    client = ui(personas["engineer"])
    answer = _post(
        client,
        f"{BASE}/op/",
        {
            "kind": "step",
            "path": STEP,
            "action": "set",
            "row_version": "1",
            **_fields({"key": "Weigh API", "title": "x", "instructions": "y"}),
        },
    )
    assert answer.status_code == 200
    assert answer["HX-Retarget"].startswith("#f-step-")
    slot = "p-unit_procedures-0-operations-0-steps-1-key"
    assert re.search(
        rf'<ul id="{re.escape(slot)}" class="field-problems" hx-swap-oob="true"><li>',
        answer.content.decode(),
    )
    assert MasterRecordVersion.objects.get(pk=draft.pk).row_version == 1


def test_stale_form_is_refused(ui, draft, personas):
    client = ui(personas["engineer"])
    data = {
        "kind": "header",
        "path": "",
        "action": "set",
        "row_version": "1",
        "title": "Tiny oral solution",
        "batch_size.size": "100",
        "batch_size.unit": "L",
        "theoretical_yield.quantity": "100 L",
        "theoretical_yield.low_percent": "98.0",
        "theoretical_yield.high_percent": "100.5",
        "precautions": "Wear gloves.",
    }
    assert _post(client, f"{BASE}/op/", data).status_code == 200
    stale = _post(client, f"{BASE}/op/", {**data, "title": "Other"})
    assert stale["HX-Retarget"] == "#f-header-record-problems"
    assert "changed by someone else" in stale.content.decode()


def test_builder_refuses_a_version_in_review(ui, mbr, personas):
    version = mbr.submit(mbr.create())
    client = ui(personas["engineer"])
    page = client.get(f"/mbrs/MBR-TINY/v{version.version}/builder/")
    assert page.status_code == 302
    answer = _post(
        client,
        f"{BASE}/op/",
        {
            "kind": "header",
            "path": "",
            "action": "set",
            "row_version": str(version.row_version),
            "title": "x",
        },
    )
    assert "Only a version that is draft" in answer.content.decode()


def test_move_a_step_to_another_operation(ui, draft, personas):
    from galenic.recipes.models import MasterRecordVersion

    client = ui(personas["engineer"])
    answer = _post(
        client,
        f"{BASE}/op/",
        {
            "kind": "step",
            "action": "move_to",
            "path": "unit_procedures[0].operations[0].steps[0]",
            "into": "unit_procedures[0].operations[1].steps",
            "row_version": "1",
        },
    )
    assert answer.status_code == 200
    doc = MasterRecordVersion.objects.get(pk=draft.pk).document()
    ops = doc.unit_procedures[0].operations
    assert [s.key for s in ops[0].steps] == ["weigh_api"]
    assert [s.key for s in ops[1].steps] == ["charge_water", "line_clearance"]
    assert 'value="unit_procedures[0].operations[0].steps"' in answer.content.decode()
