"""Errors of the revenue engine: each a ``q2c.core.errors.ValidationError`` with a stable code.

Every error names the field at fault (a JSON path such as ``obligations[2].end`` when the input
came from the preview format) so that the CLI and the API can point at it. Must not import Django.
"""

from __future__ import annotations

from q2c.core.errors import ValidationError


class RevenueInputError(ValidationError):
    """The contract as described cannot be accounted for: the message says why and where."""

    default_code = "revenue.invalid"


def at(path: str, field: str | None) -> str:
    """Join a location prefix and a field name into one path (``obligations[0]`` + ``end``)."""
    if not path:
        return field or ""
    if not field:
        return path
    if field.startswith("["):
        return f"{path}{field}"
    return f"{path}.{field}"
