"""The checkpoint file itself is signed: editing it is reported."""

from __future__ import annotations

import json

from galenic.audit.services import write_checkpoint


def test_altered_checkpoint_line_is_reported(append, verify, audit_files):
    append(4)
    write_checkpoint()
    path = audit_files["checkpoints"] / "checkpoints.jsonl"
    data = json.loads(path.read_text())
    data["seq"] = 2  # pretend the trail was shorter
    path.write_text(json.dumps(data) + "\n")
    result = verify()
    assert not result.ok
    assert "bad signature" in result.problem


def test_checkpoint_of_another_trail_is_reported(append, verify, audit_files):
    append(3)
    write_checkpoint()
    from galenic.audit import checkpoints as cp
    from galenic.audit.services import audit_keys

    keys = audit_keys()
    other = cp.sign(
        cp.Checkpoint(
            seq=2,
            head="a" * 64,
            chain="b" * 64,
            database="elsewhere",
            at="2026-01-01T00:00:00.000000Z",
            key=keys.fingerprint,
        ),
        keys,
    )
    cp.append(audit_files["checkpoints"], other)
    result = verify()
    assert not result.ok
    assert any("another audit trail" in p.message for p in result.problems)
