"""Exchange rates: enter one, or import a CSV of them (``base,quote,day,rate[,source]``).

A rate is the number of ``quote`` units one ``base`` unit buys (1 USD = 0.92 EUR is
``USD,EUR,2027-03-01,0.92``). A rate once used by an issued invoice is captured on it, so
changing a rate never changes an invoice; entering the same pair and day again replaces the rate
for invoices issued afterwards. An import is all or nothing: every row is checked first.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.core.money import check_currency, to_decimal
from q2c.invoicing import errors
from q2c.invoicing import events as ev
from q2c.invoicing.models import ExchangeRate
from q2c.invoicing.services import common
from q2c.platform import events
from q2c.platform.events import DomainEvent

MAX_ROWS = 50_000


def _check(base: Any, quote: Any, day: Any, rate: Any, where: str = "") -> tuple[str, str, date, Decimal]:
    b = check_currency(str(base).strip().upper()) if isinstance(base, str) else check_currency(base)
    q = check_currency(str(quote).strip().upper()) if isinstance(quote, str) else check_currency(quote)
    if b == q:
        raise errors.InvalidInvoice(
            "a rate converts between two different currencies",
            code=errors.INVALID_RATE,
            field=f"{where}quote",
        )
    if isinstance(day, str):
        day = clock.parse_date(day.strip(), field=f"{where}day")
    if not isinstance(day, date):
        raise errors.InvalidInvoice("the day is a date", code=errors.INVALID_RATE, field=f"{where}day")
    try:
        value = to_decimal(rate, field=f"{where}rate")
    except (TypeError, ValidationError):
        raise errors.InvalidInvoice(
            f"'{rate}' is not a decimal rate", code=errors.INVALID_RATE, field=f"{where}rate"
        ) from None
    if value <= 0 or value.as_tuple().exponent < -12:  # type: ignore[operator]
        raise errors.InvalidInvoice(
            "a rate is above zero with at most 12 decimals", code=errors.INVALID_RATE, field=f"{where}rate"
        )
    return b, q, day, value


def set_rate(
    base: str, quote: str, day: date | str, rate: Decimal | str, *, source: str = "manual", actor: Any = None
) -> ExchangeRate:
    """Enter (or replace) the rate of a pair on a day. Errors: ``invoicing.invalid_rate``, ``money.invalid_currency``."""
    b, q, d, value = _check(base, quote, day, rate)
    who = common.actor_name(actor)
    with transaction.atomic():
        row, _ = ExchangeRate.objects.update_or_create(
            base=b,
            quote=q,
            day=d,
            defaults={"rate": value, "source": source[:60], "created_at": clock.now(), "created_by": who},
        )
        events.record(
            DomainEvent(
                ev.RATE_SET,
                "invoicing.rate",
                row.pk,
                {"base": b, "quote": q, "day": d, "rate": value, "source": source},
                actor=who,
            )
        )
    return row


def import_rates(text: str, *, source: str = "import", actor: Any = None) -> int:
    """Import ``base,quote,day,rate`` rows (a header line is allowed); returns the rows stored.

    All or nothing: errors name the line (``line 4: …``) and nothing is stored.
    """
    reader = csv.reader(io.StringIO(text))
    parsed: list[tuple[str, str, date, Decimal]] = []
    problems: list[dict[str, str]] = []
    for n, row in enumerate(reader, start=1):
        if not row or (row[0].strip().startswith("#")):
            continue
        if n == 1 and row[0].strip().lower() == "base":
            continue
        if len(row) < 4:
            problems.append(
                {"field": f"line {n}", "code": errors.INVALID_RATE, "message": "expected base,quote,day,rate"}
            )
            continue
        try:
            parsed.append(_check(row[0], row[1], row[2], row[3].strip(), where=f"line {n}."))
        except ValidationError as exc:
            problems.append({"field": exc.field or f"line {n}", "code": exc.code, "message": exc.message})
        if len(parsed) > MAX_ROWS:
            raise errors.InvalidInvoice(
                f"at most {MAX_ROWS} rates per import", code=errors.INVALID_RATE, field="file"
            )
    if problems:
        raise errors.InvalidInvoice(
            f"{len(problems)} row(s) are wrong; nothing was imported: "
            + "; ".join(f"{p['field']}: {p['message']}" for p in problems[:5]),
            code=errors.INVALID_RATE,
            field=problems[0]["field"],
            details=problems,
        )
    who = common.actor_name(actor)
    now = clock.now()
    with transaction.atomic():
        for b, q, d, value in parsed:
            ExchangeRate.objects.update_or_create(
                base=b,
                quote=q,
                day=d,
                defaults={"rate": value, "source": source[:60], "created_at": now, "created_by": who},
            )
        events.record(
            DomainEvent(
                ev.RATE_SET, "invoicing.rate", "import", {"rows": len(parsed), "source": source}, actor=who
            )
        )
    return len(parsed)
