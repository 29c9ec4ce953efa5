"""Django's PostgreSQL engine with the audit trail's commit hook (see galenic.audit.db), and a
cursor whose first statement of a transaction carries the transaction's BEGIN."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.backends.postgresql import base, operations
from psycopg import pq

from galenic.audit.db import DeferredAuditAppend
from galenic.audit.db.triggers import TABLE

_IDLE = pq.TransactionStatus.IDLE

if TYPE_CHECKING:
    from typing import TypeAlias

    from psycopg import ClientCursor

    _DjangoCursor: TypeAlias = ClientCursor[Any]
else:
    _DjangoCursor = base.Cursor  # psycopg's ClientCursor with Django's callproc


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


class Cursor(_DjangoCursor):
    """Django's cursor (client-side binding), but the first statement of a transaction carries
    its BEGIN. psycopg would send BEGIN alone and wait for the answer: a round trip, about a
    tenth of a one-event transaction here. The simple query protocol runs both statements in
    order and the cursor then moves to the statement's own result, so the caller sees what it
    would have seen. Anything unusual (a composed query, a pipeline, an isolation level or
    read-only mode set on the connection, a prepared statement) takes psycopg's own path."""

    def execute(
        self,
        query: Any,
        params: Any = None,
        *,
        prepare: bool | None = None,
        binary: bool | None = None,
    ) -> Any:
        conn = self.connection
        if (
            not isinstance(query, str)
            or conn.autocommit
            or conn.info.transaction_status != _IDLE
            or conn._pipeline is not None
            or conn.isolation_level is not None
            or conn.read_only is not None
            or prepare
        ):
            return super().execute(query, params, prepare=prepare, binary=binary)
        # psycopg (3.2, 3.3) sends BEGIN first unless the connection is in autocommit: for this
        # one call it is, as far as psycopg's own check sees. tests/audit/test_begin_rides_postgres.py.
        conn._autocommit = True
        try:
            super().execute("BEGIN; " + query, params, binary=binary)
        finally:
            conn._autocommit = False
        self.nextset()
        return self


class DatabaseWrapper(DeferredAuditAppend, base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params: dict[str, Any] = super().get_connection_params()
        if params.get("cursor_factory") is base.Cursor:  # not with server_side_binding
            params["cursor_factory"] = Cursor
        return params
