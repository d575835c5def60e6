"""Exchange rates for invoices in a currency other than the entity's: the rate to the entity
currency is captured at issue from the rates table (entered or imported, ``services.set_rate`` /
``services.import_rates``).

The rate used is the latest one dated on or before the issue date and at most
``InvoicingSettings.fx_max_age_days`` old (default 7: a weekend or a holiday is bridged, a stale
table is not). Rates are looked up for the direct pair only (invoice currency → entity currency);
an inverse is never derived, because 1 ÷ rate is rarely a finite decimal. No rate: ``RateMissing``
(``invoicing.rate_missing``) naming the pair and the date.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from decimal import Decimal

from q2c.invoicing.errors import RateMissing
from q2c.invoicing.models import ExchangeRate


def rates_for(
    pairs: Iterable[tuple[str, str]], day: date, *, max_age_days: int = 7
) -> dict[tuple[str, str], tuple[Decimal, date]]:
    """The rate of each (invoice currency, entity currency) pair on ``day``; same-currency pairs are 1.

    Raises ``RateMissing`` naming every pair without a rate (nothing is half-done by the caller).
    """
    wanted = {p for p in pairs if p[0] != p[1]}
    out: dict[tuple[str, str], tuple[Decimal, date]] = {p: (Decimal(1), day) for p in pairs if p[0] == p[1]}
    if not wanted:
        return out
    oldest = day - timedelta(days=max_age_days)
    rows = (
        ExchangeRate.objects.filter(
            base__in={p[0] for p in wanted}, quote__in={p[1] for p in wanted}, day__lte=day, day__gte=oldest
        )
        .order_by("base", "quote", "-day")
        .values_list("base", "quote", "day", "rate")
    )
    for base, quote, when, rate in rows:
        if (base, quote) in wanted and (base, quote) not in out:
            out[(base, quote)] = (Decimal(rate), when)
    missing = sorted(wanted - set(out))
    if missing:
        listed = ", ".join(f"{a}→{b}" for a, b in missing)
        raise RateMissing(
            f"no exchange rate {listed} dated between {oldest} and {day}; enter or import one "
            "(Billing → Exchange rates, or POST /api/v1/invoicing/rates)",
            field="rate",
            details=[
                {"field": "rate", "code": "invoicing.rate_missing", "message": f"{a}→{b} on {day}"}
                for a, b in missing
            ],
        )
    return out
