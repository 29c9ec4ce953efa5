"""`galenic backup DEST` / `galenic restore SRC` on this pass's engine (SQLite: the online
backup API; PostgreSQL: pg_dump/pg_restore custom format). The restored copy passes
`galenic audit verify` and `galenic signatures verify`; a restore is recorded in the audit
trail; it refuses to replace a database that holds data without --force, a damaged backup, and
a site without the audit key that sealed the trail."""

from __future__ import annotations

import json
import shutil

from reliability_support import Site


def _empty_site_beside(site: Site, root, *, with_key: bool = True) -> Site:
    """A new installation: its own data directory (the audit key copied from escrow) and an
    empty database of the same engine."""
    root.mkdir()
    if with_key:
        (root / "keys").mkdir()
        shutil.copy(site.data_dir / "keys" / "audit-ed25519.pem", root / "keys")
    if site.pg is None:
        return Site(root, f"sqlite:///{root / 'galenic.sqlite3'}")
    name = f"{site.pg_name}_restored"
    site.pg.drop_database(name)
    site.pg.execute(f'CREATE DATABASE "{name}"')
    return Site(root, site.pg.url(name), pg=site.pg, pg_name=name)


def _counts(site: Site) -> dict[str, int]:
    return {
        table: site.scalar(f"SELECT COUNT(*) FROM {table}")
        for table in (
            "execution_batch",
            "execution_stepexecution",
            "signatures_signature",
            "recipes_masterrecordversion",
            "audit_auditevent",
        )
    }


def test_backup_restored_elsewhere_verifies(site, tmp_path):
    made = site.galenic("backup", str(tmp_path / "backup"))
    assert "Backup written" in made.stdout
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert manifest["database"]["vendor"] == site.vendor
    assert manifest["audit"]["checkpoints"] >= 1
    assert "BEGIN PUBLIC KEY" in manifest["audit"]["public_key"]
    before = _counts(site)
    other = _empty_site_beside(site, tmp_path / "elsewhere")
    try:
        restored = other.galenic("restore", str(tmp_path / "backup"), "--reason", "DR drill")
        assert "OK:" in restored.stdout
        other.assert_verifies()
        after = _counts(other)
        assert after.pop("audit_auditevent") == before.pop("audit_auditevent") + 1
        assert after == before
        action, reason = other.query(
            "SELECT action, reason FROM audit_auditevent ORDER BY seq DESC LIMIT 1"
        )[0]
        assert (action, reason) == ("system.restore", "DR drill")
        # The checkpoints came along (merged into the new site's checkpoint file).
        assert (other.checkpoint_dir / "checkpoints.jsonl").exists()
        assert (other.checkpoint_dir / "audit-ed25519.pub").exists()
    finally:
        other.drop()


def test_restore_refuses_to_replace_data_without_force(site, tmp_path):
    head = site.scalar("SELECT MAX(seq) FROM audit_auditevent") + 1  # + the backup's own event
    backup = str(tmp_path / "backup")
    _made, refused, forced, audit, signatures = site.galenic_many(
        [
            ["backup", backup],
            ["restore", backup],
            ["restore", backup, "--force"],
            ["audit", "verify"],
            ["signatures", "verify"],
        ],
        check=False,
    )
    assert refused.returncode == 1
    assert "not empty" in refused.stderr
    assert "--force" in refused.stderr
    assert forced.returncode == 0, forced.stderr
    assert "replacing a database" in forced.stdout
    [(old,)] = site.query(
        "SELECT old_values FROM audit_auditevent WHERE action = ?", ("system.restore",)
    )
    assert json.loads(old)["audit_head_seq"] == head
    assert audit.returncode == 0, audit.stderr
    assert signatures.returncode == 0, signatures.stderr


def test_restore_refuses_a_damaged_backup_or_a_site_without_the_audit_key(site, tmp_path):
    backup = tmp_path / "backup"
    site.galenic("backup", str(backup))
    damaged_db, damaged_manifest = tmp_path / "damaged-db", tmp_path / "damaged-manifest"
    shutil.copytree(backup, damaged_db)
    shutil.copytree(backup, damaged_manifest)
    [file] = [p for p in damaged_db.iterdir() if p.name.startswith("database.")]
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    (damaged_manifest / "manifest.json").write_text("{not json")
    other = _empty_site_beside(site, tmp_path / "elsewhere", with_key=False)
    try:
        answers = other.galenic_many(
            [
                ["restore", str(damaged_db)],
                ["restore", str(damaged_manifest)],
                ["restore", str(backup)],
            ],
            check=False,
        )
        for answer in answers:
            assert answer.returncode == 1, answer.stdout
        assert "does not match the checksum" in answers[0].stderr
        assert "damaged" in answers[1].stderr
        assert "key escrow" in answers[2].stderr
    finally:
        other.drop()
