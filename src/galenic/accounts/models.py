from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager
from django.db import models
from django.utils import timezone

from galenic.accounts.identity import normalise_user_id, skeleton
from galenic.accounts.roles import Role


class NoDeleteQuerySet(models.QuerySet[Any]):
    """Accounts are deactivated, never deleted: a deleted ID could be reissued (11.100(a))."""

    def delete(self) -> Any:
        raise PermissionError("users are deactivated, never deleted")


class UserManager(BaseUserManager["User"]):
    def get_queryset(self) -> models.QuerySet[User]:
        return NoDeleteQuerySet(self.model, using=self._db)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(username=normalise_user_id(username or ""))

    def create_user(
        self, username: str, full_name: str, password: str | None = None, **extra: Any
    ) -> User:
        # Low-level constructor for tests and migrations only; the audited path is accounts.services.
        user_id = normalise_user_id(username)
        user = self.model(
            username=user_id, id_skeleton=skeleton(user_id), full_name=full_name, **extra
        )
        user.set_password(password)
        user.password_changed_at = user.created_at or timezone.now()
        user.save(using=self._db)
        return user


class User(AbstractBaseUser):
    """A person with a unique, never-reissued ID (11.100(a), 11.300(a)). Deactivated, never deleted."""

    username = models.CharField("user ID", max_length=63, unique=True)
    # Confusable skeleton of the ID: "o1ivia" cannot sit beside "olivia" (11.300(a)).
    id_skeleton = models.CharField(max_length=63, unique=True)
    full_name = models.CharField("printed name", max_length=200)
    email = models.EmailField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    must_change_password = models.BooleanField(default=False)
    failed_attempts = models.PositiveIntegerField(default=0)
    locked_at = models.DateTimeField(null=True, blank=True)
    # 11.100(b): an administrator other than the one who created the account checks who the
    # person is (what was seen is kept) before their electronic signature is issued.
    created_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    identity_verified_at = models.DateTimeField(null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        "self", on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    identity_evidence = models.TextField(blank=True)

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["username"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.username})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.id_skeleton:
            self.id_skeleton = skeleton(self.username)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("users are deactivated, never deleted (their IDs are never reissued)")

    @property
    def is_locked(self) -> bool:
        return self.locked_at is not None

    @property
    def identity_verified(self) -> bool:
        return self.identity_verified_at is not None

    def role_codes(self) -> set[str]:
        """Codes of the roles currently held (revoked grants stay in the table as history)."""
        cache = getattr(self, "_role_cache", None)
        if cache is None:
            from galenic.core.rows import all_rows, connection_for

            # Asked on every request and every signing: SQL written once (core.rows).
            connection = connection_for(RoleGrant)
            table = connection.ops.quote_name(RoleGrant._meta.db_table)
            cache = {
                str(role)
                for (role,) in all_rows(
                    connection,
                    f"SELECT role FROM {table} WHERE user_id = %s AND revoked_at IS NULL",  # noqa: S608
                    [self.pk],
                )
            }
            self._role_cache = cache
        return cache

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_codes() & set(roles))


class RoleGrant(models.Model):
    """One grant of a role. Revoking keeps the row (who, when, why), so access history stays
    readable for periodic review (11.300(b), Annex 11 12.3)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="role_grants")
    role = models.CharField(max_length=32, choices=Role.choices)
    granted_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    granted_at = models.DateTimeField(auto_now_add=True)
    grant_reason = models.TextField(blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    revoke_reason = models.TextField(blank=True)

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["user_id", "role", "granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role"],
                condition=models.Q(revoked_at__isnull=True),
                name="uniq_user_active_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role} for {self.user_id}"


class TrainingRecord(models.Model):
    """Training a person completed (21 CFR 11.10(i), 211.25(a)): a course, usually an SOP at
    its version, when, and until when it counts. A retraining is a new record; a record entered
    in error is withdrawn with a reason (kept, like a revoked role)."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="training")
    course = models.CharField(max_length=64, help_text="e.g. SOP-GRAN-002")
    title = models.CharField(max_length=200, blank=True)
    completed_on = models.DateField()
    valid_until = models.DateField(null=True, blank=True, help_text="empty: does not expire")
    recorded_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    recorded_at = models.DateTimeField()
    note = models.TextField(blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    withdraw_reason = models.TextField(blank=True)

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["user_id", "course", "-completed_on", "-id"]
        indexes = [models.Index(fields=["user", "course"], name="training_user_course_idx")]

    def __str__(self) -> str:
        return f"{self.course} for {self.user_id} ({self.completed_on})"


class AccessReview(models.Model):
    """An administrator's periodic review of one account: is this ID still this person's, and
    are the roles still right (21 CFR 11.300(b), Annex 11 12.3)? Changes found are made with the
    usual services; the review itself records who looked, when and what they concluded."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="access_reviews")
    reviewed_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", null=True)
    reviewed_at = models.DateTimeField()
    roles = models.CharField(max_length=300, help_text="the roles held when reviewed")
    note = models.TextField()

    objects = NoDeleteQuerySet.as_manager()

    class Meta:
        ordering = ["user_id", "-reviewed_at", "-id"]

    def __str__(self) -> str:
        return f"review of {self.user_id} at {self.reviewed_at}"


class PasswordHistory(models.Model):
    """Hashes of earlier passwords, so the last N cannot be reused."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="password_history")
    password_hash = models.CharField(max_length=256)
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-set_at", "-id"]


class UserSession(models.Model):
    """Maps server-side sessions to users so logout, deactivation and lockout end them at once."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    remote_addr = models.CharField(max_length=64, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=32, blank=True)  # logout | deactivated | locked | ...
