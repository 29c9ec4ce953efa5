"""`galenic export mbr CODE VERSION` writes the file and audits it as a command-line export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from galenic.audit.models import AuditEvent
from galenic.cli import app

pytestmark = pytest.mark.django_db


def test_cli_writes_pdf_and_yaml(mbr_version: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    target = tmp_path / "mbr.pdf"
    result = runner.invoke(app, ["export", "mbr", "MBR-PCM500-TAB", "1", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_bytes().startswith(b"%PDF")
    result = runner.invoke(
        app, ["export", "mbr", "MBR-PCM500-TAB", "1", "-f", "yaml", "-o", str(tmp_path / "m.yaml")]
    )
    assert result.exit_code == 0, result.output
    assert "code: MBR-PCM500-TAB" in (tmp_path / "m.yaml").read_text("utf-8")
    events = list(AuditEvent.objects.filter(action="exports.mbr.export"))
    assert [e.source for e in events] == ["cli", "cli"]


def test_cli_unknown_version_fails_clearly(mbr_version: Any) -> None:
    result = CliRunner().invoke(app, ["export", "mbr", "MBR-PCM500-TAB", "7"])
    assert result.exit_code == 1
    assert "has no version 7" in result.output
