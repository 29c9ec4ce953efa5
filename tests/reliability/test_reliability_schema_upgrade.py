"""Schema upgrades: a database made by each earlier release (tests/reliability/fixtures/
release-*/, one `galenic backup` per engine, made with make_release_fixture.py) is restored and
migrated by the current code, and then every record hash and signature still verifies: the
audit chain, its seals and checkpoints (`galenic audit verify`), every electronic signature
against its record (`galenic signatures verify`), and the content hash of every master record
version and of every batch's frozen document. How to add a release: docs/reliability.md."""

from __future__ import annotations

import gzip
import json
import shutil
from pathlib import Path

import pytest
from reliability_support import HERE, Site

FIXTURES = HERE / "fixtures"
RELEASES = sorted(p.name for p in FIXTURES.glob("release-*") if p.is_dir())


def _unpacked(release: Path, vendor: str, into: Path) -> Path:
    """The release's backup as `galenic backup` wrote it (its database file un-gzipped)."""
    shutil.copytree(release / vendor, into)
    for packed in into.glob("database.*.gz"):
        with gzip.open(packed, "rb") as src, open(packed.with_suffix(""), "wb") as dst:
            shutil.copyfileobj(src, dst)
        packed.unlink()
    return into


def test_release_fixtures_are_kept():
    assert RELEASES, "no release fixture: run tests/reliability/fixtures/make_release_fixture.py"


@pytest.mark.parametrize("release", RELEASES)
def test_release_database_migrates_and_still_verifies(release, site_template, tmp_path):
    vendor = site_template.site.vendor
    fixture = FIXTURES / release
    backup = _unpacked(fixture, vendor, tmp_path / "backup")
    manifest = json.loads((backup / "manifest.json").read_text())
    data = tmp_path / "site"
    (data / "keys").mkdir(parents=True)
    shutil.copy(fixture / "keys" / "audit-ed25519.pem", data / "keys")
    if site_template.pg is None:
        site = Site(data, f"sqlite:///{data / 'galenic.sqlite3'}")
    else:
        name = f"{site_template.name}_{release.replace('.', '_').replace('-', '_')}"
        site_template.pg.drop_database(name)
        site_template.pg.execute(f'CREATE DATABASE "{name}"')
        site = Site(data, site_template.pg.url(name), pg=site_template.pg, pg_name=name)
    try:
        restored, migrated, audit, signatures = site.galenic_many(
            [["restore", str(backup)], ["migrate"], ["audit", "verify"], ["signatures", "verify"]],
            check=False,
        )
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert migrated.returncode == 0, migrated.stderr
        assert audit.returncode == 0, audit.stdout + audit.stderr
        # Every event of the release is there (and the restore's own), under its checkpoints.
        assert f"#1..#{manifest['audit']['head_seq'] + 1})" in audit.stdout
        assert signatures.returncode == 0, signatures.stderr
        assert "OK:" in signatures.stdout
        records = json.loads(site.python(HERE / "rel_check_records.py").strip().splitlines()[-1])
        assert records["bad"] == []
        assert records["versions"] >= 3
        assert records["batches"] >= 3
        released = site.scalar(
            "SELECT COUNT(*) FROM signatures_signature WHERE meaning = ?", ("released",)
        )
        assert released == 1
    finally:
        site.drop()
