"""11.10(a)/(e): a row edited with raw SQL is named by `verify`."""

from __future__ import annotations


def test_tamper_edited_row_is_named(append, verify, tamper):
    append(12)
    with tamper.guard_lifted():
        tamper.sql("UPDATE audit_auditevent SET new_values = %s WHERE seq = 7", ['{"n":700}'])
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 7
    assert "event #7 was changed" in result.problem
    # One edit is one problem: the rows after it still link to the stored hash.
    assert result.problem_count == 1


def test_tamper_edited_timestamp_is_named(append, verify, tamper):
    append(5)
    with tamper.guard_lifted():
        tamper.sql(
            "UPDATE audit_auditevent SET occurred_at = occurred_at - interval '1 hour' WHERE seq = 3"
            if tamper.vendor == "postgresql"
            else "UPDATE audit_auditevent SET occurred_at = '2020-01-01 00:00:00' WHERE seq = 3"
        )
    result = verify()
    assert result.first_bad_seq == 3
    assert "#3" in result.problem
