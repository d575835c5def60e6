"""Monthly forecasts and their backtests — pure (plain Decimals and dates in and out).

- :func:`smooth` forecasts a monthly series by exponential smoothing (statsmodels' Holt model
  with a damped additive trend from 8 months of history, simple smoothing below that);
- :func:`backtest` measures it honestly: for each of the last 6 months, fit on the months before
  it only, forecast that month, and report the MAPE (mean absolute percentage error; months whose
  actual is 0 are skipped, as a percentage of 0 means nothing);
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
