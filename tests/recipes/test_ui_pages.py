"""The MBR pages render for the demo-sized record: list, version (211.186 header, procedure,
signatures), builder (fields and problems), diff, dry run, export."""

from __future__ import annotations

from pathlib import Path

DEMO = Path(__file__).resolve().parents[2] / "src" / "galenic" / "recipes" / "demo"


def _import(personas, name="paracetamol-500-tablets.yaml"):
    from galenic.core.context import action_context
    from galenic.recipes import services

    with action_context("test"):
        return services.import_text(
            actor=personas["engineer"],
            text=(DEMO / name).read_text(encoding="utf-8"),
            reason="demo",
        )


def test_list_and_version_page(logged_in, signers):
    personas = signers
    version = _import(personas)
    client = logged_in(personas["engineer"])
    listing = client.get("/mbrs/")
    assert listing.status_code == 200
    assert version.master.code in listing.content.decode()
    page = client.get(f"/mbrs/{version.master.code}/v1/")
    assert page.status_code == 200
    html = page.content.decode()
    doc = version.document()
    assert doc.product.name in html
    assert "211.186(b)(3)" in html
    assert html.count('data-testid="step"') == sum(1 for _ in doc.walk_steps())
    assert 'data-testid="sign-form"' in html  # valid draft: the author may sign and send it
    assert "Sign as author and send for review" in html


def test_builder_page_shows_fields_and_no_problems(logged_in, personas):
    version = _import(personas)
    client = logged_in(personas["engineer"])
    page = client.get(f"/mbrs/{version.master.code}/v1/builder/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="builder-valid"' in html
    assert 'id="p-title"' in html  # the header form
    # A step's forms load when it is opened: the page stays light for a 46-step record.
    assert 'id="p-unit_procedures-0-operations-0-steps-0-title"' not in html
    assert len(html) < 400_000
    step = client.get(
        f"/mbrs/{version.master.code}/v1/builder/item/",
        {"path": "unit_procedures[0].operations[0].steps[0]"},
    ).content.decode()
    assert 'id="p-unit_procedures-0-operations-0-steps-0-title"' in step
    assert 'name="instructions"' in step
    assert 'data-testid="builder-parameter"' in step


def test_operator_cannot_open_the_builder(logged_in, personas):
    version = _import(personas)
    page = logged_in(personas["operator"]).get(f"/mbrs/{version.master.code}/v1/builder/")
    assert page.status_code == 403


def test_diff_and_dry_run_pages(ui, mbr, personas):
    from galenic.core.context import action_context
    from galenic.recipes import services
    from galenic.recipes.editing import EditOp

    v1 = mbr.to_effective()
    with action_context("test"):
        v2 = services.new_version(actor=personas["engineer"], version=v1, reason="pH")
        services.edit_document(
            actor=personas["engineer"],
            version=v2,
            ops=[
                EditOp(
                    "set",
                    "unit_procedures[0].operations[3].steps[0].parameters[0]",
                    values={"action_high": "5.4"},
                )
            ],
            expected_row_version=None,
        )
    client = ui(personas["approver"])
    page = client.get("/mbrs/MBR-TINY/diff/?from=1&to=2")
    assert page.status_code == 200
    assert "dissolve.ph action_high: 5.5 → 5.4" in page.content.decode()
    run = client.post(
        "/mbrs/MBR-TINY/v2/dry-run/",
        {"batch_size": "100 L", "values": "dissolve.ph = 5.45 pH"},
    )
    html = run.content.decode()
    assert run.status_code == 200
    assert 'data-testid="dry-run-report"' in html
    assert "action_high" in html
    exported = client.get("/mbrs/MBR-TINY/v2/export.yaml")
    assert exported.status_code == 200
    assert exported.content.decode().startswith("format: galenic.mbr/1\ncode: MBR-TINY\n")
    assert client.get("/mbrs/MBR-TINY/v2/export.exe").status_code == 404
