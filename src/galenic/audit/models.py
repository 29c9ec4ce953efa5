from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NoReturn, TypeVar

from django.db import models


class AppendOnlyViolation(PermissionError):
    """Code tried to change or remove audited history in bulk (or an audit event at all)."""


_M = TypeVar("_M", bound=models.Model)


class AuditedQuerySet(models.QuerySet[_M]):
    """QuerySet for models whose every change must be audited.

    Bulk ``update()``/``delete()``/``bulk_update()`` would change many rows without one audit
    event each, so they raise. Change rows one by one in a service (``save()`` plus
    ``audit.services.record``), or use :meth:`update_audited`, which writes one event per row.
    """

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation(
            f"bulk update() on audited model {self.model._meta.label} is refused: "
            "change rows in a service with one audit event each (or use update_audited)"
        )

    def delete(self) -> NoReturn:
        raise AppendOnlyViolation(
            f"bulk delete() on audited model {self.model._meta.label} is refused: "
            "GMP records are corrected or retired by new entries, not deleted"
        )

    def bulk_update(
        self, objs: Iterable[_M], fields: Any, batch_size: int | None = None
    ) -> NoReturn:
        raise AppendOnlyViolation(
            f"bulk_update() on audited model {self.model._meta.label} is refused"
        )

    def update_audited(self, *, actor: Any, action: str, reason: str = "", **values: Any) -> int:
        """Set ``values`` on every matching row, each with its own audit event (old → new).

        Must run inside the caller's transaction; rows are locked first so the recorded old
        values are the ones replaced.
        """
        from galenic.audit import services as audit

        names = list(values)
        count = 0
        for row in self.select_for_update(no_key=True).order_by("pk"):
            old = {name: getattr(row, name) for name in names}
            if all(old[name] == values[name] for name in names):
                continue
            for name, value in values.items():
                setattr(row, name, value)
            row.save(update_fields=names)
            audit.record(
                actor=actor,
                action=action,
                obj=row,
                old=old,
                new={name: getattr(row, name) for name in names},
                reason=reason,
            )
            count += 1
        return count


class AuditedManager(models.Manager[_M]):
    """Manager form of AuditedQuerySet (``objects = AuditedManager()``)."""

    def get_queryset(self) -> AuditedQuerySet[_M]:
        return AuditedQuerySet(self.model, using=self._db)

    def bulk_update(
        self, objs: Iterable[_M], fields: Any, batch_size: int | None = None
    ) -> NoReturn:
        self.get_queryset().bulk_update(objs, fields, batch_size)

    def update_audited(self, *, actor: Any, action: str, reason: str = "", **values: Any) -> int:
        return self.get_queryset().update_audited(
            actor=actor, action=action, reason=reason, **values
        )


class AuditedModel(models.Model):
    """Abstract base for GMP records: bulk update/delete on them raise (STYLE.md #3).

    Subclasses keep their own fields; services change instances one at a time and record an
    audit event for each change in the same transaction.
    """

    objects = AuditedManager()

    class Meta:
        abstract = True

    def audit_values(self, fields: Iterable[str]) -> dict[str, Any]:
        """The named fields as a dict, for ``old=``/``new=`` of an audit event."""
        return {name: getattr(self, name) for name in fields}


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    """Audit events are never changed or removed: refuse it in code as the database does."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation("the audit trail is append-only: update() is refused")

    def delete(self) -> NoReturn:
        raise AppendOnlyViolation("the audit trail is append-only: delete() is refused")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation("the audit trail is append-only: bulk_update() is refused")

    def _update(self, values: Any) -> NoReturn:
        raise AppendOnlyViolation("the audit trail is append-only: an event cannot be changed")

    def _raw_delete(self, using: Any) -> NoReturn:
        raise AppendOnlyViolation("the audit trail is append-only: delete is refused")


class AuditEvent(models.Model):
    """One audited create, change or action (21 CFR 11.10(e)).

    ``seq`` is gap-free and assigned under a lock; ``hash`` chains each event to the one before;
    ``seal`` is an HMAC of the hash under a key kept outside the database.
    Values are stored as canonical JSON text so the exact bytes hashed are the bytes kept.
    The database refuses UPDATE, DELETE and TRUNCATE on this table (migration 0003).
    """

    seq = models.BigIntegerField(primary_key=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, null=True, related_name="+", db_constraint=False
    )
    actor_username = models.CharField(max_length=63, blank=True)
    actor_name = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=16, default="gmp")  # gmp | security | system
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    old_values = models.TextField(blank=True)
    new_values = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    source = models.CharField(max_length=16, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    seal = models.CharField(max_length=64, blank=True, default="")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["actor_username", "occurred_at"], name="audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyViolation("the audit trail is append-only: an event cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyViolation("the audit trail is append-only: an event cannot be deleted")
