"""21 CFR 11.10(e): every change writes exactly one audit event in the same transaction, with
who, what, old and new values, reason, server time in UTC and the request id."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.db import transaction

from galenic.accounts import services as accounts
from galenic.accounts.models import User
from galenic.audit import services as audit
from galenic.audit.models import AuditEvent
from galenic.core.context import action_context
from galenic.core.timefmt import utcnow


def test_11_10_e_every_change_writes_one_audit_event_in_same_transaction(personas):
    admin = personas["admin"]
    before = AuditEvent.objects.count()
    with action_context("web", request_id="r" * 32):
        start = utcnow()
        user = accounts.create_user(
            actor=admin,
            username="nina",
            full_name="Nina New",
            password="Long-enough-pw-1",
            roles=["operator"],
        )
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.get(object_type="accounts.user", object_id=str(user.pk))
    assert event.action == "accounts.user.create"
    assert event.actor_id == admin.pk
    assert event.actor_username == admin.username
    assert event.actor_name == admin.full_name
    assert "nina" in event.new_values
    assert event.request_id == "r" * 32
    assert event.source == "web"
    # Server time, stored in UTC.
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert start <= event.occurred_at.astimezone(UTC) <= utcnow()


def test_11_10_e_audit_event_and_its_change_roll_back_together(personas):
    before_events = AuditEvent.objects.count()

    class Boom(Exception):
        pass

    def create_then_fail() -> None:
        with transaction.atomic():
            accounts.create_user(
                actor=personas["admin"],
                username="ghost",
                full_name="Ghost",
                password="Long-enough-pw-1",
                roles=[],
            )
            raise Boom  # a later step of the same action fails

    with pytest.raises(Boom):
        create_then_fail()
    assert not User.objects.filter(username="ghost").exists()
    assert AuditEvent.objects.count() == before_events


def test_11_10_e_record_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(audit.AuditError, match="inside the transaction"):
        audit.record(actor=None, action="test.outside")


def test_11_10_e_old_and_new_values_stay_readable(append):
    events = append(1)
    stored = AuditEvent.objects.get(seq=events[0].seq)
    assert stored.old_values == '{"n":0}'
    assert stored.new_values == '{"n":1,"note":"ünïcode ✓"}'
    assert stored.reason == "reason 1"


def test_annex_11_9_change_needing_a_reason_is_refused_without_one(db):
    from galenic.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught, transaction.atomic():
        audit.record(actor=None, action="test.correct", reason="  ", reason_required=True)
    assert caught.value.field == "reason"
    assert AuditEvent.objects.count() == 0
