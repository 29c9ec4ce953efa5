"""21 CFR 11.70: a signature cannot be excised. Deleting its row behind the application's back is
named by verification (from the signing event in the hash-chained audit trail) and shown on the
record as "changed after signing"."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from galenic.cli import app
from galenic.signatures import selectors
from galenic.signatures.triggers import SQLITE_TRIGGERS

pytestmark = pytest.mark.usefixtures("signable_users")


def test_11_70_excising_a_signature_is_detected(signer, personas, sign_record, raw_sql, logged_in):
    record = personas["operator"]
    kept = sign_record(signer, record, "reviewed")
    removed = sign_record(signer, record, "approved")
    assert CliRunner().invoke(app, ["signatures", "verify"]).exit_code == 0

    raw_sql("DELETE FROM signatures_signature WHERE id = %s", [removed.pk])

    [gone] = selectors.excised_signatures_for("accounts.user", str(record.pk))
    assert gone.uid == str(removed.uid)
    assert [e.signature.pk for e in selectors.signatures_for_object(record)] == [kept.pk]

    result = CliRunner().invoke(app, ["signatures", "verify"])
    assert result.exit_code == 2
    assert f"signature {removed.uid} on accounts.user:{record.pk}" in result.output
    assert "excised" in result.output

    page = logged_in(personas["inspector"]).get(
        "/signatures/list/", {"object_type": "accounts.user", "object_id": record.pk}
    )
    html = page.content.decode()
    assert 'data-testid="excised-signature"' in html
    assert "no longer on this record" in html


def test_verify_names_a_dropped_or_disabled_trigger(signer, raw_sql, db_vendor):
    from django.db import connection

    with connection.cursor() as cur:
        if db_vendor == "sqlite":
            name = next(iter(SQLITE_TRIGGERS))
            cur.execute(f"DROP TRIGGER {name}")
        else:
            name = "signatures_signature_no_update_delete"
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(f"ALTER TABLE signatures_signature DISABLE TRIGGER {name}")
    result = CliRunner().invoke(app, ["signatures", "verify"])
    assert result.exit_code == 2
    assert f"append-only trigger {name} is missing or disabled" in result.output
