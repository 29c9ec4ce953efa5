"""Rows swapped in the sequence are named at the first moved position."""

from __future__ import annotations


def test_tamper_reordered_rows_are_named(append, verify, tamper):
    append(10)
    with tamper.guard_lifted():
        tamper.sql("UPDATE audit_auditevent SET seq = -1 WHERE seq = 3")
        tamper.sql("UPDATE audit_auditevent SET seq = 3 WHERE seq = 6")
        tamper.sql("UPDATE audit_auditevent SET seq = 6 WHERE seq = -1")
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 3
    assert "#3" in result.problem
    assert {p.seq for p in result.problems} >= {3, 6}


def test_tamper_swapped_contents_are_named(append, verify, tamper):
    append(6)
    rows = {r[0]: r for r in tamper.rows()}
    with tamper.guard_lifted():
        for target, source in ((2, 5), (5, 2)):
            tamper.sql(
                "UPDATE audit_auditevent SET object_id = %s, new_values = %s, old_values = %s "
                "WHERE seq = %s",
                [rows[source][8], rows[source][11], rows[source][10], target],
            )
    result = verify()
    assert result.first_bad_seq == 2
