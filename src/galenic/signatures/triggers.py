"""The append-only triggers on the signature tables (installed by migration 0002).

Kept here too so ``galenic signatures verify`` can check they are in place and enabled.
"""

from __future__ import annotations

from django.db import connection

TABLES = ("signatures_signature", "signatures_policyacknowledgement")
SQLITE_TRIGGERS = {
    f"{table}_no_update": (
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: UPDATE refused'); END"
    )
    for table in TABLES
}
PG_TRIGGERS = {f"{table}_no_update_delete": table for table in TABLES}


def missing_triggers() -> list[str]:
    """Names of append-only triggers that are absent or disabled (empty when all is well)."""
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            present = {row[0] for row in cur.fetchall()}
            return sorted(set(SQLITE_TRIGGERS) - present)
        if connection.vendor == "postgresql":
            cur.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D' "
                "AND tgname = ANY(%s)",
                [list(PG_TRIGGERS)],
            )
            present = {row[0] for row in cur.fetchall()}
            return sorted(set(PG_TRIGGERS) - present)
    return []
