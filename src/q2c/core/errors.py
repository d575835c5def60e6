"""Domain errors with stable codes.

Every error a person can cause carries a stable machine code (``app.reason``), a message written
for people and, where one field is at fault, that field's name. The API maps the kinds below to
problem+json statuses; the CLI prints the message and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A business rule was broken. ``status`` is the HTTP status the API answers with."""

    status = 422
    default_code = "error"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details or []

    def __str__(self) -> str:
        return self.message

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"code": self.code, "detail": self.message}
        if self.field:
            data["field"] = self.field
        if self.details:
            data["errors"] = self.details
        return data


class ValidationError(DomainError):
    """Input is malformed or out of range (API 422)."""

    status = 422
    default_code = "validation"


class NotFound(DomainError):
    status = 404
    default_code = "not_found"


class Conflict(DomainError):
    """The request clashes with the current state (API 409): stale version, duplicate, race."""

    status = 409
    default_code = "conflict"


class PermissionDenied(DomainError):
    status = 403
    default_code = "forbidden"


class InvalidTransition(Conflict):
    """A state machine was asked for a move its table does not allow (API 409)."""

    default_code = "invalid_transition"
