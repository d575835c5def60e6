"""``q2c bench billing --subscriptions N [--workers W] [--json]``: one bill run over N subscriptions
on the configured database, through the CLI's code path (``q2c bill-run``), writes and postings
included.

Setup (timed apart as ``setup_s``): a new selling entity (DE, ledger book, bank account) and N
customers, each with one subscription schedule due on the bill date 2027-03-01 — 70 % monthly,
20 % yearly, 10 % quarterly, 1–50 seats at 5.00–99.99 a month — in several tax countries: German
businesses (19 %), French and Austrian and Dutch businesses (reverse charge, 0 %), French and
Italian consumers (SaaS at the buyer's rate: 20 %, 22 %). 5 % were amended on 2027-02-15 (+1 to +5
seats): an add-on schedule and its proration (one delta line for the rest of February, billed on
the amendment date) — those customers get two invoices. Schedules and customers are written in
bulk (a benchmark's shortcut; contracts would make them one by one through their handlers).

The run is ``call_command("bill-run", "--as-of", "2027-03-01", "--workers", W, "--json")``. Its
invoices are checked against an independent recomputation written here from the generated data:
the number of invoices, each country's VAT rate applied once per invoice to the sum of its nets,
and the totals per currency; the ledger's receivables must equal the invoices' total.

Registered in ``q2c.wiring``. Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

import json
import random
import resource
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from io import StringIO
from typing import Any

from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum

from q2c.billing.models import Adjustment, Schedule
from q2c.core import clock
from q2c.invoicing.models import Invoice
from q2c.invoicing.services.common import reserve_ids, write_rows
from q2c.ledger.models import Account as LedgerAccount
from q2c.ledger.models import JournalLine
from q2c.parties.models import Account

AS_OF = date(2027, 3, 1)
AMENDED_ON = date(2027, 2, 15)

#: (country, kind, VAT rate applied by the shipped rules to SaaS from a German seller, share).
MIX = (
    ("DE", "business", Decimal(19), 0.50),
    ("FR", "business", Decimal(0), 0.15),
    ("AT", "business", Decimal(0), 0.10),
    ("NL", "business", Decimal(0), 0.05),
    ("FR", "consumer", Decimal(20), 0.15),
    ("IT", "consumer", Decimal(22), 0.05),
)


def add_arguments(parser: Any) -> None:
    parser.add_argument(
        "--subscriptions", type=int, default=10_000, help="subscriptions to bill (default 10,000)"
    )
    parser.add_argument("--workers", type=int, default=1, help="bill-run workers (processes)")
    parser.add_argument("--seed", type=int, default=7)


def _vat_id(country: str, rng: random.Random) -> str:
    """A well-formed VAT number with valid check digits (stdnum decides)."""
    from stdnum.eu import vat

    known = {"DE": "DE812651301", "FR": "FR40303265045"}
    if country in known:
        return known[country]
    for _ in range(100_000):
        body = {"AT": "U" + "".join(rng.choice("0123456789") for _ in range(8)),
                "NL": "".join(rng.choice("0123456789") for _ in range(9)) + "B01"}[country]  # fmt: skip
        candidate = country + body
        if vat.is_valid(candidate):
            return candidate
    raise RuntimeError(f"no valid {country} VAT id found")


def _round_half_up(cents_exact: Fraction) -> int:
    """Cents of an exact amount in currency units, half away from zero."""
    scaled = cents_exact * 100
    whole, rest = divmod(scaled.numerator, scaled.denominator)
    return whole + (1 if 2 * rest >= scaled.denominator else 0)


def _tax_minor(net_minor: int, rate: Decimal) -> int:
    """VAT in cents: round(net × rate), half away from zero (nets here are positive)."""
    return _round_half_up(Fraction(net_minor) * Fraction(rate) / 10_000)


def _cents(x: Decimal) -> int:
    return int(x.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def _seller(tag: str) -> Any:
    from q2c.parties import services as parties

    entity = parties.create_entity(
        actor="bench", name=f"Bench Cloud GmbH {tag}", address_line1="Friedrichstraße 100", postal_code="10117",
        city="Berlin", country="DE", base_currency="EUR", time_zone="Europe/Berlin", tax_id="DE136457858",
        payment_terms_days=30, invoice_prefix="BEN",
    )  # fmt: skip
    parties.add_bank_account(entity.pk, actor="bench", iban="DE89370400440532013000", bic="COBADEFFXXX")
    return entity


def setup(n: int, seed: int) -> dict[str, Any]:
    """Customers and schedules in bulk; returns the independent expectation."""
    rng = random.Random(seed)
    now = clock.now()
    tag = f"{int(time.time())}-{rng.randrange(10**6)}"
    entity = _seller(tag)
    vat_ids = {c: _vat_id(c, rng) for c, k, _, _ in MIX if k == "business"}
    weights = [m[3] for m in MIX]
    expected_minor = 0
    invoices = 0
    with transaction.atomic():
        account_ids = reserve_ids(Account, n)
        account_rows = []
        schedule_rows = []
        amended: list[tuple[int, int, Decimal, Decimal, Decimal, int]] = []
        for i, account_id in enumerate(account_ids):
            country, kind, rate, _ = rng.choices(MIX, weights)[0]
            account_rows.append((
                account_id, entity.pk, f"Customer {tag}-{i}", kind, f"Street {i}", "", "12345", "City", "", country,
                "", "", "", "", "", "", "EUR", vat_ids.get(country, "") if kind == "business" else "", None, "en", "",
                None, None, now, now,
            ))  # fmt: skip
            r = rng.random()
            every, start = (
                (1, date(2026, rng.randint(1, 12), 1))
                if r < 0.7
                else (12, date(2026, 3, 1))
                if r < 0.9
                else (3, date(2026, 12, 1))
            )
            quantity = Decimal(rng.randint(1, 50))
            price = Decimal(rng.randint(500, 9999)) / 100
            schedule_rows.append((
                entity.pk, account_id, 10_000_000 + account_id, f"BENCH-{account_id}", "1", None, "recurring", "active",
                "SEAT", "SEAT — Platform seat", "SUB", "C62", "digital_service", "subscriptions", "EUR", str(quantity),
                str(price), 1, every, 1, start.month, "in_advance", True, "billing_period", start, None, "", None,
                AS_OF, None, now, now,
            ))  # fmt: skip
            # Independent expectation: one whole period of `every` months at the monthly price.
            net = _cents(quantity * price * every)
            invoice_net = net
            if rng.random() < 0.05:
                extra = Decimal(rng.randint(1, 5))
                amended.append((account_id, 10_000_000 + account_id, extra, price, quantity, every))
                # The delta for [02-15, 03-01): 14 of February's 28 days — only for monthly billing,
                # whose current period that is (yearly and quarterly periods started before).
                invoice_net += _cents(extra * price * every)
                # Days in the current billing period: February (28), the year from 2026-03-01 (365),
                # the quarter from 2026-12-01 (90).
                days = {1: 28, 12: 365, 3: 90}[every]
                add_net = _round_half_up(Fraction(extra * price * every) * 14 / days)
                expected_minor += add_net + _tax_minor(add_net, rate)
                invoices += 1
            expected_minor += invoice_net + _tax_minor(invoice_net, rate)
            invoices += 1
        write_rows(Account._meta.db_table, ACCOUNT_COLUMNS, account_rows)
        write_rows(Schedule._meta.db_table, SCHEDULE_COLUMNS, schedule_rows)
        _amend(entity.pk, amended, now)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # explicit ids: move the identity past them
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('parties_account', 'id'), (SELECT MAX(id) FROM parties_account))"
                )
    return {
        "entity_id": entity.pk,
        "expected_minor": expected_minor,
        "invoices": invoices,
        "amended": len(amended),
    }


def _amend(entity_id: int, amended: list[tuple[int, int, Decimal, Decimal, Decimal, int]], now: Any) -> None:
    """Add-on schedules from 2027-02-15 and their proration, as the amendment handler would."""
    from q2c.billing import engine
    from q2c.billing.services import recurring_charge

    rows = []
    for account_id, contract_id, extra, price, _, every in amended:
        start = date(2026, 3, 1) if every == 12 else date(2026, 12, 1) if every == 3 else date(2027, 2, 1)
        rows.append((
            entity_id, account_id, contract_id, f"BENCH-{account_id}", "A1.1", 1, "recurring", "active", "SEAT",
            "SEAT — Platform seat", "SUB", "C62", "digital_service", "subscriptions", "EUR", str(extra), str(price), 1,
            every, 1, start.month, "in_advance", True, "billing_period", AMENDED_ON, None, "", None, AS_OF, None, now, now,
        ))  # fmt: skip
    write_rows(Schedule._meta.db_table, SCHEDULE_COLUMNS, rows)
    ids = dict(Schedule.objects.filter(entity_id=entity_id, line_key="A1.1").values_list("account_id", "id"))
    adjustments = []
    for account_id, _, extra, price, quantity, every in amended:
        base = Schedule.objects.model(id=ids[account_id], start=date(2026, 3, 1) if every == 12 else date(2026, 12, 1) if every == 3 else date(2027, 2, 1),
                                      end=None, every_months=every, timing="in_advance", anchor_day=1, anchor_month=(3 if every == 12 else 12 if every == 3 else 2),
                                      prorate_partial=True, stub_basis="billing_period")  # fmt: skip
        period, basis = engine.billing_period_at(recurring_charge(base), AMENDED_ON)
        p = price * every
        result = engine.amend(schedule_id=ids[account_id], currency="EUR", period=period, effective=AMENDED_ON,
                              old=engine.LineTerms(quantity, p), new=engine.LineTerms(quantity + extra, p), basis=basis)  # fmt: skip
        for line in result.lines:
            adjustments.append(
                Adjustment(
                    schedule_id=ids[account_id],
                    effective=AMENDED_ON,
                    part=line.key.part,
                    kind=line.kind.value,
                    bill_date=result.bill_date,
                    service_start=AMENDED_ON,
                    service_end=period.end,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    numerator=line.numerator,
                    denominator=line.denominator,
                    amount_minor=line.amount.minor_units(),
                    currency="EUR",
                    description=f"SEAT — Platform seat (prorated {line.numerator}/{line.denominator})",
                    amendment_number=1,
                    created_at=now,
                )
            )
    Adjustment.objects.bulk_create(adjustments, batch_size=2000)


ACCOUNT_COLUMNS = (
    "id", "entity_id", "name", "kind", "billing_line1", "billing_line2", "billing_postal_code", "billing_city",
    "billing_region", "country", "shipping_line1", "shipping_line2", "shipping_postal_code", "shipping_city",
    "shipping_region", "shipping_country", "currency", "tax_id", "payment_terms_days", "locale", "invoice_email",
    "parent_id", "owner_id", "created_at", "updated_at",
)  # fmt: skip
SCHEDULE_COLUMNS = (
    "entity_id", "account_id", "contract_id", "contract_number", "line_key", "amendment_number", "kind", "status",
    "sku", "description", "charge", "unit_code", "tax_category", "revenue_category", "currency", "quantity",
    "unit_price", "price_months", "every_months", "anchor_day", "anchor_month", "timing", "prorate_partial",
    "stub_basis", "start", "end", "trigger", "trigger_on", "billed_through", "terms_days", "created_at", "updated_at",
)  # fmt: skip


def _peak_rss_mb() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return round(max(own, children) / 1024, 1)


def run(subscriptions: int = 10_000, workers: int = 1, seed: int = 7, **_: Any) -> dict[str, Any]:
    t0 = time.perf_counter()
    with clock.use(clock.SimulationClock(AS_OF - timedelta(days=1), default_tz="Europe/Berlin")):
        made = setup(subscriptions, seed)
    setup_s = time.perf_counter() - t0

    out = StringIO()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    t1 = time.perf_counter()
    call_command("bill-run", "--as-of", AS_OF.isoformat(), "--workers", str(workers), "--json", stdout=out)
    seconds = time.perf_counter() - t1
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_s = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    summary = json.loads(out.getvalue())

    entity_id = made["entity_id"]
    mine = Invoice.objects.filter(entity_id=entity_id)
    count = mine.count()
    total = int(mine.aggregate(t=Sum("total_minor"))["t"] or 0)
    ar = LedgerAccount.objects.get(entity_id=entity_id, key="ar")
    ledger = JournalLine.objects.filter(entity_id=entity_id, account=ar).aggregate(
        d=Sum("debit_minor"), c=Sum("credit_minor")
    )
    receivables = int(ledger["d"] or 0) - int(ledger["c"] or 0)
    problems = []
    if count != made["invoices"]:
        problems.append(f"invoices {count} ≠ expected {made['invoices']}")
    if total != made["expected_minor"]:
        problems.append(f"total {total} ≠ expected {made['expected_minor']} (minor units)")
    if receivables != total:
        problems.append(f"receivables {receivables} ≠ invoices {total}")
    if summary.get("errors"):
        problems.append(f"{len(summary['errors'])} accounts not billed: {summary['errors'][:3]}")
    return {
        "subscriptions": subscriptions,
        "invoices": count,
        "seconds": round(seconds, 3),
        "invoices_per_s": round(count / seconds) if seconds else None,
        "setup_s": round(setup_s, 3),
        "peak_rss_mb": _peak_rss_mb(),
        "workers": workers,
        "backend": connection.vendor,
        "amended": made["amended"],
        "total_eur": str(Decimal(total).scaleb(-2)),
        "cpu_s": round(cpu_s, 3),
        "phases": summary.get("timings", {}),
        "checked": "ok" if not problems else "; ".join(problems),
    }
