from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

import galenic as galenic_pkg
from galenic.core.navigation import nav_items_for


def galenic(request: HttpRequest) -> dict[str, Any]:
    return {
        "site_name": settings.SITE_NAME,
        "galenic_version": galenic_pkg.__version__,
        "display_time_zone": settings.DISPLAY_TIME_ZONE,
        "nav_items": nav_items_for(request.user) if hasattr(request, "user") else [],
    }
