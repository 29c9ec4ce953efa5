"""21 CFR 11.70: a signature whose record was removed behind the application's back (signed
records are never deleted by Galenic) is reported, not silently dropped."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from galenic.accounts.models import RoleGrant
from galenic.cli import app
from galenic.signatures import registry
from galenic.signatures.verify import SignatureStatus, verify


@pytest.fixture
def signable_grants():
    registry.register("accounts.rolegrant", lambda g: {"user": g.user.username, "role": g.role})
    yield
    registry.unregister("accounts.rolegrant")


@pytest.mark.usefixtures("signable_grants")
def test_11_70_signed_record_missing_is_reported(signer, personas, sign_record, raw_sql):
    grant = RoleGrant.objects.get(user=personas["operator"])
    signature = sign_record(signer, grant, "approved")
    assert verify(signature) is SignatureStatus.VALID

    raw_sql("DELETE FROM accounts_rolegrant WHERE id = %s", [grant.pk])
    assert verify(signature) is SignatureStatus.RECORD_MISSING
    assert SignatureStatus.RECORD_MISSING.label.startswith("Changed after signing")
    result = CliRunner().invoke(app, ["signatures", "verify"])
    assert result.exit_code == 2
    assert f"accounts.rolegrant:{grant.pk}" in result.output


def test_11_70_unregistered_record_type_is_unverifiable(signer, personas, sign_record):
    registry.register("accounts.rolegrant", lambda g: {"role": g.role})
    try:
        signature = sign_record(
            signer, RoleGrant.objects.get(user=personas["operator"]), "approved"
        )
    finally:
        registry.unregister("accounts.rolegrant")
    # The feature that registered the type is gone (e.g. a removed app): say so, never "valid".
    assert verify(signature) is SignatureStatus.UNVERIFIABLE
    assert CliRunner().invoke(app, ["signatures", "verify"]).exit_code == 2
