"""The ledger's own invariants, run by ``q2c ledger check`` (registered from ``q2c/wiring.py``).

Each check takes an optional business date (``--as-of``: only entries dated on or before it,
periods starting on or before it) and returns a list of problems, each naming what does not tie
— an entry number, a period, an entity. An empty list means it ties.

- ``ledger.entries_balance``: every entry's debits equal its credits, and it has two lines or more;
- ``ledger.trial_balance_zero``: per entity, all debits equal all credits, in the book currency;
- ``ledger.entries_unchanged``: every entry still matches the digest taken when it was posted;
- ``ledger.closed_periods_unchanged``: every closed period still matches the digest taken at
  close, which is also in the (audit-sealed) ``ledger.period_closed`` event;
- ``ledger.entry_numbers_gapless``: entry numbers run 1…N per entity and year with none missing
  (a deleted entry leaves a hole).

A period close runs them scoped (:data:`AT_CLOSE`, called by the revenue close with the entity
being closed): the entity's sums and numbering whole, its entries outside closed periods digest by
digest, and its closed periods by their line counts and sealed digests without rehashing them —
the full rehash of closed periods and of the entries in them is ``q2c ledger check``'s.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date
from typing import Any

from django.db.models import Count, F, Max, Min, Q, Sum

from q2c.core.money import Money
from q2c.ledger import events as ev
from q2c.ledger.domain import PeriodStatus, entry_digest
from q2c.ledger.models import Book, JournalEntry, JournalLine, Period
from q2c.ledger.services import ENTRY_SEQUENCE, HEAD_FIELDS, LINE_FIELDS, period_snapshots
from q2c.platform.models import Event, NumberCounter
from q2c.platform.registry import Check

_CHUNK = 2000


def _fmt(minor: int, currency: str) -> str:
    try:
        return str(Money.from_minor(int(minor), currency))
    except Exception:  # a tampered currency must not stop the report
        return f"{minor} minor units {currency}"


def _lines(as_of: date | None, entity_id: int | None = None, open_only: bool = False) -> Any:
    qs = JournalLine.objects.all()
    if entity_id is not None:
        qs = qs.filter(entity_id=entity_id)
    if open_only:
        qs = qs.exclude(entry__period__status=PeriodStatus.CLOSED.value)
    return qs.filter(entry__date__lte=as_of) if as_of else qs


def _entries(as_of: date | None, entity_id: int | None = None, open_only: bool = False) -> Any:
    qs = JournalEntry.objects.all()
    if entity_id is not None:
        qs = qs.filter(entity_id=entity_id)
    if open_only:
        qs = qs.exclude(period__status=PeriodStatus.CLOSED.value)
    return qs.filter(date__lte=as_of) if as_of else qs


def entries_balance(
    as_of: date | None = None, *, entity_id: int | None = None, open_only: bool = False
) -> list[str]:
    """``entity_id``: only that entity's entries; ``open_only``: only entries outside closed periods."""
    problems = []
    scope = (entity_id, open_only)
    sums = (
        _lines(as_of, *scope)
        .values("entry_id", "entry__number", "entry__entity_id", "entry__currency")
        .annotate(d=Sum("debit"), c=Sum("credit"), n=Count("id"))
        .filter(~Q(d=F("c")) | Q(n__lt=2))
        .order_by("entry_id")
    )
    for row in sums:
        cur = row["entry__currency"]
        if int(row["n"]) < 2:
            problems.append(
                f"{row['entry__number']} (entity {row['entry__entity_id']}) has {row['n']} line(s)"
            )
        else:
            problems.append(
                f"{row['entry__number']} (entity {row['entry__entity_id']}) does not balance: "
                f"debits {_fmt(row['d'], cur)} ≠ credits {_fmt(row['c'], cur)}"
            )
    for number, entity in (
        _entries(as_of, *scope).filter(lines__isnull=True).values_list("number", "entity_id")
    ):
        problems.append(f"{number} (entity {entity}) has no lines")
    off = (
        _lines(as_of, *scope)
        .exclude(currency=F("entry__currency"))
        .values_list("entry__number", "line_no", "currency", "entry__currency")
    )
    for number, line_no, cur, want in off:
        problems.append(f"{number} line {line_no} is in {cur}, not the entry's currency {want}")
    return problems


def trial_balance_zero(as_of: date | None = None, *, entity_id: int | None = None) -> list[str]:
    problems = []
    currency = dict(Book.objects.values_list("entity_id", "currency"))
    rows = (
        _lines(as_of, entity_id)
        .values("entity_id", "currency")
        .annotate(d=Sum("debit"), c=Sum("credit"))
        .order_by("entity_id", "currency")
    )
    for row in rows:
        entity, cur = row["entity_id"], row["currency"]
        if currency.get(entity) != cur:
            problems.append(
                f"entity {entity} has lines in {cur}, but its book is in {currency.get(entity, 'no currency')}"
            )
        d, c = int(row["d"] or 0), int(row["c"] or 0)
        if d != c:
            problems.append(
                f"trial balance of entity {entity} is off by {_fmt(d - c, cur)}: "
                f"debits {_fmt(d, cur)} ≠ credits {_fmt(c, cur)}"
            )
    return problems


