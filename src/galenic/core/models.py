from __future__ import annotations

from django.db import models


class IdempotentRequest(models.Model):
    """An API request sent with an ``Idempotency-Key`` whose work was carried out.

    The row is inserted in the very transaction that commits the request's work (just before
    its audit events, ``core.idempotency.claim``), so the work and the key exist together or
    not at all: a retried or replayed request with the same key is never carried out twice,
    even after the server died between committing and answering. The answer is stored after
    the request for the replay refusal to quote. Operational data, not a GMP record.
    """

    user_id = models.BigIntegerField()  # accounts.User (no FK: core sits below accounts)
    key = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)  # sha256 of method, path and body
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=300)
    request_id = models.CharField(max_length=64)
    created_at = models.DateTimeField()
    status = models.PositiveSmallIntegerField(null=True)
    response = models.TextField(blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user_id", "key"], name="core_idempotency_user_key")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.key})"
