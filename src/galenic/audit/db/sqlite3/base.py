"""Django's SQLite engine with the audit trail's commit hook (see galenic.audit.db)."""

from __future__ import annotations

from typing import Any

from django.db.backends.sqlite3 import base, operations

from galenic.audit.db import DeferredAuditAppend
from galenic.audit.db.triggers import SQLITE_TRIGGERS, TABLE


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        sql: list[str] = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if TABLE not in tables:
            return sql
        # SQLite cannot disable a trigger: drop ours for the flush and create them again.
        drop = [f"DROP TRIGGER IF EXISTS {name};" for name in SQLITE_TRIGGERS]
        create = [f"{statement};" for statement in SQLITE_TRIGGERS.values()]
        return drop + sql + create


class DatabaseWrapper(DeferredAuditAppend, base.DatabaseWrapper):
    ops_class = DatabaseOperations
