"""Abuse of signatures and of record identifiers over HTTP (21 CFR 11.100, 11.200, 11.10(d)):
signing as someone else, replaying a captured signing request, verifying one's own step, and
reaching a record through another record's URL all fail, change nothing, and are logged."""

from __future__ import annotations

import pytest

from galenic.audit.models import AuditEvent
from galenic.signatures.models import Signature
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

B = "/api/v1/batches"


def _signatures() -> int:
    return Signature.objects.count()


def _last(action: str) -> AuditEvent | None:
    return AuditEvent.objects.filter(action=action).order_by("-seq").first()


def test_signing_with_someone_elses_id_and_password_is_refused_and_logged(caller):
    before = _signatures()
    olivia = caller("operator")
    # Olivia knows Victor's password and types his user ID into her own session.
    answer = olivia.call(
        "POST", f"{B}/SEC-PERF/steps/weigh/perform", {"user_id": "victor", "password": PASSWORD}
    )
    assert answer.status_code == 403, answer.content
    assert answer.json()["errors"][0]["field"] == "user_id"
    assert _signatures() == before
    failed = _last("accounts.signature.failed")
    assert failed is not None
    assert failed.actor_username == "olivia"
    assert '"attempted_id":"victor"' in failed.new_values.replace(" ", "")
    denied = _last("security.access_denied")
    assert denied is not None
    assert denied.actor_username == "olivia"


def test_a_replayed_signing_request_signs_nothing_twice(caller):
    olivia = caller("operator")
    step = olivia.call("GET", f"{B}/SEC-PERF/steps/weigh").json()
    request = {"user_id": "olivia", "password": PASSWORD, "content_sha256": step["content_sha256"]}
    first = olivia.call("POST", f"{B}/SEC-PERF/steps/weigh/perform", request)
    assert first.status_code == 200, first.content
    signed = _signatures()
    # The same request, byte for byte (a captured form post or API call sent again).
    again = olivia.call("POST", f"{B}/SEC-PERF/steps/weigh/perform", request)
    assert again.status_code == 409, again.content
    assert _signatures() == signed
    refused = _last("execution.step.perform.refused")
    assert refused is not None
    assert refused.actor_username == "olivia"


def test_a_signing_request_replayed_against_another_record_is_refused(caller):
    """The content fingerprint the signer was shown binds the request to that record."""
    olivia = caller("operator")
    shown = olivia.call("GET", f"{B}/SEC-PERF/steps/weigh").json()["content_sha256"]
    olivia.call("POST", f"{B}/SEC-RUN/steps/weigh/values", {"key": "mass", "value": "100.0"})
    before = _signatures()
    answer = olivia.call(
        "POST",
        f"{B}/SEC-RUN/steps/weigh/perform",
        {"user_id": "olivia", "password": PASSWORD, "content_sha256": shown},
    )
    assert answer.status_code == 409, answer.content
    assert answer.json()["errors"][0]["field"] in ("content", "content_sha256", "step")
    assert _signatures() == before


def test_a_replayed_request_after_logout_is_refused(caller, world):
    victor = caller("verifier")
    victor.call("POST", "/accounts/logout/", content_type="form")
    answer = victor.call(
        "POST", f"{B}/SEC-VER/steps/weigh/verify", {"user_id": "victor", "password": PASSWORD}
    )
    assert answer.status_code == 401


def test_nobody_verifies_their_own_step(caller):
    victor = caller("verifier")  # holds operator and verifier
    assert (
        victor.call(
            "POST", f"{B}/SEC-RUN/steps/weigh/values", {"key": "mass", "value": "100.0"}
        ).status_code
        == 201
    )
    sign = {"user_id": "victor", "password": PASSWORD}
    performed = victor.call("POST", f"{B}/SEC-RUN/steps/weigh/perform", sign)
    assert performed.status_code == 200, performed.content
    before = _signatures()
    own = victor.call("POST", f"{B}/SEC-RUN/steps/weigh/verify", {"password": PASSWORD})
    assert own.status_code == 403, own.content
    assert "own work" in own.json()["message"]
    assert _signatures() == before
    denied = _last("security.access_denied")
    assert denied is not None
    assert denied.actor_username == "victor"


def test_a_record_is_not_reached_through_another_records_url(caller, world):
    """IDs of one batch's entries, attachments and review items mean nothing under another."""
    p = world.params
    olivia, rita = caller("operator"), caller("approver")
    moved = olivia.call(
        "POST",
        f"{B}/SEC-RUN/entries/{p['perf_entry_id']}/correct",
        {"value": "1", "reason": "x"},
    )
    assert moved.status_code == 404, moved.content
    assert olivia.call("GET", f"{B}/SEC-PERF/attachments/{p['attachment_id']}").status_code == 404
    acknowledged = rita.call(
        "POST",
        f"/api/v1/review/batches/SEC-CLEAN/items/{p['item_id']}/acknowledge",
        {"comment": "fine"},
    )
    assert acknowledged.status_code in (404, 409), acknowledged.content
    assert not AuditEvent.objects.filter(action="review.item.acknowledge").exists()
