"""`galenic export verify FILE.json`: an exported record checks out against its own hashes, the
audit trail and the signatures; a changed value (in the file, or in the database after export)
is caught and named; events recorded after the export are reported as such."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from galenic.cli import app
from galenic.exports import integrity, services
from galenic.exports.verify import verify

pytestmark = pytest.mark.django_db


def exported(version: Any, actor: Any) -> dict[str, Any]:
    export = services.export_mbr(actor=actor, version=version, fmt="record")
    assert export.filename.endswith(".record.json")
    return integrity.loads(export.content.decode("utf-8"))


def test_fresh_export_verifies(mbr_version: Any, personas: dict[str, Any]) -> None:
    data = exported(mbr_version, personas["inspector"])
    result = verify(data)
    assert result.ok, result.findings
    assert result.signatures == 3  # authored, checked, approved
    assert result.audit_events >= 5


def test_changed_value_in_the_file_is_caught_offline_and_online(
    mbr_version: Any, personas: dict[str, Any]
) -> None:
    data = exported(mbr_version, personas["inspector"])
    path, parameter = next(
        (f"document.unit_procedures[{u}].operations[{o}].steps[{s}].parameters[{p}]", param)
        for u, up in enumerate(data["record"]["document"]["unit_procedures"])
        for o, op in enumerate(up["operations"])
        for s, step in enumerate(op["steps"])
        for p, param in enumerate(step.get("parameters", []))
        if "action_high" in param
    )
    original = parameter["action_high"]
    parameter["action_high"] = "999"
    offline = verify(data, against_system=False)
    assert [f.where for f in offline.findings] == ["record"]
    online = verify(data)
    assert f'{path}.action_high: file has "999", system has "{original}"' in [
        str(f) for f in online.findings
    ]


def test_edited_audit_event_and_signature_in_the_file_are_caught(
    mbr_version: Any, personas: dict[str, Any]
) -> None:
    data = exported(mbr_version, personas["inspector"])
    data["record"]["audit"][0]["reason"] = "something else"
    data["record"]["signatures"][1]["printed_name"] = "Somebody Else"
    data["record_sha256"] = integrity.record_sha256(data["record"])  # a careful forger
    findings = [str(f) for f in verify(data, against_system=False).findings]
    assert any(f.startswith("audit[0] (audit event #") and "chain hash" in f for f in findings)
    assert any(f.startswith("signatures[1] (signature ") and "binding hash" in f for f in findings)


def test_signing_after_export_is_reported(
    mbr_version: Any, personas: dict[str, Any], sign: Any
) -> None:
    data = exported(mbr_version, personas["inspector"])
    sign(personas["reviewer"], mbr_version, "reviewed", "periodic review")
    result = verify(data)
    messages = [str(f) for f in result.findings]
    assert "signatures[3]: in the system but missing from the file" in messages
    later = [f for f in result.findings if "recorded after this export" in f.message]
    assert len(later) == 1
    assert "(signatures.sign)" in later[0].message


def test_cli_verify_exit_codes(mbr_version: Any, personas: dict[str, Any], tmp_path: Path) -> None:
    export = services.export_mbr(actor=personas["inspector"], version=mbr_version, fmt="record")
    good = tmp_path / "good.json"
    good.write_bytes(export.content)
    runner = CliRunner()
    result = runner.invoke(app, ["export", "verify", str(good)])
    assert result.exit_code == 0, result.output
    assert "OK: the export matches." in result.output

    data = json.loads(export.content)
    data["record"]["version"]["change_reason"] = "rewritten"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), "utf-8")
    result = runner.invoke(app, ["export", "verify", str(bad), "--json"])
    assert result.exit_code == 2
    report = json.loads(result.output)
    assert {
        "where": "version.change_reason",
        "message": 'file has "rewritten", system has "new product"',
    } in report["findings"]

    (tmp_path / "junk.json").write_text("{}", "utf-8")
    assert runner.invoke(app, ["export", "verify", str(tmp_path / "junk.json")]).exit_code == 1
