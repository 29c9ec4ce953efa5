"""A process engineer builds a small MBR in the visual builder (fields, steps, parameters,
reordering, instant validation), signs it and sends it for review; a QA reviewer checks it, the QA
approver approves it with her signature and makes it effective (21 CFR 211.186, 11.50)."""

from __future__ import annotations

import base64

import pytest

from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.browser

# A 1x1 PNG standing in for the label specimen.
LABEL_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def _acknowledge(*users):
    from galenic.core.context import action_context
    from galenic.signatures import services

    for user in users:
        authority = services.authenticate_signer(
            session=None, actor=user, user_id=user.username, password=PASSWORD
        )
        with action_context("test"):
            services.acknowledge_policy(actor=user, authority=authority)


def _revision(page, n):
    from playwright.sync_api import expect

    expect(page.get_by_test_id("problem-panel")).to_contain_text(f"Saved as revision {n}.")
    # htmx has settled the redraw (its triggers on the new forms are live).
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-settling, .htmx-swapping')"
    )


def _fill(scope, values):
    for label, value in values.items():
        field = scope.get_by_label(label, exact=True)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def _sign(page, form_id, user_id=None):
    form = page.locator(f"#{form_id}")
    if user_id is not None and form.get_by_label("User ID").count():
        form.get_by_label("User ID").fill(user_id)
    form.get_by_label("Password").fill(PASSWORD)
    form.get_by_test_id("sign-submit").click()


