"""Reading the audit trail: by object, user, time range, action and category (Annex 11 §9).

Every reader takes the viewer and checks ``audit.view``; the API, the UI page and the exports all
come through here. Events are immutable, so pages can be served from plain SELECTs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from galenic.accounts.permissions import require
from galenic.audit.chain import format_ts
from galenic.audit.models import AuditEvent
from galenic.core.errors import ValidationFailed
from galenic.core.timefmt import display_zone, format_datetime

CATEGORIES = ("gmp", "security", "system")
MAX_PAGE_SIZE = 500


def events_for_object(object_type: str, object_id: str) -> QuerySet[AuditEvent]:
    """One record's history, oldest first (for pages that already checked who may see it)."""
    return AuditEvent.objects.filter(object_type=object_type, object_id=object_id).order_by("seq")


@dataclass(frozen=True)
class AuditFilter:
    """What to look for. Empty fields do not filter.

    ``action`` matches exactly, or as a prefix when it ends with "." or "*" ("accounts.").
    ``user`` is a user ID; "-" means events without a user (the system).
    ``since``/``until`` bound the server time of the event (until is exclusive).
    """

    object_type: str = ""
    object_id: str = ""
    user: str = ""
    action: str = ""
    category: str = ""
    since: datetime | None = None
    until: datetime | None = None

    def as_query(self) -> dict[str, str]:
        """The filter as query-string parameters (for links, pagination, exports)."""
        out = {k: v for k, v in asdict(self).items() if k not in ("since", "until") and v}
        if self.since:
            out["since"] = self.since.isoformat()
        if self.until:
            out["until"] = self.until.isoformat()
        return out


def parse_time(text: str, field_name: str) -> datetime | None:
    """ISO 8601 date or date-time. Without an offset it is read in the display time zone, the
    zone every page shows times in."""
    text = (text or "").strip()
    if not text:
        return None
    # An unencoded "+01:00" in a query string arrives as " 01:00".
    text = re.sub(r"(\d) (\d\d:?\d\d)$", r"\1+\2", text)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValidationFailed(
            f"{text!r} is not a date or date-time (use e.g. 2026-11-23 or 2026-11-23T14:05).",
            field=field_name,
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=display_zone())
    return value


def make_filter(
    *,
    object_type: str = "",
    object_id: str = "",
    user: str = "",
    action: str = "",
    category: str = "",
    since: str | datetime | None = None,
    until: str | datetime | None = None,
) -> AuditFilter:
    """Build a filter from user input; bad input raises ValidationFailed naming the field."""
    category = (category or "").strip().lower()
    if category and category not in CATEGORIES:
        raise ValidationFailed(
            f"Category must be one of {', '.join(CATEGORIES)}.", field="category"
        )
    since_dt = since if isinstance(since, datetime) else parse_time(since or "", "since")
    until_dt = until if isinstance(until, datetime) else parse_time(until or "", "until")
    if since_dt and until_dt and until_dt <= since_dt:
        raise ValidationFailed("'Until' must be later than 'since'.", field="until")
    return AuditFilter(
        object_type=(object_type or "").strip().lower(),
        object_id=(object_id or "").strip(),
        user=(user or "").strip().lower(),
        action=(action or "").strip(),
        category=category,
        since=since_dt,
        until=until_dt,
    )


def _apply(filters: AuditFilter) -> QuerySet[AuditEvent]:
    qs = AuditEvent.objects.all()
    if filters.object_type:
        qs = qs.filter(object_type=filters.object_type)
    if filters.object_id:
        qs = qs.filter(object_id=filters.object_id)
    if filters.user == "-":
        qs = qs.filter(actor_username="")
    elif filters.user:
        qs = qs.filter(actor_username=filters.user)
    if filters.action:
        if filters.action.endswith(("*", ".")):
            qs = qs.filter(action__startswith=filters.action.rstrip("*"))
        else:
            qs = qs.filter(action=filters.action)
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.since:
        qs = qs.filter(occurred_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(occurred_at__lt=filters.until)
    return qs


def search(viewer: Any, filters: AuditFilter, *, newest_first: bool = True) -> QuerySet[AuditEvent]:
    """Events matching ``filters`` that ``viewer`` may read."""
    require(viewer, "audit.view")
    return _apply(filters).order_by("-seq" if newest_first else "seq")


@dataclass(frozen=True)
class Page:
    events: list[AuditEvent]
    number: int
    size: int
    count: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // self.size))

    @property
    def has_next(self) -> bool:
        return self.number < self.pages

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def page(viewer: Any, filters: AuditFilter, *, number: int = 1, size: int = 50) -> Page:
    if size < 1 or size > MAX_PAGE_SIZE:
        raise ValidationFailed(f"Page size must be 1 to {MAX_PAGE_SIZE}.", field="page_size")
    if number < 1:
        raise ValidationFailed("Pages are numbered from 1.", field="page")
    qs = search(viewer, filters)
    count = qs.count()
    offset = (number - 1) * size
    return Page(list(qs[offset : offset + size]), number, size, count)


# --- one event as data (API, exports) ------------------------------------------------------------


def _values(text: str) -> Any:
    return json.loads(text) if text else None


def event_data(event: AuditEvent) -> dict[str, Any]:
    """An event as plain data. ``occurred_at``, ``old_values`` and ``new_values`` are the exact
    text that was hashed, so anyone can recompute the chain from an export (see chain.py)."""
    return {
        "seq": event.seq,
        "occurred_at": format_ts(event.occurred_at),
        "occurred_at_display": format_datetime(event.occurred_at),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "actor_name": event.actor_name,
        "category": event.category,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "old": _values(event.old_values),
        "new": _values(event.new_values),
        "old_values": event.old_values,
        "new_values": event.new_values,
        "reason": event.reason,
        "request_id": event.request_id,
        "source": event.source,
        "prev_hash": event.prev_hash,
        "hash": event.hash,
    }


def export_events(viewer: Any, filters: AuditFilter) -> Iterator[AuditEvent]:
    """All matching events, oldest first, streamed in chunks (for CSV/JSON export)."""
    return search(viewer, filters, newest_first=False).iterator(chunk_size=2000)


def changed_fields(event: AuditEvent) -> list[tuple[str, Any, Any]]:
    """(field, old, new) for display: every key of old or new, in order."""
    old = _values(event.old_values) or {}
    new = _values(event.new_values) or {}
    if not isinstance(old, dict) or not isinstance(new, dict):
        return [("value", old or None, new or None)]
    keys = list(dict.fromkeys([*old, *new]))
    return [(k, old.get(k), new.get(k)) for k in keys]
