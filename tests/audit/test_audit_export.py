"""Audit trail export as CSV and JSON. The JSON carries the exact hashed text of every event, so
the chain can be recomputed from the export alone; every export is itself audited."""

from __future__ import annotations

import csv
import io
import json

from django.db import transaction

from galenic.audit import services as audit
from galenic.audit.chain import GENESIS, SEP, hash_payload
from galenic.audit.models import AuditEvent


def _body(response) -> str:
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode()


def test_audit_export_json_recomputes_the_chain(personas, logged_in):
    with transaction.atomic():
        audit.record(
            actor=personas["admin"],
            action="test.export",
            object_type="test.thing",
            object_id="1",
            new={"x": "ünï\x1fcode"},
            reason="=SUM(A1)",
        )
    data = json.loads(_body(logged_in(personas["inspector"]).get("/api/v1/audit/export.json")))
    assert data["format"] == "galenic-audit-export-v1"
    prev = GENESIS
    for e in data["events"]:  # oldest first, every field as hashed
        fields = [
            str(e["seq"]),
            e["occurred_at"],
            "" if e["actor_id"] is None else str(e["actor_id"]),
            e["actor_username"],
            e["actor_name"],
            e["category"],
            e["action"],
            e["object_type"],
            e["object_id"],
            e["object_repr"],
            e["old_values"],
            e["new_values"],
            e["reason"],
            e["request_id"],
            e["source"],
        ]
        assert e["prev_hash"] == prev
        assert hash_payload(prev, SEP.join(fields)) == e["hash"]
        prev = e["hash"]
    [mine] = [e for e in data["events"] if e["action"] == "test.export"]
    assert mine["reason"] == "=SUM(A1)"  # JSON keeps values exactly
    assert mine["new"] == {"x": "ünï\x1fcode"}


def test_audit_export_csv_with_filters(personas, logged_in):
    with transaction.atomic():
        audit.record(
            actor=personas["admin"],
            action="test.export",
            object_type="test.thing",
            object_id="1",
            new={"x": 1},
            reason='=HYPERLINK("x")',
        )
        audit.record(
            actor=personas["admin"], action="test.other", object_type="test.thing", object_id="2"
        )
    text = _body(
        logged_in(personas["approver"]).get(
            "/api/v1/audit/export.csv?object_type=test.thing&object_id=1"
        )
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["action"] for r in rows] == ["test.export"]
    assert rows[0]["new_values"] == '{"x":1}'
    assert rows[0]["reason"] == '\'=HYPERLINK("x")'  # not run as a formula by a spreadsheet
    assert rows[0]["occurred_at_display"]


def test_audit_export_is_itself_audited(personas, logged_in):
    logged_in(personas["inspector"]).get("/api/v1/audit/export.csv?user=ada")
    event = AuditEvent.objects.get(action="audit.export")
    assert event.actor_id == personas["inspector"].pk
    assert json.loads(event.new_values) == {"filters": {"user": "ada"}, "format": "csv"}
