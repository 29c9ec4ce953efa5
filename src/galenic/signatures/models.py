from __future__ import annotations

import uuid
from typing import Any, NoReturn

from django.db import models

from galenic.signatures.binding import BindingFields


class Meaning(models.TextChoices):
    """What a signature means (21 CFR 11.50(a)(3)). Add members here as features need them."""

    AUTHORED = "authored", "Authored"
    CHECKED = "checked", "Checked"
    REVIEWED = "reviewed", "Reviewed"
    APPROVED = "approved", "Approved"
    PERFORMED = "performed", "Performed"
    VERIFIED = "verified", "Verified (second person)"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"


class Credentials(models.TextChoices):
    """Which signature components were entered for this signing (11.200(a)(1))."""

    USER_ID_AND_PASSWORD = "user_id+password", "User ID and password"
    PASSWORD = "password", "Password (continuous session)"


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Signatures are never changed or removed: bulk update/delete would bypass that, so refuse."""

    def update(self, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: update() is refused")

    def delete(self) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: delete() is refused")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: bulk_update() is refused")

    def _update(self, values: Any) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: a row cannot be changed")

    def _raw_delete(self, using: Any) -> NoReturn:
        raise PermissionError(f"{self.model._meta.label} is append-only: delete is refused")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    save_only_guards = True  # core.rows.insert may insert new rows without calling save()

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(f"{self._meta.label} is append-only: a row cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise PermissionError(f"{self._meta.label} is append-only: a row cannot be deleted")


class Signature(AppendOnlyModel):
    """One electronic signature (21 CFR 11.50, 11.70, 11.200).

    Printed name and user ID are copied as they were at signing, so the manifestation never
    changes when a user record does. ``content_json`` is the canonical JSON of exactly what was
    signed; ``binding_sha256`` covers every other field (see ``binding.py``).
    """

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    signer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    signer_user_id = models.CharField("user ID as signed", max_length=63)
    signer_name = models.CharField("printed name as signed", max_length=200)
    meaning = models.CharField(max_length=32, choices=Meaning.choices)
    signed_at = models.DateTimeField(db_index=True)
    time_zone = models.CharField(max_length=64)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    content_json = models.TextField()
    content_sha256 = models.CharField(max_length=64)
    reason = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    credentials = models.CharField(max_length=32, choices=Credentials.choices)
    binding_sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ["signed_at", "id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="signature_object_idx")]
        constraints = [
            models.CheckConstraint(condition=~models.Q(meaning=""), name="signature_has_meaning"),
            models.CheckConstraint(
                condition=~models.Q(content_sha256=""), name="signature_has_content_hash"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer_name} ({self.signer_user_id}) {self.meaning} {self.object_type}:{self.object_id}"

    @property
    def meaning_label(self) -> str:
        try:
            return str(Meaning(self.meaning).label)
        except ValueError:
            return self.meaning

    def binding_fields(self) -> BindingFields:
        return BindingFields(
            uid=str(self.uid),
            signer_pk=str(self.signer_id),
            signer_user_id=self.signer_user_id,
            signer_name=self.signer_name,
            meaning=self.meaning,
            signed_at=self.signed_at,
            time_zone=self.time_zone,
            object_type=self.object_type,
            object_id=self.object_id,
            content_sha256=self.content_sha256,
            reason=self.reason,
            request_id=self.request_id,
            credentials=self.credentials,
        )


class PolicyAcknowledgement(AppendOnlyModel):
    """A user's signed acknowledgement of the e-signature accountability policy (11.10(j), 11.100(c)).

    No other signature is accepted from a user until they have signed this for the current
    policy version.
    """

    user = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    policy_version = models.CharField(max_length=32)
    policy_sha256 = models.CharField(max_length=64)
    policy_text = models.TextField()  # the exact text agreed to, kept with the record
    acknowledged_at = models.DateTimeField()

    class Meta:
        ordering = ["acknowledged_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "policy_version"], name="one_acknowledgement_per_policy_version"
            )
        ]

    def __str__(self) -> str:
        return f"E-signature accountability policy {self.policy_version}, acknowledged by {self.user.username}"
