"""An inserted row is named, even when its hash was computed with the public algorithm."""

from __future__ import annotations

from galenic.audit.chain import SEP, hash_payload


def _forged_row(tamper, seq: int, prev: str, occurred_at: str) -> list[object]:
    fields = [
        str(seq),
        occurred_at,
        "",
        "mallory",
        "Mallory",
        "gmp",
        "accounts.user.create",
        "accounts.user",
        "99",
        "Mallory",
        "",
        '{"roles":["admin"]}',
        "",
        "f" * 32,
        "web",
    ]
    return [seq, prev, hash_payload(prev, SEP.join(fields)), fields]


def _insert(tamper, seq: int, prev: str, fields: list[str], hash_: str) -> None:
    ts = fields[1].replace("T", " ").rstrip("Z")
    tamper.sql(
        "INSERT INTO audit_auditevent (seq, occurred_at, actor_id, actor_username, actor_name, "
        "category, action, object_type, object_id, object_repr, old_values, new_values, reason, "
        "request_id, source, prev_hash, hash, seal) VALUES "
        "(%s, %s, NULL, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, '')",
        [seq, ts + ("+00" if tamper.vendor == "postgresql" else ""), *fields[3:], prev, hash_],
    )


def test_tamper_inserted_row_in_the_middle_is_named(append, verify, tamper):
    append(8)
    prev = tamper.sql("SELECT hash FROM audit_auditevent WHERE seq = 4")[0][0]
    with tamper.guard_lifted():
        # Make room at #5 (two steps, so the primary key never collides), then insert there.
        tamper.sql("UPDATE audit_auditevent SET seq = -(seq + 1) WHERE seq >= 5")
        tamper.sql("UPDATE audit_auditevent SET seq = -seq WHERE seq < 0")
        seq, prev, hash_, fields = _forged_row(tamper, 5, prev, "2026-01-01T00:00:00.000000Z")
        _insert(tamper, seq, prev, fields, hash_)
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 5
    assert "event #5 is forged" in result.problem


def test_tamper_inserted_row_at_the_end_is_named(append, verify, tamper):
    append(6)
    prev = tamper.sql("SELECT hash FROM audit_auditevent WHERE seq = 6")[0][0]
    seq, prev, hash_, fields = _forged_row(tamper, 7, prev, "2026-01-01T00:00:00.000000Z")
    # INSERT is allowed (appending is what the trail is for); the seal gives it away.
    _insert(tamper, seq, prev, fields, hash_)
    result = verify()
    assert result.first_bad_seq == 7
    assert "event #7 is forged" in result.problem
