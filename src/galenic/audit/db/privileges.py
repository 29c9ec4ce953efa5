"""PostgreSQL privileges for the application role (regulatory.md §5, design point 1).

The role the web and worker processes connect as must not own the audit table (an owner can
disable triggers) and may only SELECT and INSERT on it. Migrations run as the owner; the app
runs as this role. Re-run after migrations that add tables (default privileges cover tables the
same owner creates later, but re-running is harmless).
"""

from __future__ import annotations

from django.db import connections, transaction

from galenic.audit.db.triggers import TABLE
from galenic.core.errors import ValidationFailed


def grant_app_role(role: str, *, alias: str = "default") -> list[str]:
    """Grant ``role`` ordinary DML on every table and only SELECT, INSERT on the audit table.

    Returns the statements run. Refuses superusers and roles that own (or are members of the
    owner of) the audit table, for which privileges would mean nothing.
    """
    connection = connections[alias]
    if connection.vendor != "postgresql":
        raise ValidationFailed("Roles and grants exist on PostgreSQL only.", field="database")
    q = connection.ops.quote_name
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = %s", [role])
        row = cursor.fetchone()
        if row is None:
            raise ValidationFailed(f"PostgreSQL role {role!r} does not exist.", field="role")
        if row[0]:
            raise ValidationFailed(
                f"{role!r} is a superuser: it can bypass every guard; use an ordinary role.",
                field="role",
            )
        cursor.execute(
            "SELECT pg_has_role(%s, tableowner, 'MEMBER'), current_database(), current_schema() "
            "FROM pg_tables WHERE tablename = %s AND schemaname = current_schema()",
            [role, TABLE],
        )
        owner = cursor.fetchone()
        if owner is None:
            raise ValidationFailed("The audit table does not exist: run galenic migrate first.")
        if owner[0]:
            raise ValidationFailed(
                f"{role!r} owns the audit table (or is a member of its owner) and could disable "
                "its triggers; connect the application as a different role.",
                field="role",
            )
        database, schema = q(owner[1]), q(owner[2])
        who = q(role)
        statements = [
            f"GRANT CONNECT ON DATABASE {database} TO {who}",
            f"GRANT USAGE ON SCHEMA {schema} TO {who}",
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {who}",
            f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA {schema} TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {who}",
            f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} "
            f"GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {who}",
            # The audit trail: read and append, nothing else.
            f"REVOKE ALL ON {schema}.{TABLE} FROM {who}",
            f"GRANT SELECT, INSERT ON {schema}.{TABLE} TO {who}",
        ]
        for statement in statements:
            cursor.execute(statement)
    return statements
