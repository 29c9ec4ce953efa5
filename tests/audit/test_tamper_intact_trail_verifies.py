"""An untouched trail verifies: sequence, chain, seals, checkpoints and triggers all pass."""

from __future__ import annotations

from galenic.audit.services import write_checkpoint


def test_intact_trail_verifies_with_checkpoints(append, verify):
    append(10, per_transaction=3)
    write_checkpoint()
    append(5)
    result = verify()
    assert result.ok, result.problems
    assert result.checked == 15
    assert result.head_seq == 15
    assert result.checkpoints_checked == 1
    assert result.seals_checked


def test_empty_trail_verifies(verify):
    result = verify()
    assert result.ok
    assert result.checked == 0
