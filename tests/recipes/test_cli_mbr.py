"""`galenic mbr validate | import | export | dry-run`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from galenic.cli import app
from galenic.testing.support import PASSWORD

runner = CliRunner()
TINY = Path(__file__).resolve().parent.parent / "pure" / "data" / "tiny.yaml"


def test_validate_valid_file():
    result = runner.invoke(app, ["mbr", "validate", str(TINY)])
    assert result.exit_code == 0, result.output
    assert "valid" in result.output


def test_validate_lists_every_problem_with_its_path(tmp_path, tiny_text):
    bad = tiny_text.replace("  alert_high: 28\n", "  alert_high: 35\n").replace(
        "precautions:\n- Wear gloves and safety glasses when handling the active ingredient.\n", ""
    )
    path = tmp_path / "bad.yaml"
    path.write_text(bad, encoding="utf-8")
    result = runner.invoke(app, ["mbr", "validate", str(path)])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert (
        "unit_procedures[0].operations[1].steps[0].parameters[0].action_high: "
        "action_high 30 is below alert_high 35 [limits.order]"
    ) in lines
    assert any(line.startswith("precautions: ") and "[cfr.missing]" in line for line in lines)


def test_validate_unreadable_file(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("code: A\ncode: B\n", encoding="utf-8")
    result = runner.invoke(app, ["mbr", "validate", str(path)])
    assert result.exit_code == 1
    assert "duplicate key 'code'" in result.stdout


def test_import_then_export_round_trip(personas, tiny_text, tmp_path, events):
    path = tmp_path / "tiny.yaml"
    path.write_text(tiny_text, encoding="utf-8")
    result = runner.invoke(
        app,
        ["mbr", "import", str(path), "--as", "petra", "--reason", "from the paper record"],
        env={"GALENIC_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    assert "Imported MBR-TINY version 1 as a draft" in result.output
    created = events("recipes.version.create")[-1]
    assert (created["actor"], created["reason"]) == ("petra", "from the paper record")

    exported = runner.invoke(app, ["mbr", "export", "MBR-TINY"])
    assert exported.exit_code == 0
    assert exported.stdout == tiny_text
    out = tmp_path / "out.json"
    as_json = runner.invoke(
        app, ["mbr", "export", "MBR-TINY", "--version", "1", "--format", "json", "-o", str(out)]
    )
    assert as_json.exit_code == 0
    from galenic.recipes.document import dump_json, load_yaml

    assert out.read_text(encoding="utf-8") == dump_json(load_yaml(tiny_text))


def test_import_needs_the_users_password_and_role(personas, tiny_text, tmp_path):
    from galenic.recipes.models import MasterRecord

    path = tmp_path / "tiny.yaml"
    path.write_text(tiny_text, encoding="utf-8")
    wrong = runner.invoke(
        app,
        ["mbr", "import", str(path), "--as", "petra", "--reason", "x"],
        env={"GALENIC_PASSWORD": "not-it"},
    )
    assert wrong.exit_code == 1
    assert "password" in wrong.output
    operator = runner.invoke(
        app,
        ["mbr", "import", str(path), "--as", "olivia", "--reason", "x"],
        env={"GALENIC_PASSWORD": PASSWORD},
    )
    assert operator.exit_code == 1
    assert "recipes.author" in operator.output
    assert not MasterRecord.objects.exists()


def test_export_unknown_code(db):
    result = runner.invoke(app, ["mbr", "export", "MBR-NOPE"])
    assert result.exit_code == 1
    assert "There is no MBR 'MBR-NOPE'" in result.output


def test_dry_run_file():
    result = runner.invoke(
        app,
        [
            "mbr",
            "dry-run",
            str(TINY),
            "--value",
            "dissolve.ph=6.0 pH",
            "--value",
            "fill.bottles=1000 bottle",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "dissolve.ph: action (action_high) 6.0 pH is above the action limit 5.5 pH" in result.output
    )
    assert "Result: complete" in result.output


def test_import_keeps_the_files_the_document_names(personas, tmp_path):
    """The demo paracetamol record with its files/ folder: label specimen and set-up image come along."""
    import hashlib
    import shutil

    from galenic.recipes.document import load_yaml
    from galenic.recipes.document.demos import demo_paths
    from galenic.recipes.models import MasterRecordAttachment

    source = next(p for p in demo_paths() if "paracetamol" in p.name)
    shutil.copy(source, tmp_path / source.name)
    shutil.copytree(source.parent / "files", tmp_path / "files")
    result = runner.invoke(
        app,
        ["mbr", "import", str(tmp_path / source.name), "--as", "petra", "--reason", "transfer"],
        env={"GALENIC_PASSWORD": PASSWORD},
    )
    assert result.exit_code == 0, result.output
    for attachment in load_yaml(source.read_text(encoding="utf-8")).attachments:
        stored = MasterRecordAttachment.objects.get(sha256=attachment.sha256)
        assert hashlib.sha256(bytes(stored.content)).hexdigest() == attachment.sha256
