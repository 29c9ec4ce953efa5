"""Signed checkpoints outside the database: Ed25519 key created 0600 on first use; written after
commit every AUDIT_CHECKPOINT_EVERY events and on demand; never for rolled-back events."""

from __future__ import annotations

import stat

import pytest
from django.db import transaction

from galenic.audit import checkpoints as cp
from galenic.audit import services as audit


def test_signing_key_is_created_on_first_use_with_mode_0600(append, audit_files):
    assert not audit_files["key"].exists()
    append(1)
    mode = stat.S_IMODE(audit_files["key"].stat().st_mode)
    assert mode == 0o600
    assert stat.S_IMODE(audit_files["key"].parent.stat().st_mode) == 0o700


def test_manual_checkpoint_is_signed_and_names_the_trail(append, audit_files):
    events = append(3)
    written = audit.write_checkpoint()
    assert written is not None
    stored = cp.read_all(audit_files["checkpoints"]).checkpoints
    assert [(c.seq, c.head, c.kind) for c in stored] == [(3, events[-1].hash, "manual")]
    assert stored[0].chain == events[0].hash  # the trail's identity: hash of event #1
    assert stored[0].database
    public = cp.load_public_key(audit_files["checkpoints"])
    assert public is not None
    assert cp.signature_valid(stored[0], public)


def test_checkpoints_are_written_every_n_events_after_commit(
    append, audit_files, settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 5
    with django_capture_on_commit_callbacks(execute=True):
        append(12, per_transaction=2)
    seqs = [c.seq for c in cp.read_all(audit_files["checkpoints"]).checkpoints]
    assert seqs == [6, 10]  # the transactions that crossed #5 and #10 (events 5-6, 9-10)


def test_no_checkpoint_before_commit_nor_for_rolled_back_events(
    db, audit_files, settings, django_capture_on_commit_callbacks
):
    settings.AUDIT_CHECKPOINT_EVERY = 1

    def append_then_fail() -> None:
        with transaction.atomic():
            audit.record(actor=None, action="test.rolled_back", immediate=True)
            assert not (audit_files["checkpoints"] / cp.CHECKPOINT_FILE).exists()
            raise RuntimeError

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        append_then_fail()
    assert cp.read_all(audit_files["checkpoints"]).checkpoints == []


def test_checkpoint_of_an_empty_trail_is_not_written(db, audit_files):
    assert audit.write_checkpoint() is None
    assert not (audit_files["checkpoints"] / cp.CHECKPOINT_FILE).exists()
