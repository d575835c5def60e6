"""Gapless document numbers.

Numbers are taken inside the caller's transaction: the counter row is locked (``SELECT … FOR
UPDATE`` on PostgreSQL; SQLite's IMMEDIATE transactions serialise writers anyway) and advanced,
so a rollback gives the numbers back and leaves no gap. A caller issuing many documents takes a
block with :func:`take_block` in one short transaction that also writes those documents, so
parallel workers wait on the counter only for that short step, not for their whole work.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction

from q2c.core.errors import ValidationError
from q2c.platform.models import NumberCounter


@dataclass(frozen=True)
class NumberFormat:
    """How a sequence prints: ``INV-2027-000123`` is prefix INV, with year, width 6."""

    prefix: str
    with_year: bool = True
    width: int = 6

    def format(self, value: int, year: int) -> str:
        body = str(value).zfill(self.width)
        return f"{self.prefix}-{year}-{body}" if self.with_year else f"{self.prefix}-{body}"


def _require_transaction() -> None:
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("numbers must be taken inside the issuing transaction")


def take_block(entity_id: int, kind: str, count: int, *, year: int = 0) -> range:
    """Reserve ``count`` consecutive numbers of a sequence; returns them as a range.

    Must run inside the transaction that writes the numbered documents.
    """
    if count < 1:
        raise ValidationError("count must be at least 1", field="count")
    _require_transaction()
    counter = _locked_counter(entity_id, kind, year)
    first = counter.next_value
    NumberCounter.objects.filter(pk=counter.pk).update(next_value=first + count)
    return range(first, first + count)


def take(entity_id: int, kind: str, *, year: int = 0) -> int:
    """The next number of a sequence, inside the caller's transaction."""
    return take_block(entity_id, kind, 1, year=year).start


def _locked_counter(entity_id: int, kind: str, year: int) -> NumberCounter:
    query = NumberCounter.objects.filter(entity_id=entity_id, kind=kind, year=year)
    if connection.features.has_select_for_update:
        query = query.select_for_update()
    counter = query.first()
    if counter is not None:
        return counter
    # First number of this sequence: create the row; a concurrent creator makes us re-read it.
    try:
        with transaction.atomic():
            NumberCounter.objects.create(entity_id=entity_id, kind=kind, year=year, next_value=1)
    except IntegrityError:
        pass
    return query.get()


def peek(entity_id: int, kind: str, *, year: int = 0) -> int:
    """The number the next caller would get (for display; never use it to number a document)."""
    row = NumberCounter.objects.filter(entity_id=entity_id, kind=kind, year=year).first()
    return row.next_value if row else 1
