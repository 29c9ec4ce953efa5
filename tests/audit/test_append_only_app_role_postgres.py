"""On PostgreSQL the application role may read and append audit events, never change them:
`galenic audit grant-app-role ROLE` grants it SELECT, INSERT only on the audit table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from galenic.audit import services as audit
from galenic.audit.db.privileges import grant_app_role
from galenic.audit.models import AuditEvent
from galenic.core.errors import ValidationFailed

ROLE = f"galenic_app_test_{os.getpid()}"


@pytest.fixture
def app_role(transactional_db):
    assert connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{ROLE}" LOGIN NOSUPERUSER')
    try:
        yield ROLE
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP OWNED BY "{ROLE}"')
            cursor.execute(f'DROP ROLE "{ROLE}"')


def _connect(role: str) -> psycopg.Connection:
    conf = connection.settings_dict
    return psycopg.connect(
        dbname=conf["NAME"],
        user=role,
        host=conf["HOST"] or "127.0.0.1",
        port=conf["PORT"] or 5432,
        autocommit=True,
    )


@pytest.mark.postgres_only
def test_append_only_app_role_cannot_update_delete_or_truncate(app_role, append):
    append(3)
    grant_app_role(app_role)
    with _connect(app_role) as conn:
        assert conn.execute("SELECT count(*) FROM audit_auditevent").fetchone() == (3,)
        for statement in (
            "UPDATE audit_auditevent SET reason = 'x' WHERE seq = 1",
            "DELETE FROM audit_auditevent WHERE seq = 1",
            "TRUNCATE audit_auditevent",
            "ALTER TABLE audit_auditevent DISABLE TRIGGER USER",
            "DROP TABLE audit_auditevent",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        # session_replication_role (the superuser's way past triggers) is not for this role.
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SET session_replication_role = replica")
        # Ordinary DML elsewhere still works (in a transaction we roll back).
        with conn.transaction(force_rollback=True):
            conn.execute("UPDATE accounts_user SET full_name = full_name")
    assert AuditEvent.objects.count() == 3


@pytest.mark.postgres_only
def test_append_only_app_role_can_append_through_the_service(app_role, audit_files):
    grant_app_role(app_role)
    audit.audit_keys()
    conf = connection.settings_dict
    env = {
        **os.environ,
        "GALENIC_DATABASE_URL": f"postgres://{app_role}@{conf['HOST'] or '127.0.0.1'}:"
        f"{conf['PORT'] or 5432}/{conf['NAME']}",
        "GALENIC_AUDIT_KEY_FILE": str(audit_files["key"]),
        "GALENIC_AUDIT_CHECKPOINT_DIR": str(audit_files["checkpoints"]),
    }
    writer = Path(__file__).with_name("concurrent_writer.py")
    go = audit_files["key"].parent / "go"
    go.touch()
    done = subprocess.run(
        [sys.executable, str(writer), "app", "5", str(go)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert AuditEvent.objects.count() == 5


@pytest.mark.postgres_only
def test_grant_app_role_refuses_a_superuser(transactional_db):
    with pytest.raises(ValidationFailed, match="superuser"):
        grant_app_role("postgres")
