"""Database engines for Galenic: Django's own, plus the audit trail's commit hook.

``settings.DATABASES`` names ``galenic.audit.db.sqlite3`` or ``galenic.audit.db.postgresql``.
They behave exactly like Django's engines, with two additions:

- just before a transaction commits, the audit events it recorded are appended to the chain
  under one lock acquisition (``audit.services.flush_pending``), so the chain-head lock is held
  for the INSERT and the COMMIT only, not for the whole business transaction;
- ``flush`` (used by the test runner and ``manage flush``, i.e. the database owner emptying
  every table) lifts the append-only triggers for its own statement and restores them. The
  application role cannot: it neither owns the table nor may TRUNCATE it.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper


class DeferredAuditAppend(BaseDatabaseWrapper):
    """Mixin: append collected audit events at the commit of the logical transaction."""

    galenic_deferred_audit = True
    galenic_appended = False  # events appended in the open transaction (immediate appends)

    def commit(self) -> None:
        from django.db import DatabaseError, InterfaceError, OperationalError

        from galenic.audit.services import flush_pending, pending_events
        from galenic.core.faults import mark_commit_in_doubt, note_committed

        work = self.galenic_appended or bool(pending_events(self))
        try:
            flush_pending(self, commit=True)
            super().commit()  # after an append that committed, psycopg finds nothing to commit
        except DatabaseError as exc:
            # A server that went away may have committed before it did: say so, not "not saved".
            if self.vendor == "postgresql" and isinstance(exc, (OperationalError, InterfaceError)):
                mark_commit_in_doubt(exc)
            raise
        finally:
            self.galenic_appended = False
        if work:
            note_committed()  # a later fault of this request must not claim nothing was saved

    def rollback(self) -> None:
        self.galenic_appended = False
        super().rollback()

    def savepoint_commit(self, sid: Any) -> None:
        # Inside a test case every "transaction" is a savepoint of the case's own atomic block;
        # releasing the outermost one is where production code would commit.
        if all(getattr(block, "_from_testcase", False) for block in self.atomic_blocks):
            from galenic.audit.services import flush_pending

            flush_pending(self)
        super().savepoint_commit(sid)