def test_build_review_approve_and_make_effective(page, login, personas):
    from playwright.sync_api import expect

    from galenic.recipes import selectors
    from galenic.recipes.models import VersionStatus

    engineer, reviewer, approver = personas["engineer"], personas["reviewer"], personas["approver"]
    _acknowledge(engineer, reviewer, approver)

    # -- Petra starts an empty MBR and builds it ------------------------------------------
    login(page, engineer.username, PASSWORD)
    page.get_by_role("link", name="Master batch records").first.click()
    page.get_by_role("link", name="New MBR").click()
    blank = page.get_by_test_id("new-blank")
    _fill(blank, {"Code": "MBR-MINI", "Title": "Mini oral solution", "Reason": "new product"})
    blank.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name="Builder: MBR-MINI version 1")).to_be_visible()
    expect(page.get_by_test_id("problem-count")).not_to_have_text("0")

    header = page.get_by_test_id("form-header")
    _fill(
        header,
        {
            "Batch size": "10",
            "Batch size unit": "L",
            "Theoretical yield": "10 L",
            "Yield low limit (%)": "95",
            "Yield high limit (%)": "102",
            "Special notations and precautions": "Wear gloves.",
        },
    )
    header.get_by_test_id("save-header").click()
    _revision(page, 2)

    product = page.get_by_test_id("form-product")
    _fill(
        product,
        {
            "Product name": "Minisol oral solution",
            "Strength": "1 mg/mL",
            "Dosage form": "oral solution",
            "Dosage unit": "mL",
            "Weight of one unit": "1 g",
        },
    )
    product.get_by_test_id("save-product").click()
    _revision(page, 3)

    add = page.get_by_test_id("add-component")
    _fill(
        add,
        {
            "Code": "API-M",
            "Name": "Minitol",
            "Role": "active",
            "Quantity per batch": "10 g",
            "Permitted variation": "0.5 %",
        },
    )
    add.get_by_role("button", name="Add component").click()
    _revision(page, 4)
    add = page.get_by_test_id("add-component")
    _fill(
        add,
        {
            "Code": "WAT-PW",
            "Name": "Purified water",
            "Quantity per batch": "10 kg",
            "Permitted variation": "1 %",
        },
    )
    add.get_by_role("button", name="Add component").click()
    _revision(page, 5)

    add = page.get_by_test_id("add-active")
    _fill(add, {"Component code": "API-M", "Amount per unit": "1 mg"})
    add.get_by_role("button", name="Add active ingredient").click()
    _revision(page, 6)

    add = page.get_by_test_id("add-packaging")
    _fill(add, {"Kind": "container", "Code": "BTL-100", "Description": "100 mL bottle"})
    add.get_by_role("button", name="Add packaging item").click()
    _revision(page, 7)
    add = page.get_by_test_id("add-packaging")
    _fill(add, {"Kind": "label", "Code": "LBL-MINI", "Specimen (attachment id)": "label_mini"})
    add.get_by_role("button", name="Add packaging item").click()
    _revision(page, 8)

    attach = page.get_by_test_id("attach-form")
    attach.get_by_label("Id").fill("label_mini")
    attach.get_by_label("File (PNG, JPEG, GIF, WebP, PDF)").set_input_files(
        {"name": "label.png", "mimeType": "image/png", "buffer": LABEL_PNG}
    )
    attach.get_by_role("button", name="Attach").click()
    _revision(page, 9)

    page.get_by_test_id("add-unit_procedure").get_by_role("button").click()
    _revision(page, 10)
    unit_procedure = page.get_by_test_id("form-unit_procedure")
    _fill(unit_procedure, {"Title": "Compounding", "Theoretical output": "10 L"})
    unit_procedure.get_by_test_id("save-unit_procedure").click()
    _revision(page, 11)
    page.get_by_test_id("add-operation").get_by_role("button").click()
    _revision(page, 12)

    # A step with its instructions and sampling, then a parameter with limits.
    page.get_by_test_id("add-step").get_by_role("button").click()
    _revision(page, 13)
    step = page.get_by_test_id("builder-step").first
    step_form = step.get_by_test_id("form-step")
    expect(step_form).to_be_visible()  # the new step opens for editing
    step_form.get_by_label("Title").fill("")
    # Instant validation: the problem shows beside the field before anything is saved.
    title_problems = page.locator("#p-unit_procedures-0-operations-0-steps-0-title")
    expect(title_problems).to_have_text("a step title is required (21 CFR 211.186(b)(9))")
    _fill(
        step_form,
        {
            "Title": "Dissolve Minitol",
            "Instructions": "Dissolve Minitol in water and stir.",
            "Sampling": "10 mL for assay",
            "Sample quantity": "10 mL",
        },
    )
    step_form.get_by_test_id("save-step").click()
    _revision(page, 14)

    step = page.get_by_test_id("builder-step").first
    step.get_by_test_id("add-parameter").get_by_role("button").click()
    _revision(page, 15)
    parameter = page.get_by_test_id("builder-parameter").first
    param_form = parameter.get_by_test_id("form-parameter")
    _fill(
        param_form,
        {
            "Name": "pH",
            "Unit": "pH",
            "Target": "5",
            "Action low": "5.5",
            "Action high": "4.5",
            "Decimals": "1",
        },
    )
    limit_problems = page.locator(
        "#p-unit_procedures-0-operations-0-steps-0-parameters-0-action_high"
    )
    expect(limit_problems).to_contain_text("action_high 4.5 is below")
    _fill(param_form, {"Action low": "4.5", "Action high": "5.5"})
    param_form.get_by_test_id("save-parameter").click()
    _revision(page, 16)

    # A second step, moved before the first.
    page.get_by_test_id("add-step").get_by_role("button").click()
    _revision(page, 17)
    second = page.get_by_test_id("builder-step").nth(1)
    second_form = second.get_by_test_id("form-step")
    _fill(second_form, {"Title": "Line clearance", "Instructions": "Check the room is clear."})
    second_form.get_by_test_id("save-step").click()
    _revision(page, 18)
    page.get_by_test_id("builder-step").nth(1).get_by_test_id("move-up").first.click()
    _revision(page, 19)
    expect(page.get_by_test_id("step-title")).to_have_text(["Line clearance", "Dissolve Minitol"])
    # The step that was open stays open after the redraw; its forms load again.
    expect(page.get_by_test_id("builder-step").nth(1).get_by_test_id("form-step")).to_be_visible()
    expect(page.get_by_test_id("builder-valid")).to_be_visible()

    # -- Petra signs as author and sends it for review ------------------------------------
    page.get_by_test_id("done-editing").click()
    expect(page.get_by_test_id("no-problems")).to_be_visible()
    _sign(page, "sign-submit", user_id=engineer.username)
    expect(page.get_by_test_id("version-status")).to_have_text("In review")
    page.get_by_role("button", name="Log out").click()

    # -- Quinn checks it --------------------------------------------------------------------
    login(page, reviewer.username, PASSWORD)
    page.goto("/mbrs/MBR-MINI/v1/")
    _sign(page, "sign-check", user_id=reviewer.username)
    expect(page.get_by_text("Checked; waiting for QA approval.")).to_be_visible()
    page.get_by_role("button", name="Log out").click()

    # -- Rita approves with her signature and makes it effective ---------------------------
    login(page, approver.username, PASSWORD)
    page.goto("/mbrs/MBR-MINI/v1/")
    approve = page.locator("#sign-approve")
    expect(approve.get_by_test_id("sign-meaning")).to_have_text("Approved")
    approve.get_by_label("Reason").fill("fit for use")
    _sign(page, "sign-approve", user_id=approver.username)
    expect(page.get_by_test_id("version-status")).to_have_text("Approved")
    manifestations = page.get_by_test_id("manifestation")
    expect(manifestations).to_have_count(3)
    expect(manifestations.nth(2)).to_contain_text(approver.full_name)
    expect(manifestations.nth(2)).to_contain_text("Approved")
    expect(page.get_by_test_id("signature-status")).to_have_text(["Signature valid"] * 3)

    effective = page.get_by_test_id("make-effective-form")
    effective.get_by_label("Reason").fill("operators trained")
    effective.get_by_role("button", name="Make effective").click()
    expect(page.get_by_test_id("version-status")).to_have_text("Effective")

    version = selectors.effective_version("MBR-MINI")
    assert version.status == VersionStatus.EFFECTIVE
    doc = version.document()
    keys = [s.key for s in doc.unit_procedures[0].operations[0].steps]
    assert keys == ["step_2", "step_1"]
    assert doc.step("step_1").parameters[0].action_high == 5.5
    assert [e.signature.meaning for e in selectors.signatures(version)] == [
        "authored",
        "checked",
        "approved",
    ]
