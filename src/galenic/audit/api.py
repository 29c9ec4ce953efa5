"""Audit trail API: query by object, user, time range, action and category; export as CSV or
JSON; verify the chain. Inspectors, QA and admins read (``audit.view``); operators do not.

Times in filters are ISO 8601; without an offset they are read in the display time zone.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.http import HttpRequest, StreamingHttpResponse
from ninja import Query, Router, Schema

from galenic.audit import selectors, services
from galenic.audit.selectors import AuditFilter

router = Router(tags=["audit"])


class FilterIn(Schema):
    object_type: str = ""
    object_id: str = ""
    user: str = ""
    action: str = ""
    category: str = ""
    since: str = ""
    until: str = ""

    def build(self) -> AuditFilter:
        return selectors.make_filter(
            object_type=self.object_type,
            object_id=self.object_id,
            user=self.user,
            action=self.action,
            category=self.category,
            since=self.since,
            until=self.until,
        )


class PageIn(FilterIn):
    page: int = 1
    page_size: int = 50


class EventOut(Schema):
    seq: int
    occurred_at: str
    occurred_at_display: str
    actor_id: int | None
    actor_username: str
    actor_name: str
    category: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    old: Any
    new: Any
    old_values: str
    new_values: str
    reason: str
    request_id: str
    source: str
    prev_hash: str
    hash: str


class EventPageOut(Schema):
    count: int
    page: int
    page_size: int
    pages: int
    results: list[EventOut]


class ProblemOut(Schema):
    seq: int | None
    kind: str
    message: str


class VerifyOut(Schema):
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    seals_checked: bool
    checkpoints_checked: int
    first_bad_seq: int | None
    problem_count: int
    problems: list[ProblemOut]
    notes: list[str]
    verified_at: datetime | None


@router.get(
    "/events",
    response=EventPageOut,
    summary="Audit events, newest first, filtered by object, user, time range, action, category",
)
def list_events(request: HttpRequest, query: Query[PageIn]) -> EventPageOut:
    result = selectors.page(request.user, query.build(), number=query.page, size=query.page_size)
    return EventPageOut(
        count=result.count,
        page=result.number,
        page_size=result.size,
        pages=result.pages,
        results=[EventOut(**selectors.event_data(e)) for e in result.events],
    )


CSV_COLUMNS = (
    "seq",
    "occurred_at",
    "occurred_at_display",
    "actor_username",
    "actor_name",
    "category",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "old_values",
    "new_values",
    "reason",
    "request_id",
    "source",
    "prev_hash",
    "hash",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    # A spreadsheet must not run a cell as a formula (OWASP CSV injection). The JSON export
    # keeps every value exactly as hashed.
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_rows(events: Iterator[Any]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for event in events:
        data = selectors.event_data(event)
        yield writer.writerow([_cell(data[c]) for c in CSV_COLUMNS])


def _json_rows(filters: AuditFilter, events: Iterator[Any]) -> Iterator[str]:
    head = {
        "format": "galenic-audit-export-v1",
        "filters": filters.as_query(),
        "hash": "sha256(prev_hash + join(US, fields)); fields: see galenic.audit.chain",
    }
    yield json.dumps(head, ensure_ascii=False)[:-1] + ', "events": ['
    first = True
    for event in events:
        yield (
            ("" if first else ",")
            + "\n"
            + json.dumps(selectors.event_data(event), ensure_ascii=False, sort_keys=True)
        )
        first = False
    yield "\n]}\n"


def _export(request: HttpRequest, filters: AuditFilter, fmt: str) -> StreamingHttpResponse:
    events = selectors.export_events(request.user, filters)  # checks audit.view
    services.record_export(actor=request.user, filters=filters.as_query(), fmt=fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(_csv_rows(events), content_type="text/csv; charset=utf-8")
    else:
        response = StreamingHttpResponse(
            _json_rows(filters, events), content_type="application/json"
        )
    response["Content-Disposition"] = f'attachment; filename="audit-trail.{fmt}"'
    return response


@router.get(
    "/export.csv",
    summary="Matching events as CSV, oldest first",
    response={200: None},
)
def export_csv(request: HttpRequest, query: Query[FilterIn]) -> StreamingHttpResponse:
    return _export(request, query.build(), "csv")


@router.get(
    "/export.json",
    summary="Matching events as JSON, oldest first, with the hashed text of every event",
    response={200: None},
)
def export_json(request: HttpRequest, query: Query[FilterIn]) -> StreamingHttpResponse:
    return _export(request, query.build(), "json")


@router.post(
    "/verify",
    response=VerifyOut,
    summary="Verify the whole chain, its seals, the signed checkpoints and the triggers",
)
def verify(request: HttpRequest) -> VerifyOut:
    from galenic.audit.verify import run_verification

    result = run_verification(request.user)
    return VerifyOut(**result.as_dict(), verified_at=result.verified_at)
