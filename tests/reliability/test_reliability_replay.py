"""Replayed and duplicated requests: stored once; the replay refused and logged.

- An API write sent again with the same Idempotency-Key (a client retrying after a lost answer,
  or someone replaying a captured request) is not carried out again: 409 ``replayed`` quoting
  the first answer, and a security event in the audit trail. The key reused for a different
  request: 422 and a security event.
- An old signed request (a perform with its password) replayed without a key is refused by the
  record's state (409, the step is already complete), audited as a refused attempt; replayed
  after the signer logged out, it is refused as not authenticated. Nothing is signed twice.
- Gateway messages: a redelivered reading is stored once; one whose key is stored with another
  value is refused and logged as a security event (tests/equipment covers plain redelivery).
"""

from __future__ import annotations

import pytest
from rel_inprocess import ApiClient, running_batch

from galenic.audit.models import AuditEvent
from galenic.execution.models import Entry
from galenic.signatures.models import Signature
from galenic.testing.support import PASSWORD

pytestmark = pytest.mark.django_db

VALUE = {"key": "a", "value": "21.0", "unit": "°C"}


def _values(number: str) -> str:
    return f"/api/v1/batches/{number}/steps/s1/values"


def _security(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action, category="security"))


def test_same_idempotency_key_is_carried_out_once(personas):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    first = api.post(_values(number), VALUE, key="retry-1")
    assert first.status_code == 201
    again = api.post(_values(number), VALUE, key="retry-1")
    assert again.status_code == 409
    body = again.json()
    assert body["code"] == "replayed"
    assert "carried out once" in body["message"]
    assert body["original"]["status"] == 201
    assert body["original"]["body"]["entries"][0]["id"] == first.json()["entries"][0]["id"]
    assert Entry.objects.count() == 1
    [event] = _security("api.request.replayed")
    assert event.actor == personas["operator"]
    assert '"idempotency_key":"retry-1"' in event.new_values


def test_a_key_reused_for_another_request_is_refused(personas):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    assert api.post(_values(number), VALUE, key="k-1").status_code == 201
    other = api.post(_values(number), {**VALUE, "key": "b"}, key="k-1")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert list(Entry.objects.values_list("key", flat=True)) == ["a"]
    assert len(_security("api.idempotency_key.reused")) == 1


def test_keys_belong_to_the_person_sending_them(personas):
    number = running_batch(personas)
    ApiClient(personas["operator"]).post(_values(number), VALUE, key="shared")
    answer = ApiClient(personas["verifier"]).post(_values(number), {**VALUE, "key": "b"}, "shared")
    assert answer.status_code == 201


def test_a_request_that_saved_nothing_may_be_sent_again_with_its_key(personas):
    """Only work that committed claims the key: a refused request is retried after a fix."""
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    bad = api.post(_values(number), {**VALUE, "value": "warm"}, key="fix-1")
    assert bad.status_code == 400
    assert api.post(_values(number), VALUE, key="fix-1").status_code == 201
    assert api.post(_values(number), VALUE, key="fix-1").status_code == 409


def test_malformed_key_is_refused(personas):
    answer = ApiClient(personas["operator"]).post(_values("X"), VALUE, key="has spaces")
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["field"] == "Idempotency-Key"


def _perform(number: str) -> tuple[str, dict[str, str]]:
    path = f"/api/v1/batches/{number}/steps/s1/perform"
    return path, {"user_id": "olivia", "password": PASSWORD}


def _record_all(api: ApiClient, number: str) -> None:
    for key, value in (("a", "21.0"), ("b", "21.5"), ("c", "22.0")):
        assert (
            api.post(_values(number), {"key": key, "value": value, "unit": "°C"}).status_code == 201
        )


def test_an_old_signed_request_replayed_is_refused_and_logged(personas):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    _record_all(api, number)
    path, signed = _perform(number)
    assert api.post(path, signed).status_code == 200
    replay = api.post(path, signed)
    assert replay.status_code == 409
    assert "already complete" in replay.json()["message"]
    performed = Signature.objects.filter(object_type="execution.stepexecution", meaning="performed")
    assert performed.count() == 1
    assert AuditEvent.objects.filter(action="execution.step.perform.refused").count() == 1


def test_a_signed_request_with_its_key_replayed_is_refused_as_a_replay(personas):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    _record_all(api, number)
    path, signed = _perform(number)
    assert api.post(path, signed, key="sign-s1").status_code == 200
    replay = api.post(path, signed, key="sign-s1")
    assert replay.status_code == 409
    assert replay.json()["code"] == "replayed"
    assert Signature.objects.filter(meaning="performed").count() == 1
    assert len(_security("api.request.replayed")) == 1


def test_a_signed_request_replayed_after_logout_is_refused(personas):
    number = running_batch(personas)
    api = ApiClient(personas["operator"])
    _record_all(api, number)
    stolen = api.client.cookies["sessionid"].value
    api.client.post("/accounts/logout/")
    api.client.cookies["sessionid"] = stolen  # the captured request, cookie and all
    path, signed = _perform(number)
    replay = api.post(path, signed)
    assert replay.status_code == 401
    assert not Signature.objects.filter(meaning="performed").exists()


def _gateway(admin):
    from datetime import timedelta

    from galenic.core.context import action_context
    from galenic.core.timefmt import utcnow
    from galenic.equipment import services

    today = utcnow().date()
    with action_context("test"):
        _gateway, token = services.register_gateway(actor=admin, code="GW-R", name="Line")
        services.register_equipment(
            actor=admin, code="GRN-R", name="Granulator", kind="granulator", gateway_code="GW-R"
        )
        services.record_calibration(
            actor=admin, code="GRN-R", performed_on=today, due=today + timedelta(days=30)
        )
        services.define_tag(
            actor=admin,
            code="GRN-R.temp",
            equipment_code="GRN-R",
            name="Temperature",
            unit="degC",
            max_age_s=10,
        )
    return token


def test_gateway_message_replayed_with_another_value_is_refused_and_logged(personas):
    import json

    from django.test import Client

    from galenic.core.timefmt import utcnow
    from galenic.equipment.models import TagValue

    token = _gateway(personas["admin"])
    at = utcnow().isoformat()

    def reading(value: str) -> dict[str, object]:
        return {
            "source": "GRN-R",
            "tag": "GRN-R.temp",
            "seq": 41,
            "value": value,
            "unit": "degC",
            "device_time": at,
            "received_at": at,
            "quality": "good",
        }

    def deliver(*items: dict[str, object]) -> dict[str, object]:
        answer = Client().post(
            "/api/v1/equipment/ingest",
            json.dumps({"items": list(items)}),
            content_type="application/json",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 200, answer.content
        return dict(answer.json())

    first = deliver(reading("24.5"))
    assert first["accepted"] == 1
    again = deliver(reading("24.5"))  # redelivered as is: a duplicate, not an attack
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 1, [])
    forged = deliver(reading("19.0"))
    assert (forged["accepted"], forged["duplicates"]) == (0, 0)
    assert forged["rejected"][0]["code"] == "conflicting_duplicate"
    assert [str(v) for v in TagValue.objects.values_list("value", flat=True)] == ["24.500000"]
    [event] = _security("equipment.reading.refused")
    assert "conflicting_duplicate" in event.new_values
