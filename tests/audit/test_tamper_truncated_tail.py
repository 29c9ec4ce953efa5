"""A cut-off tail is invisible to the chain itself; the external signed checkpoint catches it."""

from __future__ import annotations

from galenic.audit.services import write_checkpoint


def test_tamper_truncated_tail_is_caught_against_checkpoint(append, verify, tamper):
    append(12)
    write_checkpoint()
    with tamper.guard_lifted():
        tamper.sql("DELETE FROM audit_auditevent WHERE seq > 9")
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 10
    assert "events #10..#12 are missing" in result.problem
    assert "cut off" in result.problem


def test_truncated_tail_without_checkpoint_is_reported_as_uncovered(append, verify, tamper):
    """Without a checkpoint nobody can tell; verify says so instead of claiming full coverage."""
    append(5)
    result = verify()
    assert result.ok
    assert any("no signed checkpoint" in note for note in result.notes)
