from __future__ import annotations

from datetime import datetime

from django import template

from galenic.core.timefmt import format_datetime

register = template.Library()


@register.filter
def gmp_datetime(value: datetime | None) -> str:
    return format_datetime(value)
