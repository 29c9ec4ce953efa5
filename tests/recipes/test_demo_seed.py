"""The demo seeder makes both demo MBRs effective through the real signed lifecycle, and running
it again changes nothing."""

from __future__ import annotations


def test_demo_mbrs_are_effective_and_signed(db):
    from galenic.accounts import demo as accounts_demo
    from galenic.audit.models import AuditEvent
    from galenic.core.context import action_context
    from galenic.recipes import demo, selectors

    with action_context("system"):
        list(accounts_demo.seed())
        first = list(demo.seed())
    assert first[-1].startswith("MBRs: 2 made effective")
    for code in ("MBR-PCM500-TAB", "MBR-DXM15-SYR"):
        version = selectors.effective_version(code)
        assert selectors.problems(version) == []
        entries = selectors.signatures(version)
        assert [(e.signature.meaning, e.signature.signer_user_id) for e in entries] == [
            ("authored", "petra"),
            ("checked", "quinn"),
            ("approved", "rita"),
        ]
        assert all(e.ok for e in entries)
    assert (
        sum(1 for _ in selectors.effective_version("MBR-PCM500-TAB").document().walk_steps()) >= 40
    )

    # Every label specimen and image the demo documents name is there, byte for byte.
    import hashlib

    from galenic.recipes.models import MasterRecordAttachment

    for code in ("MBR-PCM500-TAB", "MBR-DXM15-SYR"):
        for attachment in selectors.effective_version(code).document().attachments:
            stored = MasterRecordAttachment.objects.get(sha256=attachment.sha256)
            assert hashlib.sha256(bytes(stored.content)).hexdigest() == attachment.sha256

    events = AuditEvent.objects.count()
    with action_context("system"):
        again = list(demo.seed())
    assert again == ["MBRs: 0 made effective (none), 2 already effective"]
    assert AuditEvent.objects.count() == events
