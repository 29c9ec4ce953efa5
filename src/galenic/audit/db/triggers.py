"""The append-only triggers on the audit table, per engine (installed by migration 0003).

Kept here too so ``flush`` can restore them and ``audit verify`` can check they are in place.
"""

from __future__ import annotations

TABLE = "audit_auditevent"

SQLITE_TRIGGERS = {
    "audit_event_no_update": (
        f"CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON {TABLE} "
        "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: UPDATE refused'); END"
    ),
    "audit_event_no_delete": (
        f"CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON {TABLE} "
        "BEGIN SELECT RAISE(ABORT, 'audit trail is append-only: DELETE refused'); END"
    ),
}

PG_FUNCTION = "audit_refuse_change"
PG_TRIGGERS = ("audit_event_no_update_delete", "audit_event_no_truncate")
