"""Revenue metrics: recognised revenue in a range and deferred revenue at its close.

Input is each contract's revenue position as entries: billed amounts (which enter deferred revenue)
and recognised amounts (which leave it). Deferred revenue is presented per contract (ASC 606 /
IFRS 15 present a contract as a net liability or a net asset): a contract recognised ahead of its
billing is an unbilled asset, not negative deferred revenue, so it contributes 0.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core`` and this package.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta

from q2c.analytics.metrics.types import RateTable, RevenueEntry, RevenueKind, check_range
from q2c.core.money import Money


def recognised_revenue(entries: Iterable[RevenueEntry], start: date, end: date, rates: RateTable) -> Money:
    """Σ recognised entries dated in ``[start, end)``, each at its own date's rate; rounded once."""
    check_range(start, end)
    total = rates.zero()
    for e in entries:
        if e.kind == RevenueKind.RECOGNISED and start <= e.on < end:
            total += rates.convert(e.amount, e.on)
    return total.round()


def deferred_revenue(entries: Iterable[RevenueEntry], end: date, rates: RateTable) -> Money:
    """Σ over contracts of max(0, billed − recognised), entries dated before ``end`` (i.e. at the
    close of ``end − 1 day``), all converted at that day's rate (a balance, not a flow); rounded once."""
    day = end - timedelta(days=1)
    net: dict[int, Money] = defaultdict(rates.zero)
    for e in entries:
        if e.on <= day:
            amount = rates.convert(e.amount, day)
            net[e.contract_id] += amount if e.kind == RevenueKind.BILLED else -amount
    return sum((m for m in net.values() if m.amount > 0), rates.zero()).round()
