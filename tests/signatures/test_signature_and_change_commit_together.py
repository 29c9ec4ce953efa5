"""21 CFR 11.10(e), 11.70 and "nothing is ever lost": the signed change, the signature and their
audit events commit together, or none of them does."""

from __future__ import annotations

import pytest
from django.db import transaction

from galenic.accounts.models import User
from galenic.audit import services as audit
from galenic.audit.models import AuditEvent
from galenic.core.errors import PermissionDenied
from galenic.signatures import services
from galenic.signatures.models import Signature

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("signable_users")]


class Boom(Exception):
    pass


def _change_and_sign(record: User, signer: User, authority, *, fail_after: bool) -> None:
    """A feature service: change a record, audit it and sign it in one transaction."""
    with transaction.atomic():
        record.email = "new@example.org"
        record.save(update_fields=["email"])
        audit.record(actor=signer, action="test.change", obj=record, new={"email": record.email})
        services.sign(authority=authority, obj=record, meaning="approved")
        if fail_after:
            raise Boom("the feature failed after signing")


def test_signature_and_change_commit_together(signer, personas, authenticate):
    record = personas["operator"]
    events_before = AuditEvent.objects.count()

    with pytest.raises(Boom):
        _change_and_sign(record, signer, authenticate(signer), fail_after=True)
    assert User.objects.get(pk=record.pk).email == ""
    assert not Signature.objects.filter(object_type="accounts.user").exists()
    assert AuditEvent.objects.count() == events_before

    _change_and_sign(User.objects.get(pk=record.pk), signer, authenticate(signer), fail_after=False)
    assert User.objects.get(pk=record.pk).email == "new@example.org"
    [signature] = Signature.objects.filter(object_type="accounts.user")
    actions = list(
        AuditEvent.objects.filter(seq__gt=events_before).values_list("action", flat=True)
    )
    assert actions == ["test.change", services.SIGN_ACTION]
    assert '"email":"new@example.org"' in signature.content_json


def test_a_refused_signature_rolls_back_the_change(personas, authenticate):
    """Nobody acknowledged the policy: the signing fails, so the change it belonged to is gone."""
    record, unacknowledged = personas["operator"], personas["approver"]
    with pytest.raises(PermissionDenied):
        _change_and_sign(record, unacknowledged, authenticate(unacknowledged), fail_after=False)
    assert User.objects.get(pk=record.pk).email == ""
    assert not Signature.objects.exists()


def test_sign_refuses_to_run_outside_a_transaction(signer, personas, authenticate):
    with pytest.raises(services.SigningError):
        services.sign(authority=authenticate(signer), obj=personas["operator"], meaning="approved")
