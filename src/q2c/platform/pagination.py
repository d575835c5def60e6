"""Pagination for any router: by page number or by cursor (docs/api.md).

Page numbers suit lists people browse and jump around in (``?page=3&page_size=50``, with a
total). Cursors suit clients that walk a whole, growing collection: the cursor remembers the last
row's sort key, so rows inserted meanwhile are neither skipped nor repeated, and each page costs
an index seek instead of an ever larger OFFSET. Cursors are signed (opaque, tamper-evident).

Usage in a ninja endpoint::

    @router.get("/things", response=Page[ThingOut], operation_id="app_list_things")
    def list_things(request, paging: Query[PageParams]):
        require(request, ...)
        return paginate(Thing.objects.order_by("name", "id"), paging)

    @router.get("/events", response=CursorPage[EventOut], operation_id="app_list_events")
    def list_events(request, paging: Query[CursorParams]):
        return paginate_cursor(Event.objects.all(), paging, order_by=("-created_at", "-id"))

Must not import any q2c app; only ``q2c.core`` and ``q2c.platform``.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.core import signing
from django.db.models import Q, QuerySet
from ninja import Field, Schema

from q2c.core.errors import ValidationError

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_CURSOR_SALT = "q2c.platform.pagination.cursor"


class PageParams(Schema):
    page: int = Field(1, ge=1, description="1-based page number")
    page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="rows per page")


class CursorParams(Schema):
    cursor: str | None = Field(None, description="``next_cursor`` of the previous page; empty for the first")
    limit: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="rows per page")


class Page(Schema, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total: int
    pages: int


class CursorPage(Schema, Generic[T]):
    items: list[T]
    limit: int
    next_cursor: str | None = None


def paginate(queryset: QuerySet[Any], params: PageParams) -> dict[str, Any]:
    """One page of an ordered queryset: ``{"items", "page", "page_size", "total", "pages"}``.

    A page past the end is empty (with the total), not an error: the collection may have shrunk
    since the client looked.
    """
    if not queryset.ordered:
        raise RuntimeError("paginate needs an ordered queryset (order_by with a unique last key)")
    total = queryset.count()
    start = (params.page - 1) * params.page_size
    items = list(queryset[start : start + params.page_size]) if start < total else []
    return {
        "items": items,
        "page": params.page,
        "page_size": params.page_size,
        "total": total,
        "pages": max(1, math.ceil(total / params.page_size)),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(values: list[Any]) -> str:
    return signing.dumps([_jsonable(v) for v in values], salt=_CURSOR_SALT, compress=True)


def decode_cursor(cursor: str, width: int) -> list[Any]:
    try:
        values = signing.loads(cursor, salt=_CURSOR_SALT)
    except signing.BadSignature:
        raise ValidationError(
            "the cursor is not one this API issued", code="pagination.invalid_cursor", field="cursor"
        ) from None
    if not isinstance(values, list) or len(values) != width:
        raise ValidationError(
            "the cursor does not fit this list", code="pagination.invalid_cursor", field="cursor"
        )
    return values


def paginate_cursor(
    queryset: QuerySet[Any], params: CursorParams, *, order_by: tuple[str, ...] = ("id",)
) -> dict[str, Any]:
    """One page after ``params.cursor`` in the order ``order_by`` (keyset pagination).

    ``order_by`` names non-null fields, each optionally prefixed with ``-``; the last must be
    unique (``id``) so that the order is total. Returns ``{"items", "limit", "next_cursor"}``;
    ``next_cursor`` is None on the last page.
    """
    if not order_by:
        raise ValueError("order_by needs at least one field")
    fields = [(f[1:], True) if f.startswith("-") else (f, False) for f in order_by]
    queryset = queryset.order_by(*order_by)
    if params.cursor:
        after = decode_cursor(params.cursor, len(fields))
        # (a, b) after (x, y) in lexicographic order: a > x, or a = x and b > y …
        condition = Q()
        for i, (name, descending) in enumerate(fields):
            step = Q(**{f"{name}__{'lt' if descending else 'gt'}": after[i]})
            for j in range(i):
                step &= Q(**{fields[j][0]: after[j]})
            condition |= step
        queryset = queryset.filter(condition)
    rows = list(queryset[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = None
    if more and rows:
        last = rows[-1]
        next_cursor = encode_cursor([getattr(last, name) for name, _ in fields])
    return {"items": rows, "limit": params.limit, "next_cursor": next_cursor}
