"""Shared pieces of the catalog use cases: input cleaning, the revision bump, events.

:class:`Cleaner` turns raw input (typed values from the API, or text cells from a CSV/XLSX row)
into typed values, collecting every problem with its field instead of stopping at the first, so
that the API answers all field errors at once and an import reports every bad cell of every row.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from q2c.catalog.errors import CatalogInvalid
from q2c.catalog.models import CatalogRevision
from q2c.core.money import InvalidCurrency, check_currency
from q2c.platform import events

E = TypeVar("E", bound=StrEnum)
CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
MISSING = object()


def touch() -> str:
    """Change the catalog revision token (inside the writer's transaction): cached pricing
    snapshots keyed by the old token are no longer used."""
    token = uuid.uuid4().hex
    updated = CatalogRevision.objects.filter(id=1).update(token=token)
    if not updated:
        CatalogRevision.objects.create(id=1, token=token)
    return token


def revision() -> str:
    row = CatalogRevision.objects.filter(id=1).values_list("token", flat=True).first()
    return row or ""


def actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor
    return str(getattr(actor, "get_username", lambda: "")() or "")


def record(event: str, aggregate: str, aggregate_id: Any, actor: Any, **payload: Any) -> None:
    """Record a catalog change in the event log (type ``catalog.<event>``)."""
    events.record(
        events.DomainEvent(
            type=f"catalog.{event}",
            aggregate_type=f"catalog.{aggregate}",
            aggregate_id=str(aggregate_id),
            payload=payload,
            actor=actor_name(actor),
        )
    )


def split_list(value: Any) -> list[str]:
    """A list from a list or from comma-separated text (CSV cells)."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple | set | frozenset):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def join_list(values: Any) -> str:
    return ",".join(split_list(values))


class Cleaner:
    """Clean one record. ``partial=True`` (PATCH) cleans only the fields given.

    Empty strings count as "not given" (a CSV cell left blank)."""

    def __init__(self, raw: Mapping[str, Any], *, partial: bool = False, prefix: str = "") -> None:
        self.raw = raw
        self.partial = partial
        self.prefix = prefix
        self.out: dict[str, Any] = {}
        self.problems: list[dict[str, Any]] = []

    # --- plumbing -------------------------------------------------------------------------
    def problem(self, field: str, code: str, message: str) -> None:
        self.problems.append({"field": f"{self.prefix}{field}", "code": code, "message": message})

    def _get(self, name: str) -> Any:
        value = self.raw.get(name, MISSING)
        if isinstance(value, str):
            value = value.strip()
            if value == "":
                return None if name in self.raw else MISSING
        return value

    def _skip(self, name: str) -> bool:
        return self.partial and name not in self.raw

    def _missing(self, name: str, value: Any, required: bool) -> bool:
        if value is MISSING or value is None:
            if required and not self.partial:
                self.problem(name, "catalog.required", f"{name} is required")
            elif required and self.partial and name in self.raw:
                self.problem(name, "catalog.required", f"{name} cannot be empty")
            return True
        return False

    def raise_if_any(self, message: str = "") -> None:
        if self.problems:
            first = self.problems[0]
            more = len(self.problems) - 1
            text = message or first["message"]
            if more:
                text += f" (and {more} more problem{'s' if more > 1 else ''})"
            raise CatalogInvalid(text, code=first["code"], field=first["field"], details=self.problems)

    # --- field kinds ----------------------------------------------------------------------
    def text(
        self, name: str, *, required: bool = False, max_len: int = 200, default: str = "", code: bool = False
    ) -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if self._missing(name, value, required):
            if not required or not self.partial:
                self.out[name] = default
            return
        if not isinstance(value, str):
            value = str(value)
        if len(value) > max_len:
            self.problem(name, "catalog.too_long", f"{name} is longer than {max_len} characters")
            return
        if code and not CODE_RE.match(value):
            self.problem(
                name,
                "catalog.invalid_code",
                f"{name} '{value}' may hold letters, digits, '.', '_' and '-' only",
            )
            return
        self.out[name] = value

    def decimal(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        positive: bool = False,
        default: Any = None,
    ) -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if self._missing(name, value, required):
            if not required:
                self.out[name] = default
            return
        if isinstance(value, bool | float):
            self.problem(
                name, "catalog.not_a_number", f"{name}: give numbers as text or integers, not floats"
            )
            return
        try:
            number = value if isinstance(value, Decimal) else Decimal(str(value))
        except InvalidOperation:
            self.problem(name, "catalog.not_a_number", f"{name}: '{value}' is not a number")
            return
        if not number.is_finite():
            self.problem(name, "catalog.not_a_number", f"{name}: '{value}' is not a finite number")
            return
        if positive and number <= 0:
            self.problem(name, "catalog.out_of_range", f"{name} must be above 0")
            return
        if minimum is not None and number < minimum:
            self.problem(name, "catalog.out_of_range", f"{name} must be at least {minimum}")
            return
        if maximum is not None and number > maximum:
            self.problem(name, "catalog.out_of_range", f"{name} must be at most {maximum}")
            return
        self.out[name] = number

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        minimum: int = 0,
        maximum: int | None = None,
        default: Any = None,
    ) -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if self._missing(name, value, required):
            if not required:
                self.out[name] = default
            return
        if isinstance(value, bool | float):
            self.problem(name, "catalog.not_an_integer", f"{name} must be a whole number")
            return
        try:
            number = int(str(value))
        except ValueError:
            self.problem(name, "catalog.not_an_integer", f"{name}: '{value}' is not a whole number")
            return
        if number < minimum or (maximum is not None and number > maximum):
            upper = f" and {maximum}" if maximum is not None else ""
            self.problem(
                name,
                "catalog.out_of_range",
                f"{name} must be between {minimum}{upper}" if upper else f"{name} must be at least {minimum}",
            )
            return
        self.out[name] = number

    def boolean(self, name: str, *, default: bool = False) -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if value is MISSING or value is None:
            self.out[name] = default
            return
        if isinstance(value, bool):
            self.out[name] = value
            return
        text = str(value).strip().lower()
        if text in {"1", "true", "yes", "y"}:
            self.out[name] = True
        elif text in {"0", "false", "no", "n"}:
            self.out[name] = False
        else:
            self.problem(name, "catalog.not_a_boolean", f"{name}: '{value}' is not true or false")

    def day(self, name: str, *, required: bool = False) -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if self._missing(name, value, required):
            self.out[name] = None
            return
        if isinstance(value, datetime):
            self.out[name] = value.date()
            return
        if isinstance(value, date):
            self.out[name] = value
            return
        try:
            if not isinstance(value, str) or len(value) != 10:
                raise ValueError
            self.out[name] = date.fromisoformat(value)
        except ValueError:
            self.problem(
                name, "catalog.invalid_date", f"{name}: '{value}' is not a date in the form YYYY-MM-DD"
            )

    def choice(self, name: str, enum: type[E], *, required: bool = False, default: Any = "") -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if self._missing(name, value, required):
            if not required:
                self.out[name] = default
            return
        try:
            self.out[name] = enum(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(str(m) for m in enum)
            self.problem(name, "catalog.invalid_choice", f"{name}: '{value}' is not one of {allowed}")

    def currency(self, name: str, *, required: bool = False) -> None:
        if self._skip(name):
            return
        value = self._get(name)
        if self._missing(name, value, required):
            self.out[name] = ""
            return
        try:
            self.out[name] = check_currency(str(value).upper())
        except InvalidCurrency:
            self.problem(
                name, "catalog.invalid_currency", f"{name}: '{value}' is not an ISO 4217 currency code"
            )

    def strings(self, name: str, *, upper: bool = False) -> None:
        if self._skip(name):
            return
        value = self.raw.get(name)
        items = split_list(value)
        self.out[name] = [i.upper() for i in items] if upper else items

    # --- cross-field ----------------------------------------------------------------------
    def date_range(self, start: str, end: str, existing: Any = None) -> None:
        lo = self.out.get(start, getattr(existing, start, None) if self.partial else None)
        hi = self.out.get(end, getattr(existing, end, None) if self.partial else None)
        if lo is not None and hi is not None and hi <= lo:
            self.problem(end, "catalog.invalid_range", f"{end} ({hi}) must be after {start} ({lo})")


def merged(cleaner: Cleaner, existing: Any, name: str) -> Any:
    """A field's value after a (partial) update: the new value if given, else the stored one."""
    if name in cleaner.out:
        return cleaner.out[name]
    return getattr(existing, name, None) if existing is not None else None
