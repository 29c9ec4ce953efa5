"""A forged row with the whole chain recomputed after it: the seal names the forged row.

Anyone can recompute a SHA-256 chain; only the holder of the key outside the database can seal.
If even the key was stolen, the signed checkpoint still catches the rewritten history.
"""

from __future__ import annotations

from galenic.audit import services
from galenic.audit.chain import seal
from galenic.audit.services import write_checkpoint


def test_tamper_forged_row_with_chain_recomputed_is_named(append, verify, tamper):
    append(20)
    with tamper.guard_lifted():
        tamper.sql("UPDATE audit_auditevent SET reason = 'routine' WHERE seq = 9")
        tamper.rechain_from(9)
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 9
    assert "event #9 is forged" in result.problem
    # Without the seals, the recomputed chain itself is consistent: the seal is what names it.
    assert not {p.kind for p in result.problems} & {"content", "link"}


def test_tamper_forged_row_with_seals_recomputed_is_caught_by_checkpoint(append, verify, tamper):
    append(10)
    write_checkpoint()  # signed head at #10
    append(5)
    key = services.audit_keys().seal_key  # the attacker also stole the sealing key
    with tamper.guard_lifted():
        tamper.sql("UPDATE audit_auditevent SET reason = 'routine' WHERE seq = 4")
        tamper.rechain_from(4)
        for seq, hash_ in tamper.sql("SELECT seq, hash FROM audit_auditevent WHERE seq >= 4"):
            tamper.sql(
                "UPDATE audit_auditevent SET seal = %s WHERE seq = %s", [seal(key, hash_), seq]
            )
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 1  # no earlier checkpoint: somewhere in #1..#10
    assert "history was rewritten between #1 and #10" in result.problem