def entries_unchanged(
    as_of: date | None = None, *, entity_id: int | None = None, open_only: bool = False
) -> list[str]:
    """``entity_id``: only that entity's entries; ``open_only``: only entries outside closed periods."""
    problems = []
    heads = _entries(as_of, entity_id, open_only).order_by("id").values_list("id", "digest", *HEAD_FIELDS)
    last_id = 0
    while True:
        chunk = list(heads.filter(id__gt=last_id)[:_CHUNK])
        if not chunk:
            break
        last_id = chunk[-1][0]
        lines: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for entry_id, *values in (
            JournalLine.objects.filter(entry_id__in=[h[0] for h in chunk])
            .order_by("entry_id", "line_no", "id")
            .values_list("entry_id", *LINE_FIELDS)
        ):
            lines[entry_id].append(tuple(values))
        for entry_id, stored, *head in chunk:
            if entry_digest(head, lines[entry_id]) != stored:
                problems.append(
                    f"{head[1]} (entity {head[0]}) was changed after it was posted (its digest no longer matches)"
                )
    return problems


def closed_periods_unchanged(
    as_of: date | None = None, *, entity_id: int | None = None, rehash: bool = True
) -> list[str]:
    """``entity_id``: only that entity's periods. ``rehash=False`` (at a close) recomputes no
    digest: it compares each period's number of lines with the one counted at close, in one
    grouped query, and still compares the stored digest with the one sealed in the close event."""
    problems = []
    closed = Period.objects.filter(status=PeriodStatus.CLOSED.value).order_by("entity_id", "start")
    if entity_id is not None:
        closed = closed.filter(entity_id=entity_id)
    if as_of:
        closed = closed.filter(start__lte=as_of)
    closed_list = list(closed)
    counts: dict[int, int] = {}
    snapshots = period_snapshots(closed_list) if rehash else {}
    if not rehash:
        counts = dict(
            JournalLine.objects.filter(entry__period__in=closed)
            .values_list("entry__period_id")
            .annotate(n=Count("id"))
            .order_by()
        )
    sealed: dict[str, str] = {}
    for agg_id, payload in (
        Event.objects.filter(
            type=ev.PERIOD_CLOSED,
            aggregate_type="ledger.period",
            aggregate_id__in=[str(p.pk) for p in closed_list],
        )
        .order_by("seq")
        .values_list("aggregate_id", "payload")
    ):
        sealed[agg_id] = (payload or {}).get("digest", "")  # the latest close wins
    for period in closed_list:
        if rehash:
            digest, count = snapshots[period.pk]
        else:
            count = counts.get(period.pk, 0)
            digest = period.digest if count == period.line_count else ""
        name = f"period {period.key} of entity {period.entity_id}"
        if digest != period.digest:
            problems.append(
                f"{name} was changed after it was closed ({period.line_count} line(s) at close, {count} now)"
            )
        elif sealed.get(str(period.pk)) != period.digest:
            problems.append(f"{name}: its stored digest differs from the one recorded when it was closed")
    return problems


def entry_numbers_gapless(as_of: date | None = None, *, entity_id: int | None = None) -> list[str]:
    problems = []
    entries, numbers = JournalEntry.objects.all(), NumberCounter.objects.filter(kind=ENTRY_SEQUENCE)
    if entity_id is not None:
        entries, numbers = entries.filter(entity_id=entity_id), numbers.filter(entity_id=entity_id)
    rows = entries.values("entity_id", "year").annotate(n=Count("id"), lo=Min("seq"), hi=Max("seq"))
    if as_of:
        rows = rows.filter(year__lte=as_of.year)
    counters = {(e, y): v for e, y, v in numbers.values_list("entity_id", "year", "next_value")}
    seen = set()
    for row in rows.order_by("entity_id", "year"):
        e, y, n, hi = row["entity_id"], row["year"], row["n"], row["hi"]
        seen.add((e, y))
        taken = counters.get((e, y), 1) - 1
        if n != taken or hi != taken or row["lo"] != 1:
            problems.append(
                f"entity {e}, {y}: {taken} entry number(s) were taken but {n} entries exist "
                f"(numbers {row['lo']}–{hi}): entries are missing"
            )
    for (e, y), next_value in sorted(counters.items()):
        if (e, y) not in seen and next_value > 1 and (as_of is None or y <= as_of.year):
            problems.append(
                f"entity {e}, {y}: {next_value - 1} entry number(s) were taken but no entries exist"
            )
    return problems


CHECKS: tuple[Check, ...] = (
    Check("ledger.entries_balance", entries_balance),
    Check("ledger.trial_balance_zero", trial_balance_zero),
    Check("ledger.entries_unchanged", entries_unchanged),
    Check("ledger.closed_periods_unchanged", closed_periods_unchanged),
    Check("ledger.entry_numbers_gapless", entry_numbers_gapless),
)


#: What a period close runs in place of each registered ledger check, for the entity it closes
#: (the books as they are now). Sums and numbering: the entity's whole ledger, in SQL. Entries:
#: balance and digest of those outside closed periods, the month being closed among them. Closed
#: periods: their line counts and sealed digests; rehashing them (and the entries in them), whose
#: cost grows with the history, is left to ``q2c ledger check``. See docs/ledger.md.
AT_CLOSE: dict[str, Callable[[int], list[str]]] = {
    "ledger.entries_balance": lambda entity_id: entries_balance(entity_id=entity_id, open_only=True),
    "ledger.trial_balance_zero": lambda entity_id: trial_balance_zero(entity_id=entity_id),
    "ledger.entries_unchanged": lambda entity_id: entries_unchanged(entity_id=entity_id, open_only=True),
    "ledger.closed_periods_unchanged": lambda entity_id: closed_periods_unchanged(
        entity_id=entity_id, rehash=False
    ),
    "ledger.entry_numbers_gapless": lambda entity_id: entry_numbers_gapless(entity_id=entity_id),
}
