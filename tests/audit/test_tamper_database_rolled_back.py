"""The database restored from an older copy is caught against the external checkpoint.

(On SQLite the same is done with a real file copy, through the CLI, in
test_verify_cli_sqlite_file_copy.py.)
"""

from __future__ import annotations

from galenic.audit.services import write_checkpoint


def _snapshot(tamper) -> None:
    tamper.sql("CREATE TEMP TABLE audit_snapshot AS SELECT * FROM audit_auditevent")


def _restore(tamper) -> None:
    with tamper.guard_lifted():
        tamper.sql("DELETE FROM audit_auditevent")
        tamper.sql("INSERT INTO audit_auditevent SELECT * FROM audit_snapshot")


def test_tamper_database_rolled_back_to_older_copy_is_caught(append, verify, tamper):
    append(6)
    _snapshot(tamper)  # the "backup"
    append(6)
    write_checkpoint()  # signed at #12, outside the database
    _restore(tamper)
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 7
    assert "events #7..#12 are missing" in result.problem
    assert "restored from an older copy" in result.problem


def test_tamper_rolled_back_then_written_again_is_caught(append, verify, tamper):
    """After the restore the app keeps writing: the trail grows past the checkpoint again, but
    its history no longer matches the signed one."""
    append(6)
    write_checkpoint()  # #6
    _snapshot(tamper)
    append(6)
    write_checkpoint()  # #12
    _restore(tamper)
    append(8, action="test.after_restore")  # legitimately sealed, but a different history
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 7
    assert "history was rewritten between #7 and #12" in result.problem
