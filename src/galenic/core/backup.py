"""``galenic backup DEST`` and ``galenic restore SRC`` (docs/reliability.md, "Backup and restore").

A backup is a directory:

- ``database.sqlite3`` (SQLite: the online backup API, one consistent snapshot while the app
  keeps running, checked with ``PRAGMA integrity_check``) or ``database.pgdump`` (PostgreSQL:
  ``pg_dump`` custom format from an exported snapshot, checked with ``pg_restore --list``);
- ``checkpoints/``: the signed audit checkpoints and the public key as they were just before the
  snapshot (so every one of them lies within it);
- ``manifest.json``: what was backed up, where the audit trail ended (seq, hash, the hash of
  event #1), which key sealed it (fingerprint and public key), the applied migrations, and the
  SHA-256 of every file.

The private audit key is not in the backup: keep it in your key escrow. ``restore`` refuses to
run without that key, refuses a damaged backup or one of another engine, refuses to replace a
database that holds data unless ``force``, merges the checkpoints into the checkpoint directory
(never dropping one: a restore of an older copy stays detectable), records the restore in the
audit trail and verifies the result.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections

import galenic
from galenic.audit import checkpoints as cp
from galenic.audit.chain import format_ts
from galenic.core.errors import Conflict, ValidationFailed
from galenic.core.timefmt import utcnow

FORMAT = "galenic-backup/1"
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
CHECKPOINTS = "checkpoints"
AUDIT_TABLE = "audit_auditevent"


class BackupError(ValidationFailed):
    """A backup or restore that cannot be done, with the reason."""


# --- helpers --------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def _database() -> dict[str, Any]:
    return dict(connections["default"].settings_dict)


def _vendor() -> str:
    return str(connections["default"].vendor)


def pg_binary(name: str) -> str:
    """pg_dump, pg_restore or psql: GALENIC_PG_BIN, else PATH, else the newest installed."""
    configured = os.environ.get("GALENIC_PG_BIN", "")
    if configured:
        return str(Path(configured) / name)
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if candidates:
        return candidates[-1]
    raise BackupError(
        f"{name} was not found: install the PostgreSQL client tools or set GALENIC_PG_BIN.",
        field="database",
    )


def _pg_env() -> tuple[list[str], dict[str, str]]:
    """Connection arguments for the PostgreSQL tools (password in the environment only)."""
    db = _database()
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return args, env


def _run(command: list[str], env: dict[str, str] | None = None, what: str = "") -> str:
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(
            f"{what or Path(command[0]).name} failed: {(result.stderr or result.stdout).strip()[:2000]}",
            field="database",
        )
    return result.stdout


def _head(cursor: Any) -> tuple[int, str, str]:
    """(last seq, its hash, hash of event #1) of the audit trail read through ``cursor``."""
    cursor.execute(f"SELECT seq, hash FROM {AUDIT_TABLE} ORDER BY seq DESC LIMIT 1")  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        return 0, "", ""
    cursor.execute(f"SELECT hash FROM {AUDIT_TABLE} WHERE seq = 1")  # noqa: S608
    first = cursor.fetchone()
    return int(row[0]), str(row[1]), str(first[0]) if first else ""


def _migrations(cursor: Any) -> dict[str, str]:
    cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, name")
    latest: dict[str, str] = {}
    for app, name in cursor.fetchall():
        latest[str(app)] = max(latest.get(str(app), ""), str(name))
    return latest


# --- backup ---------------------------------------------------------------------------------------


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    @property
    def head_seq(self) -> int:
        return int(self.manifest["audit"]["head_seq"])


def _sqlite_snapshot(target: Path) -> dict[str, Any]:
    source = sqlite3.connect(str(_database()["NAME"]), timeout=30)
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)  # all pages in one step: one consistent snapshot
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        check = copy.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the copy fails SQLite's integrity check: {check}", field="database")
        cursor = copy.cursor()
        seq, head, chain = _head(cursor)
        migrations = _migrations(cursor)
    finally:
        copy.close()
        source.close()
    return {"head": (seq, head, chain), "migrations": migrations}


