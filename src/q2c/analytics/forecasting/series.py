"""Monthly forecasts and their backtests — pure (plain Decimals and dates in and out).

- :func:`smooth` forecasts a monthly series by exponential smoothing (statsmodels' Holt model
  with a damped additive trend from 8 months of history, simple smoothing below that);
- :func:`backtest` measures it honestly: for each of the last 6 months, fit on the months before
  it only, forecast that month, and report the MAPE (mean absolute percentage error; months whose
  actual is 0 are skipped, as a percentage of 0 means nothing);
- :func:`contracted_as_of` is the contracted MRR of a month as known on its first day (the
  revenue backtest's contracted part: schedules billing created before that day);
- :func:`expected_collections` is the per-customer payment-delay model of the cash forecast:
  each open invoice is expected on its due date plus its customer's mean delay over their paid
  invoices (the mean of all customers when a customer has paid nothing yet, 0 with no history).

Amounts are Decimal; the smoothing itself works in floats (statsmodels) and its output is
quantised to cents once, here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

CENT = Decimal("0.01")
BACKTEST_MONTHS = 6
MIN_FIT = 3  # months of history before a forecast is made at all
TREND_FROM = 8


class TooShort(Exception):
    """Too little history to forecast or backtest; ``str()`` says how much is missing."""


def _q(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(CENT, rounding=ROUND_HALF_EVEN)


def smooth(history: Sequence[Decimal], horizon: int) -> list[Decimal]:
    """Forecast the ``horizon`` months after ``history`` (oldest first)."""
    import warnings

    from statsmodels.tsa.holtwinters import ExponentialSmoothing, SimpleExpSmoothing

    if len(history) < MIN_FIT:
        raise TooShort(f"{len(history)} months of history; at least {MIN_FIT} are needed")
    y = [float(v) for v in history]
    if len(set(y)) == 1:  # a constant series: nothing to smooth (statsmodels warns on it)
        return [history[-1].quantize(CENT)] * horizon
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if len(y) >= TREND_FROM:
            fitted = ExponentialSmoothing(
                y, trend="add", damped_trend=True, initialization_method="estimated"
            ).fit()
        else:
            fitted = SimpleExpSmoothing(y, initialization_method="estimated").fit()
        return [_q(float(v)) for v in fitted.forecast(horizon)]


def mape(actuals: Sequence[Decimal], forecasts: Sequence[Decimal]) -> Decimal | None:
    """Mean of |actual − forecast| / |actual| in percent, over the non-zero actuals (None: none)."""
    parts = [abs(a - f) / abs(a) for a, f in zip(actuals, forecasts, strict=True) if a != 0]
    if not parts:
        return None
    return (sum(parts, Decimal(0)) / len(parts) * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class Backtest:
    months: int
    actuals: tuple[Decimal, ...]
    forecasts: tuple[Decimal, ...]
    mape: Decimal | None


def backtest(
    history: Sequence[Decimal],
    months: int = BACKTEST_MONTHS,
    forecaster: Callable[[Sequence[Decimal], int], list[Decimal]] = smooth,
) -> Backtest:
    """One-month-ahead forecasts of each of the last ``months`` months, each from the months
    before it only."""
    if len(history) < months + MIN_FIT:
        raise TooShort(
            f"{len(history)} months of history; a {months}-month backtest needs {months + MIN_FIT}"
        )
    actuals = tuple(history[-months:])
    forecasts = tuple(forecaster(history[: len(history) - months + i], 1)[0] for i in range(months))
    return Backtest(months, actuals, forecasts, mape(actuals, forecasts))


@dataclass(frozen=True)
class PaidItem:
    customer: int
    due: date
    paid: date


@dataclass(frozen=True)
class OpenItem:
    customer: int
    due: date
    open_amount: Decimal


def delays(paid: Iterable[PaidItem]) -> tuple[dict[int, Decimal], Decimal]:
    """Each customer's mean days paid after the due date (negative: early), and everyone's."""
    per: dict[int, list[int]] = defaultdict(list)
    for item in paid:
        per[item.customer].append((item.paid - item.due).days)
    every = [d for ds in per.values() for d in ds]
    overall = Decimal(sum(every)) / len(every) if every else Decimal(0)
    return {c: Decimal(sum(ds)) / len(ds) for c, ds in per.items()}, overall


def expected_collections(
    open_items: Iterable[OpenItem], paid: Iterable[PaidItem], today: date
) -> list[tuple[date, Decimal]]:
    """(expected payment date, amount) of each open item; dates in the past move to ``today``."""
    per, overall = delays(paid)
    out = []
    for item in open_items:
        delay = per.get(item.customer, overall)
        expected = item.due + timedelta(days=int(delay.to_integral_value(rounding=ROUND_HALF_EVEN)))
        out.append((max(expected, today), item.open_amount))
    return out


def by_month(dated: Iterable[tuple[date, Decimal]]) -> dict[date, Decimal]:
    """Sum amounts per first day of month."""
    out: dict[date, Decimal] = defaultdict(lambda: Decimal(0))
    for day, amount in dated:
        out[day.replace(day=1)] += amount
    return dict(out)


@dataclass(frozen=True)
class PipelineItem:
    """An open deal: its weighted value (TCV × the stage's probability), when it is expected to
    close (None: not said) and the term its revenue runs over."""

    weighted: Decimal
    close: date | None
    term_months: int = 12


def pipeline_by_month(items: Iterable[PipelineItem], today: date, months: Sequence[date]) -> list[Decimal]:
    """The weighted pipeline's revenue in each of ``months`` (first days): each deal's weighted
    value spread evenly over its term from the month after its expected close date; a deal with
    no close date, or one already past, is taken to close this month (revenue from next month)."""
    this_month = today.replace(day=1)
    per: dict[date, Decimal] = defaultdict(Decimal)
    wanted = set(months)
    for item in items:
        term = max(1, item.term_months)
        close = item.close if item.close is not None and item.close >= today else today
        start = _add_months(close.replace(day=1), 1)
        start = max(start, _add_months(this_month, 1))
        monthly = item.weighted / term
        for k in range(term):
            month = _add_months(start, k)
            if month in wanted:
                per[month] += monthly
    return [per.get(m, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_EVEN) for m in months]


@dataclass(frozen=True)
class ContractedSchedule:
    """A recurring schedule's contracted run rate (quantity × unit price ÷ months per price
    period; negative for a reduction), the days it runs (``end`` exclusive, None: open) and the
    day it became known: the day billing created it — on the contract's signature, which
    activates it, or on the application of the amendment whose delta it bills."""

    account: int
    monthly: Decimal
    start: date
    end: date | None
    known: date


def contracted_as_of(
    schedules: Iterable[ContractedSchedule], month: date, known_by: date | None = None
) -> Decimal:
    """The contracted MRR of ``month`` (a first day) as a forecast made on ``known_by`` (default:
    that first day) saw it: the schedules known before that day that run on the month's last day
    (``start ≤ last day < end``), summed per account, an account's negative sum counting as 0
    (the MRR KPI's rule)."""
    last_day = _add_months(month, 1) - timedelta(days=1)
    by = month if known_by is None else known_by
    per: dict[int, Decimal] = defaultdict(Decimal)
    for s in schedules:
        if s.known < by and s.start <= last_day and (s.end is None or s.end > last_day):
            per[s.account] += s.monthly
    return sum((max(v, Decimal(0)) for v in per.values()), Decimal(0)).quantize(
        CENT, rounding=ROUND_HALF_EVEN
    )


def _add_months(first: date, k: int) -> date:
    y, m = divmod(first.month - 1 + k, 12)
    return date(first.year + y, m + 1, 1)


@dataclass(frozen=True)
class IssuedInvoice:
    id: int
    customer: int
    issued: date
    due: date
    total: Decimal


@dataclass(frozen=True)
class Settlement:
    """Money that took an amount off an invoice: a payment (``payment``) or a credit note or
    write-off."""

    invoice: int
    on: date
    amount: Decimal
    payment: bool = True


def cash_as_of(invoices: Sequence[IssuedInvoice], settlements: Sequence[Settlement], start: date) -> Decimal:
    """What the cash forecast made on ``start`` (a month's first day) expected from the open
    receivables of that day within that month: the invoices issued before it, less what was
    settled before it, each expected on its due date + its customer's mean delay over the
    invoices fully settled by payments before it (dates in the past move to ``start``)."""
    end = _add_months(start, 1)
    settled: dict[int, Decimal] = defaultdict(Decimal)
    last_paid: dict[int, date] = {}
    for s in settlements:
        if s.on >= start:
            continue
        settled[s.invoice] += s.amount
        if s.payment:
            last_paid[s.invoice] = max(last_paid.get(s.invoice, s.on), s.on)
    open_items, paid_items = [], []
    for inv in invoices:
        if inv.issued >= start:
            continue
        left = inv.total - settled.get(inv.id, Decimal(0))
        if left > 0:
            open_items.append(OpenItem(inv.customer, inv.due, left))
        elif inv.id in last_paid:
            paid_items.append(PaidItem(inv.customer, inv.due, last_paid[inv.id]))
    return sum(
        (amount for day, amount in expected_collections(open_items, paid_items, start) if day < end),
        Decimal(0),
    ).quantize(CENT, rounding=ROUND_HALF_EVEN)


def composed_cash_backtest(
    invoices: Sequence[IssuedInvoice],
    settlements: Sequence[Settlement],
    billings: Callable[[date], Decimal],
    months: Sequence[date],
    backtested: int = BACKTEST_MONTHS,
) -> Backtest:
    """The composed cash forecast backtested: for each of the last ``backtested`` of ``months``
    (first days of complete months, oldest first), the open receivables of its first day expected
    within it (:func:`cash_as_of`) + ``billings(month)`` (what the forecast expects to collect
    from the month before's billing), against the payments received in it."""
    if len(months) < backtested + MIN_FIT:
        raise TooShort(
            f"{len(months)} months of history; a {backtested}-month backtest needs {backtested + MIN_FIT}"
        )
    received: dict[date, Decimal] = defaultdict(Decimal)
    for s in settlements:
        if s.payment:
            received[s.on.replace(day=1)] += s.amount
    tested = list(months[-backtested:])
    actuals = tuple(received.get(m, Decimal(0)).quantize(CENT) for m in tested)
    forecasts = tuple(cash_as_of(invoices, settlements, m) + billings(m) for m in tested)
    return Backtest(backtested, actuals, forecasts, mape(actuals, forecasts))
