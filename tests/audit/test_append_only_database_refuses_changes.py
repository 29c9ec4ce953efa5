"""Append-only in the database: the triggers refuse UPDATE, DELETE (and TRUNCATE on PostgreSQL)
of audit events, whatever code or person sends the SQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, transaction


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_auditevent SET reason = 'changed' WHERE seq = 1",
        "UPDATE audit_auditevent SET seal = ''",
        "DELETE FROM audit_auditevent WHERE seq = 2",
        "DELETE FROM audit_auditevent",
    ],
)
def test_append_only_database_refuses_update_and_delete(append, tamper, statement):
    append(3)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        tamper.sql(statement)
    assert len(tamper.rows()) == 3


def test_append_only_database_refuses_truncate_on_postgresql(append, tamper):
    append(2)
    if tamper.vendor != "postgresql":
        # SQLite has no TRUNCATE: "DELETE FROM t" (its truncate optimisation) fires the trigger.
        statement = "DELETE FROM audit_auditevent"
    else:
        statement = "TRUNCATE audit_auditevent"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        tamper.sql(statement)
    assert len(tamper.rows()) == 2


def test_append_only_database_still_accepts_inserts(append, tamper):
    append(2)
    append(1)
    assert [r[0] for r in tamper.rows()] == [1, 2, 3]
