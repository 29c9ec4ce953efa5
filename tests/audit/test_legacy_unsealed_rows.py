"""Events written before rows were sealed are never rewritten; migration 0002 vouches for them
with one signed "legacy-unsealed" checkpoint, and verify accepts missing seals only up to it."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

from django.db import connection

from galenic.audit import checkpoints as cp

migration = importlib.import_module("galenic.audit.migrations.0002_event_seal")


def _strip_seals(tamper) -> None:
    with tamper.guard_lifted():
        tamper.sql("UPDATE audit_auditevent SET seal = ''")


def test_legacy_rows_are_accepted_under_their_signed_checkpoint(
    append, verify, tamper, audit_files
):
    append(5)
    _strip_seals(tamper)  # as rows written before migration 0002 look
    migration.checkpoint_unsealed_rows(None, SimpleNamespace(connection=connection))
    [legacy] = cp.read_all(audit_files["checkpoints"]).checkpoints
    assert (legacy.kind, legacy.seq) == ("legacy-unsealed", 5)
    append(2)  # new events are sealed
    result = verify()
    assert result.ok, result.problems


def test_unsealed_rows_beyond_the_legacy_checkpoint_are_forged(append, verify, tamper):
    append(3)
    _strip_seals(tamper)
    migration.checkpoint_unsealed_rows(None, SimpleNamespace(connection=connection))
    append(2)
    with tamper.guard_lifted():
        tamper.sql("UPDATE audit_auditevent SET seal = '' WHERE seq = 5")
    result = verify()
    assert result.first_bad_seq == 5
    assert "has no seal" in result.problem


def test_unsealed_rows_without_a_legacy_checkpoint_are_forged(append, verify, tamper):
    append(3)
    _strip_seals(tamper)
    result = verify()
    assert result.first_bad_seq == 1
