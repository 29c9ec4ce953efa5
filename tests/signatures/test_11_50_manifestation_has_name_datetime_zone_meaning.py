"""21 CFR 11.50: every signature shows the signer's printed name, the date and time of signing
(with the time zone, PIC/S PI 041) and its meaning, the same on screen, in the API and in
exports (one renderer)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.template.loader import render_to_string

from galenic.accounts.models import User
from galenic.signatures.manifestation import manifestation
from galenic.signatures.models import Signature

pytestmark = pytest.mark.usefixtures("signable_users")


@pytest.fixture
def berlin(settings):
    settings.DISPLAY_TIME_ZONE = "Europe/Berlin"


def _winter(signature: Signature, raw_sql) -> Signature:
    """Pin the signing time so the expected text is exact (keeping the binding intact)."""
    from galenic.signatures.binding import binding_sha256

    signature.signed_at = datetime(2026, 1, 15, 9, 30, 5, tzinfo=UTC)
    raw_sql(
        "UPDATE signatures_signature SET signed_at = %s, binding_sha256 = %s WHERE id = %s",
        [signature.signed_at, binding_sha256(signature.binding_fields()), signature.pk],
    )
    return Signature.objects.get(pk=signature.pk)


@pytest.mark.usefixtures("berlin")
def test_11_50_manifestation_has_name_datetime_zone_meaning(signer, personas, sign_record, raw_sql):
    signature = _winter(
        sign_record(signer, personas["operator"], "approved", "batch looks fine"), raw_sql
    )
    m = manifestation(signature)
    assert m.printed_name == signer.full_name
    assert m.user_id == signer.username
    assert m.signed_at_text == "2026-01-15 10:30:05 CET (UTC+01:00)"
    assert m.meaning_label == "Approved"
    assert m.reason == "batch looks fine"
    assert m.as_text() == (
        f"Signed by {signer.full_name} (user ID {signer.username}) on "
        "2026-01-15 10:30:05 CET (UTC+01:00); meaning: Approved; reason: batch looks fine"
    )
    assert m.as_dict()["signed_at_utc"] == "2026-01-15T09:30:05.000000Z"

    html = render_to_string("signatures/_manifestation.html", {"manifestation": m})
    for part in (
        signer.full_name,
        signer.username,
        "2026-01-15 10:30:05 CET (UTC+01:00)",
        "Approved",
    ):
        assert part in html


@pytest.mark.usefixtures("berlin")
def test_11_50_manifestation_keeps_what_was_true_at_signing(
    signer, personas, sign_record, settings
):
    """The zone and printed name are recorded with the signature, not looked up later."""
    signature = sign_record(signer, personas["operator"], "reviewed")
    before = manifestation(signature)
    assert signature.time_zone == "Europe/Berlin"
    assert "(UTC+01:00)" in before.signed_at_text or "(UTC+02:00)" in before.signed_at_text

    settings.DISPLAY_TIME_ZONE = "America/New_York"
    renamed = User.objects.get(pk=signer.pk)
    renamed.full_name = "Quinn Married-Name"
    renamed.save(update_fields=["full_name"])
    assert manifestation(Signature.objects.get(pk=signature.pk)) == before


def test_11_50_manifestation_in_api_and_ui(signer, personas, sign_record, logged_in):
    record = personas["operator"]
    sign_record(signer, record, "verified")
    client = logged_in(personas["inspector"])
    [item] = client.get(
        "/api/v1/signatures/", {"object_type": "accounts.user", "object_id": record.pk}
    ).json()
    m = item["manifestation"]
    assert m["printed_name"] == signer.full_name
    assert m["user_id"] == signer.username
    assert m["meaning_label"] == "Verified (second person)"
    assert "(UTC+00:00)" in m["signed_at_text"]
    assert m["text"].startswith(f"Signed by {signer.full_name}")

    page = client.get(
        "/signatures/list/", {"object_type": "accounts.user", "object_id": record.pk}
    ).content.decode()
    for part in (
        signer.full_name,
        signer.username,
        "Verified (second person)",
        "UTC",
        "Signature valid",
    ):
        assert part in page
