"""`galenic audit verify` as an operator runs it: exit 0 when intact, exit 2 naming the first bad
event. On SQLite the rollback is a real file copy of the database; on PostgreSQL the command runs
against the test database after committed raw-SQL tampering."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from galenic.audit import services as audit

WRITER = Path(__file__).with_name("concurrent_writer.py")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "galenic", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _write(env: dict[str, str], name: str, count: int, go: Path) -> None:
    go.touch()
    done = subprocess.run(
        [sys.executable, str(WRITER), name, str(count), str(go)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def _site_env(site: Path) -> dict[str, str]:
    return {
        **os.environ,
        "GALENIC_DATA_DIR": str(site),
        "GALENIC_DATABASE_URL": f"sqlite:///{site / 'galenic.sqlite3'}",
        "GALENIC_AUDIT_CHECKPOINT_EVERY": "0",
    }


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("template")
    migrated = _run(_site_env(site), "migrate")
    assert migrated.returncode == 0, migrated.stderr
    return site / "galenic.sqlite3"


@pytest.fixture
def sqlite_site(migrated_sqlite: Path, tmp_path: Path) -> tuple[dict[str, str], Path]:
    site = tmp_path / "site"
    site.mkdir()
    shutil.copy2(migrated_sqlite, site / "galenic.sqlite3")  # an empty, migrated database
    return _site_env(site), site / "galenic.sqlite3"


def test_verify_cli_sqlite_rolled_back_file_copy_is_caught(sqlite_site, tmp_path):
    env, db_file = sqlite_site
    _write(env, "first", 6, tmp_path / "go")
    assert _run(env, "audit", "checkpoint").returncode == 0
    backup = tmp_path / "backup.sqlite3"
    shutil.copy2(db_file, backup)  # the last connection closed, so the WAL is folded in
    _write(env, "second", 4, tmp_path / "go")
    assert _run(env, "audit", "checkpoint").returncode == 0
    intact = _run(env, "audit", "verify")
    assert intact.returncode == 0, intact.stderr
    assert intact.stdout.startswith("OK: 10 events verified")

    for suffix in ("-wal", "-shm"):
        Path(f"{db_file}{suffix}").unlink(missing_ok=True)
    shutil.copy2(backup, db_file)  # restore the older copy
    rolled_back = _run(env, "audit", "verify")
    assert rolled_back.returncode == 2
    assert "first bad event #7" in rolled_back.stderr
    assert "restored from an older copy" in rolled_back.stderr


def test_verify_cli_sqlite_edited_row_is_named(sqlite_site, tmp_path):
    env, db_file = sqlite_site
    _write(env, "w", 5, tmp_path / "go")
    with sqlite3.connect(db_file) as raw:
        raw.execute("DROP TRIGGER audit_event_no_update")
        raw.execute("UPDATE audit_auditevent SET new_values = '{}' WHERE seq = 3")
    result = _run(env, "audit", "verify")
    assert result.returncode == 2
    assert "first bad event #3" in result.stderr
    assert "audit_event_no_update is missing" in result.stderr
    as_json = _run(env, "audit", "verify", "--json")
    assert as_json.returncode == 2
    assert '"first_bad_seq": 3' in as_json.stdout


@pytest.mark.postgres_only
def test_verify_cli_postgresql_tampered_row_is_named(transactional_db, audit_files, append):
    conf = connection.settings_dict
    env = {
        **os.environ,
        "GALENIC_DATABASE_URL": f"postgres://{conf['USER'] or 'postgres'}@"
        f"{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}",
        "GALENIC_AUDIT_KEY_FILE": str(audit_files["key"]),
        "GALENIC_AUDIT_CHECKPOINT_DIR": str(audit_files["checkpoints"]),
    }
    append(8)
    audit.write_checkpoint()
    assert _run(env, "audit", "verify").returncode == 0
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM audit_auditevent WHERE seq >= 6")
        cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
    result = _run(env, "audit", "verify")
    assert result.returncode == 2
    assert "first bad event #6" in result.stderr
    assert "events #6..#8 are missing" in result.stderr
