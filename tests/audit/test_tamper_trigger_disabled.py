"""An edit made while the append-only trigger was disabled (and enabled again) is named."""

from __future__ import annotations


def test_tamper_edit_while_trigger_disabled_is_named(append, verify, tamper):
    append(8)
    with tamper.guard_lifted(how="disable"):
        tamper.sql("UPDATE audit_auditevent SET actor_username = 'someone_else' WHERE seq = 2")
    result = verify()
    assert not result.ok
    assert result.first_bad_seq == 2
    assert "event #2 was changed" in result.problem
    assert not [p for p in result.problems if p.kind == "guard"]  # triggers are back


def test_disabled_or_missing_trigger_is_reported(append, verify, tamper):
    append(3)
    if tamper.vendor == "postgresql":
        tamper.sql("ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_no_update_delete")
        expected = "audit_event_no_update_delete is disabled"
    else:
        tamper.sql("DROP TRIGGER audit_event_no_delete")
        expected = "audit_event_no_delete is missing"
    result = verify()
    assert not result.ok
    assert any(expected in p.message for p in result.problems)
