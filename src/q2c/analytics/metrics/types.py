"""Plain records the metrics read, the reporting-currency rate table and the metrics' errors.

Owns: the frozen dataclasses that the pure metric functions take (opportunities, quotes, invoices,
payments, credit notes, write-offs, disputes, monthly MRR rows, revenue entries), ``RateTable``
and the range check. Callers (the later ``q2c kpis`` query layer) build these records from the
documents in bulk; nothing here reads a database.

Must not import Django, ``q2c.platform`` or any app: only ``q2c.core``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency, to_decimal


class MetricsError(ValidationError):
    default_code = "analytics.invalid"


class RangeReversed(MetricsError):
    default_code = "analytics.range_reversed"


class NoRate(MetricsError):
    default_code = "analytics.no_rate"


def check_range(start: date, end: date) -> None:
    """Ranges are half-open ``[start, end)``; ``start == end`` is an empty range, not an error."""
    if not isinstance(start, date) or not isinstance(end, date):
        raise MetricsError("a range needs two dates", field="start")
    if end < start:
        raise RangeReversed(f"the range ends ({end}) before it starts ({start})", field="end")


@dataclass(frozen=True, slots=True)
class RateTable:
    """Rates into one reporting currency: ``rates[cur]`` is a list of ``(effective_from, rate)``.

    ``rate`` is how many units of the reporting currency one unit of ``cur`` buys; the rate used on
    a day is the latest one effective on or before that day. The reporting currency converts at 1.
    """

    currency: str
    rates: Mapping[str, Sequence[tuple[date, Decimal]]]

    def __post_init__(self) -> None:
        check_currency(self.currency)
        for cur, history in self.rates.items():
            check_currency(cur)
            for _day, rate in history:
                if to_decimal(rate, field="rate") <= 0:
                    raise MetricsError(f"the rate for {cur} must be positive", field="rates")

    @classmethod
    def fixed(cls, currency: str, rates: Mapping[str, Decimal | str] | None = None) -> RateTable:
        """One rate per currency, valid on every day."""
        return cls(
            currency,
            {cur: [(date.min, to_decimal(r, field="rate"))] for cur, r in (rates or {}).items()},
        )

    def rate(self, currency: str, on: date) -> Decimal:
        check_currency(currency)
        if currency == self.currency:
            return Decimal(1)
        history = sorted(self.rates.get(currency, ()))
        index = bisect_right([d for d, _r in history], on)
        if index == 0:
            raise NoRate(f"no {currency}→{self.currency} rate on or before {on}", field="currency")
        return to_decimal(history[index - 1][1], field="rate")

    def convert(self, money: Money, on: date) -> Money:
        """``money`` in the reporting currency at ``on``'s rate; unrounded (results round once)."""
        if money.currency == self.currency:
            return money
        return Money(money.amount * self.rate(money.currency, on), self.currency)

    def zero(self) -> Money:
        return Money.zero(self.currency)


def _positive(money: Money, field: str) -> None:
    if money.amount <= 0:
        raise MetricsError(f"{field} must be positive", field=field)


class Stage(StrEnum):
    OPEN = "open"
    WON = "won"
    LOST = "lost"


@dataclass(frozen=True, slots=True)
class Opportunity:
    id: int
    account_id: int
    amount: Money
    probability: Decimal  # 0..1, the stage's win probability
    stage: Stage
    created_on: date
    closed_on: date | None = None  # set when won or lost

    def __post_init__(self) -> None:
        p = to_decimal(self.probability, field="probability")
        if not Decimal(0) <= p <= Decimal(1):
            raise MetricsError("probability must be between 0 and 1", field="probability")
        if (self.stage == Stage.OPEN) != (self.closed_on is None):
            raise MetricsError("closed opportunities have a close date, open ones none", field="closed_on")


@dataclass(frozen=True, slots=True)
class Quote:
    id: int
    created_at: datetime
    list_total: Money  # before discounts
    net_total: Money  # after discounts, before tax
    sent_at: datetime | None = None
    accepted_at: datetime | None = None

    def __post_init__(self) -> None:
        stamps = [t for t in (self.created_at, self.sent_at, self.accepted_at) if t is not None]
        if any(t.tzinfo is None for t in stamps):
            raise MetricsError("quote timestamps must be timezone-aware (UTC)", field="created_at")
        if self.accepted_at is not None and self.sent_at is None:
            raise MetricsError("a quote is accepted only after it was sent", field="sent_at")
        if stamps != sorted(stamps):
            raise MetricsError("a quote is created, then sent, then accepted", field="sent_at")


@dataclass(frozen=True, slots=True)
class Invoice:
    id: int
    account_id: int
    issue_date: date
    due_date: date
    total: Money

    def __post_init__(self) -> None:
        if self.due_date < self.issue_date:
            raise MetricsError("an invoice is due on or after its issue date", field="due_date")
        _positive(self.total, "total")


@dataclass(frozen=True, slots=True)
class Payment:
    invoice_id: int
    paid_on: date
    amount: Money

    def __post_init__(self) -> None:
        _positive(self.amount, "amount")


@dataclass(frozen=True, slots=True)
class CreditNote:
    id: int
    invoice_id: int
    issue_date: date
    amount: Money  # positive: what it takes off the invoice

    def __post_init__(self) -> None:
        _positive(self.amount, "amount")


@dataclass(frozen=True, slots=True)
class WriteOff:
    invoice_id: int
    written_off_on: date
    amount: Money

    def __post_init__(self) -> None:
        _positive(self.amount, "amount")


@dataclass(frozen=True, slots=True)
class Dispute:
    id: int
    invoice_id: int
    opened_on: date
    amount: Money
    resolved_on: date | None = None

    def __post_init__(self) -> None:
        _positive(self.amount, "amount")


@dataclass(frozen=True, slots=True)
class MrrRow:
    """One account's MRR for one calendar month (``month`` is the month's first day)."""

    account_id: int
    month: date
    mrr: Money


class RevenueKind(StrEnum):
    BILLED = "billed"
    RECOGNISED = "recognised"


@dataclass(frozen=True, slots=True)
class RevenueEntry:
    """A movement of one contract's revenue position: billed (into deferred) or recognised."""

    contract_id: int
    on: date
    kind: RevenueKind
    amount: Money


@dataclass(frozen=True, slots=True)
class Receivables:
    """Everything the receivables metrics read, in one bundle."""

    invoices: Sequence[Invoice] = ()
    payments: Sequence[Payment] = ()
    credit_notes: Sequence[CreditNote] = ()
    write_offs: Sequence[WriteOff] = ()
