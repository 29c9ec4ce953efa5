"""A deleted row leaves a gap in the sequence that `verify` names."""

from __future__ import annotations


def test_tamper_deleted_row_is_named(append, verify, tamper):
    append(10)
    with tamper.guard_lifted():
        tamper.sql("DELETE FROM audit_auditevent WHERE seq = 4")
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 4
    assert "event #4 is missing" in result.problem


def test_tamper_deleted_rows_range_is_named(append, verify, tamper):
    append(10)
    with tamper.guard_lifted():
        tamper.sql("DELETE FROM audit_auditevent WHERE seq BETWEEN 3 AND 5")
    result = verify()
    assert result.first_bad_seq == 3
    assert "#3..#5 is missing" in result.problem