def _pg_snapshot(target: Path) -> dict[str, Any]:
    import psycopg

    db = _database()
    args, env = _pg_env()
    with psycopg.connect(
        dbname=db["NAME"],
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
    ) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot()")
            row = cursor.fetchone()
            assert row is not None
            snapshot = str(row[0])
            # The dump below sees exactly this transaction's snapshot: head and dump agree.
            seq, head, chain = _head(cursor)
            migrations = _migrations(cursor)
            _run(
                [
                    pg_binary("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    "-f",
                    str(target),
                    *args,
                ],
                env,
                "pg_dump",
            )
        conn.rollback()
    _run([pg_binary("pg_restore"), "--list", str(target)], env, "pg_restore --list")
    return {"head": (seq, head, chain), "migrations": migrations}


def backup(destination: Path) -> BackupResult:
    """Write a backup of the configured database (and audit checkpoints) into ``destination``."""
    from django.db import transaction

    from galenic.audit import services as audit
    from galenic.audit.services import write_checkpoint

    destination = destination.resolve()
    if destination.exists() and any(destination.iterdir()):
        raise BackupError(
            f"{destination} is not empty: back up into a new directory.", field="dest"
        )
    destination.mkdir(parents=True, exist_ok=True)
    vendor = _vendor()
    # The backup is itself recorded, inside the copy, and the head it reaches is signed.
    with transaction.atomic():
        audit.record(
            actor=None,
            action="system.backup",
            category="system",
            object_type="system.database",
            object_id=vendor,
            object_repr=f"backup to {destination}"[:300],
            new={"destination": str(destination), "galenic_version": galenic.__version__},
        )
    write_checkpoint(kind="backup")
    keys = audit.audit_keys()
    # Checkpoints first: every one of them then lies within the snapshot taken after.
    source_dir = Path(settings.AUDIT_CHECKPOINT_DIR)
    target_dir = destination / CHECKPOINTS
    target_dir.mkdir()
    for name in (cp.CHECKPOINT_FILE, cp.PUBLIC_KEY_FILE):
        if (source_dir / name).exists():
            shutil.copyfile(source_dir / name, target_dir / name)
    cp.write_public_key(target_dir, keys)
    file = destination / (SQLITE_FILE if vendor == "sqlite" else PG_FILE)
    taken = _sqlite_snapshot(file) if vendor == "sqlite" else _pg_snapshot(file)
    seq, head, chain = taken["head"]
    files = {
        str(path.relative_to(destination)): _sha256(path)
        for path in sorted(destination.rglob("*"))
        if path.is_file()
    }
    checkpoints = cp.read_all(target_dir).checkpoints
    manifest = {
        "format": FORMAT,
        "galenic_version": galenic.__version__,
        "created_at": format_ts(utcnow()),
        "database": {
            "vendor": vendor,
            "file": file.name,
            "source": audit.database_identity(),
        },
        "audit": {
            "head_seq": seq,
            "head_hash": head,
            "chain": chain,
            "key_fingerprint": keys.fingerprint,
            "public_key": (target_dir / cp.PUBLIC_KEY_FILE).read_text(),
            "checkpoints": len(checkpoints),
            "latest_checkpoint_seq": max((c.seq for c in checkpoints), default=0),
        },
        "migrations": taken["migrations"],
        "files": files,
    }
    (destination / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    for path in destination.rglob("*"):
        if path.is_file():
            _fsync(path)
    for directory in (target_dir, destination, destination.parent):
        cp.fsync_dir(directory)
    return BackupResult(destination, manifest)


# --- restore --------------------------------------------------------------------------------------


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    replaced: dict[str, Any] | None
    checkpoints_added: int
    notes: list[str] = field(default_factory=list)


def read_manifest(source: Path) -> dict[str, Any]:
    path = source / MANIFEST
    if not path.exists():
        raise BackupError(f"{source} is not a Galenic backup (no {MANIFEST}).", field="src")
    try:
        manifest = json.loads(path.read_text())
    except ValueError as exc:
        raise BackupError(f"{path} is damaged: {exc}", field="src") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"{path}: unknown backup format {manifest.get('format')!r}.", field="src")
    for name, expected in manifest.get("files", {}).items():
        file = source / name
        if not file.exists():
            raise BackupError(f"the backup is incomplete: {name} is missing.", field="src")
        if _sha256(file) != expected:
            raise BackupError(
                f"the backup is damaged: {name} does not match the checksum in {MANIFEST}.",
                field="src",
            )
    return dict(manifest)


def _current_contents() -> dict[str, Any] | None:
    """What the configured database holds now (None when it has no tables: nothing to lose)."""
    connection = connections["default"]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        if not tables:
            return None
        seq = 0
        if AUDIT_TABLE in tables:
            cursor.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {AUDIT_TABLE}")  # noqa: S608
            row = cursor.fetchone()
            seq = int(row[0]) if row else 0
    return {"tables": len(tables), "audit_head_seq": seq}


def _check_key(manifest: dict[str, Any]) -> None:
    key_file = Path(settings.AUDIT_SIGNING_KEY_FILE)
    wanted = manifest["audit"]["key_fingerprint"]
    if not key_file.exists():
        raise BackupError(
            f"The audit key that sealed this trail (fingerprint {wanted}) is not at {key_file}. "
            "Put it there from your key escrow first (GALENIC_AUDIT_KEY_FILE): without it the "
            "restored trail cannot be verified or continued.",
            field="key",
        )
    have = cp.load_keys(key_file, create=False).fingerprint
    if have != wanted:
        raise BackupError(
            f"The audit key at {key_file} (fingerprint {have}) is not the one that sealed this "
            f"trail (fingerprint {wanted}); put the right key there from your key escrow.",
            field="key",
        )


def _restore_sqlite(file: Path) -> None:
    target = Path(str(_database()["NAME"]))
    target.parent.mkdir(parents=True, exist_ok=True)
    connections.close_all()
    source = sqlite3.connect(f"file:{file}?mode=ro", uri=True)
    dest = sqlite3.connect(str(target), timeout=30)
    try:
        source.backup(dest)  # replaces every page under the target's write lock, atomically
        check = dest.execute("PRAGMA integrity_check").fetchone()[0]
        if check != "ok":
            raise BackupError(f"the restored database fails its integrity check: {check}")
    finally:
        dest.close()
        source.close()


def _restore_postgresql(file: Path) -> None:
    """One transaction: drop what is there, then load the dump (pg_restore's script via psql)."""
    args, env = _pg_env()
    connection = connections["default"]
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
    quote = connection.ops.quote_name
    connections.close_all()
    script = _run(
        [
            pg_binary("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "-f",
            "-",
            str(file),
        ],
        env,
        "pg_restore",
    )
    drops = "".join(f"DROP TABLE IF EXISTS {quote(t)} CASCADE;\n" for t in tables)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as fh:
        fh.write(drops + script)
        path = fh.name
    try:
        _run(
            [
                pg_binary("psql"),
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "--single-transaction",
                "-f",
                path,
                *args,
            ],
            env,
            "psql (loading the dump)",
        )
    finally:
        os.unlink(path)


def _merge_checkpoints(source: Path) -> int:
    """Append the backup's checkpoints the checkpoint file lacks; never drop one."""
    target = Path(settings.AUDIT_CHECKPOINT_DIR)
    known = {c.sig for c in cp.read_all(target).checkpoints}
    added = 0
    for checkpoint in cp.read_all(source / CHECKPOINTS).checkpoints:
        if checkpoint.sig not in known:
            cp.append(target, checkpoint)
            known.add(checkpoint.sig)
            added += 1
    public = source / CHECKPOINTS / cp.PUBLIC_KEY_FILE
    if public.exists() and not (target / cp.PUBLIC_KEY_FILE).exists():
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(public, target / cp.PUBLIC_KEY_FILE)
        cp.fsync_dir(target)
    return added


def restore(source: Path, *, force: bool = False, reason: str = "") -> RestoreResult:
    """Replace the configured database by the backup in ``source`` (see the module text)."""
    from django.db import transaction

    from galenic.audit import services as audit
    from galenic.audit.services import write_checkpoint

    source = source.resolve()
    manifest = read_manifest(source)
    vendor = _vendor()
    if manifest["database"]["vendor"] != vendor:
        raise BackupError(
            f"This is a {manifest['database']['vendor']} backup; the configured database is "
            f"{vendor}. Restore it into a {manifest['database']['vendor']} database "
            "(GALENIC_DATABASE_URL).",
            field="src",
        )
    _check_key(manifest)
    current = _current_contents()
    if current is not None and not force:
        raise Conflict(
            f"The database {audit.database_identity()} is not empty ({current['tables']} tables, "
            f"audit trail up to #{current['audit_head_seq']}); restoring would replace it. "
            "Run again with --force to replace it (the replacement is recorded in the audit trail).",
            field="force",
        )
    file = source / manifest["database"]["file"]
    if vendor == "sqlite":
        _restore_sqlite(file)
    else:
        _restore_postgresql(file)
    added = _merge_checkpoints(source)
    notes = _migrate_if_older()
    audit_info = manifest["audit"]
    with transaction.atomic():
        audit.record(
            actor=None,
            action="system.restore",
            category="system",
            object_type="system.database",
            object_id=vendor,
            object_repr=f"restore from {source}"[:300],
            old=current,
            new={
                "backup": str(source),
                "backup_created_at": manifest["created_at"],
                "backup_head_seq": audit_info["head_seq"],
                "backup_head_hash": audit_info["head_hash"],
                "galenic_version": manifest["galenic_version"],
                "replaced": current is not None,
                "migrated": bool(notes),
            },
            reason=reason or "restored from a backup",
        )
    write_checkpoint(kind="restore")
    return RestoreResult(manifest=manifest, replaced=current, checkpoints_added=added, notes=notes)


def _migrate_if_older() -> list[str]:
    """A backup of an earlier release: bring its schema to this release before anything is
    written with this release's code (the restore's own audit event included)."""
    from django.core.management import call_command
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connections["default"])
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if not plan:
        return []
    call_command("migrate", interactive=False, verbosity=0)
    return [f"the backup was made by an earlier release: {len(plan)} migrations applied"]
