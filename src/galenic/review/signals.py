"""Build the exception report when execution completes a batch (after its transaction commits),
without execution having to know about review."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save

log = logging.getLogger(__name__)


def _build(number: str) -> None:
    from galenic.core.context import action_context
    from galenic.core.errors import GalenicError
    from galenic.review import services

    try:
        with action_context("system"):
            services.refresh_report(actor=None, number=number)
    except GalenicError as exc:
        log.warning("exception report of batch %s not built: %s", number, exc.message)
    except Exception:
        # The batch is completed and committed; the report is built again when it is opened.
        log.exception("exception report of batch %s not built", number)


def batch_saved(sender: Any, instance: Any, update_fields: Any = None, **kwargs: Any) -> None:
    if instance.status != "completed":
        return
    if update_fields is not None and "status" not in update_fields:
        return
    number = instance.number
    transaction.on_commit(lambda: _build(number))


def connect() -> None:
    post_save.connect(batch_saved, sender="execution.Batch", dispatch_uid="review.batch_completed")
