"""A rollback attack, end to end with the operator's own tools: the database is put back to an
older copy (`galenic restore --force` of an earlier `galenic backup`) after more work was done
and checkpointed. `galenic audit verify` catches it against the external checkpoint file, which
restore never rewrites, and names where the history diverges."""

from __future__ import annotations

from reliability_support import DEMO_PASSWORD


def test_database_restored_from_an_older_copy_is_detected(site, tmp_path):
    number = site.rel_batches()[0]
    site.galenic_many(
        [
            ["backup", str(tmp_path / "monday")],
            # Work after the backup: values recorded and a step signed, then a checkpoint.
            ["batch", "record", number, "s1", "a=21.0 °C", "b=21.5 °C", "--user", "olivia"],
            ["batch", "record", number, "s1", "c=22.0 °C", "--user", "olivia"],
            ["batch", "complete-step", number, "s1", "--user", "olivia"],
            ["audit", "checkpoint"],
        ],
        env={"GALENIC_PASSWORD": DEMO_PASSWORD},
    )
    head = site.scalar("SELECT MAX(seq) FROM audit_auditevent")

    restored, verify = site.galenic_many(
        [["restore", str(tmp_path / "monday"), "--force"], ["audit", "verify"]], check=False
    )
    assert restored.returncode == 2, restored.stdout + restored.stderr
    assert "does not verify" in restored.stderr
    assert verify.returncode == 2
    assert "TAMPERED" in verify.stderr
    assert f"#{head}" in verify.stderr
    assert (
        "restored from an older copy" in verify.stderr or "history was rewritten" in verify.stderr
    )
    # The work done after the backup is gone from the database, and that is what was caught.
    assert site.entries_of(number) == 0
