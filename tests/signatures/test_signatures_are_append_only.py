"""Signatures and acknowledgements are never changed or deleted: no code path does it, and the
database refuses it (UPDATE on both engines, DELETE on PostgreSQL; on SQLite a deletion is
caught by verification, see test_11_70_excising_a_signature_is_detected)."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from galenic.signatures.models import PolicyAcknowledgement, Signature
from galenic.signatures.triggers import missing_triggers

MODELS = [Signature, PolicyAcknowledgement]


@pytest.mark.parametrize("model", MODELS)
def test_signature_rows_cannot_be_changed_or_deleted_in_code(model, signer):
    row = model.objects.first()
    assert row is not None
    with pytest.raises(PermissionError):
        row.save()
    with pytest.raises(PermissionError):
        row.delete()
    with pytest.raises(PermissionError):
        model.objects.filter(pk=row.pk).update(id=row.pk)
    with pytest.raises(PermissionError):
        model.objects.filter(pk=row.pk).delete()
    with pytest.raises(PermissionError):
        model.objects.bulk_update([row], ["id"])
    assert model.objects.filter(pk=row.pk).exists()


@pytest.mark.parametrize("model", MODELS)
def test_database_refuses_updating_signature_rows(model, signer):
    table = model._meta.db_table
    row = model.objects.first()
    assert row is not None
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(f"UPDATE {table} SET id = id WHERE id = %s", [row.pk])


@pytest.mark.postgres_only
@pytest.mark.parametrize("model", MODELS)
def test_database_refuses_deleting_signature_rows_on_postgresql(model, signer, db_vendor):
    assert db_vendor == "postgresql"
    table = model._meta.db_table
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cur,
    ):
        cur.execute(f"DELETE FROM {table}")
    assert model.objects.exists()


def test_append_only_triggers_are_in_place(db):
    assert missing_triggers() == []
