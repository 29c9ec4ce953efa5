"""Errors that services raise and every interface (API, UI, CLI) turns into a clear message.

Each carries the field it concerns, so a user always learns *which* input was wrong and why.
No stack trace ever reaches a user.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class GalenicError(Exception):
    """Base for errors a user may see. ``status`` is the HTTP status the API answers with."""

    status = 400
    code = "invalid"

    def __init__(
        self, message: str, *, field: str = "", errors: list[FieldError] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors or ([FieldError(field, message)] if field else []))

    @property
    def field(self) -> str:
        return self.errors[0].field if self.errors else ""

    def as_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [e.as_dict() for e in self.errors],
        }


class ValidationFailed(GalenicError):
    status = 400
    code = "invalid"


class NotAuthenticated(GalenicError):
    status = 401
    code = "not_authenticated"


class PermissionDenied(GalenicError):
    status = 403
    code = "forbidden"


class TrainingRequired(PermissionDenied):
    """The person lacks current training the work needs (21 CFR 11.10(i), 211.25(a))."""

    code = "training_required"


class NotFound(GalenicError):
    status = 404
    code = "not_found"


class Conflict(GalenicError):
    """Someone else changed the record first, or the action is not allowed in the current state."""

    status = 409
    code = "conflict"


class ServiceUnavailable(GalenicError):
    """The database (or another service the request needs) cannot be reached: nothing was done."""

    status = 503
    code = "unavailable"


class InsufficientStorage(GalenicError):
    """The server's storage is full: the request was refused and nothing was saved."""

    status = 507
    code = "storage_full"
