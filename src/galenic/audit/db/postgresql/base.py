"""Django's PostgreSQL engine with the audit trail's commit hook (see galenic.audit.db)."""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations

from galenic.audit.db import DeferredAuditAppend
from galenic.audit.db.triggers import TABLE


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        sql: list[str] = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if TABLE not in tables:
            return sql
        # Only the table's owner may do this; the application role may not (grant-app-role).
        return [
            f"ALTER TABLE {TABLE} DISABLE TRIGGER USER;",
            *sql,
            f"ALTER TABLE {TABLE} ENABLE TRIGGER USER;",
        ]


class DatabaseWrapper(DeferredAuditAppend, base.DatabaseWrapper):
    ops_class = DatabaseOperations
