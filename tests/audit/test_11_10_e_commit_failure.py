"""11.10(e): when the COMMIT itself fails (here a deferred foreign key checked at commit), the
change and its audit events vanish together, and the chain stays intact for the next writer.

On PostgreSQL the events' INSERT and the COMMIT travel in one message; this proves that path
rolls back cleanly too."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction

from galenic.audit import services as audit
from galenic.audit.models import AuditEvent


@pytest.fixture
def deferred_tables(transactional_db):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE test_vessel (id INTEGER PRIMARY KEY)")
        cursor.execute(
            "CREATE TABLE test_charge (id INTEGER PRIMARY KEY, vessel_id INTEGER "
            "REFERENCES test_vessel (id) DEFERRABLE INITIALLY DEFERRED)"
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE test_charge")
        cursor.execute("DROP TABLE test_vessel")


def _charge(charge_id: int, vessel_id: int) -> None:
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO test_charge (id, vessel_id) VALUES (%s, %s)", [charge_id, vessel_id]
            )
        audit.record(
            actor=None, action="test.charge", object_type="test.charge", object_id=str(charge_id)
        )


def test_11_10_e_failed_commit_rolls_back_change_and_event(deferred_tables, verify):
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO test_vessel (id) VALUES (1)")
    _charge(1, 1)
    with pytest.raises(IntegrityError):
        _charge(2, 99)  # no vessel 99: the deferred check fails at COMMIT
    _charge(3, 1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM test_charge ORDER BY id")
        assert [r[0] for r in cursor.fetchall()] == [1, 3]
    assert list(AuditEvent.objects.values_list("seq", "object_id")) == [(1, "1"), (2, "3")]
    assert verify().ok
