"""``q2c bench quote-preview --lines N``: the quote builder's live repricing and its save.

Setup (timed apart, ``setup_s``): Acme Cloud selling to Northwind with the catalog of the
reference scenario (SEAT 30.00 a month, ONB 5,000.00, EDGE 2,000.00), a sales rep, and a quote.
Each timed iteration draws a fresh set of N lines (SKU, quantity 1–100, manual discount 0–30 %)
and runs ``services.preview`` — what ``POST /api/v1/quotes/quotes/{id}/preview`` runs after its
role check: the row-level access check, input checks, the catalog engine at the owner's limit,
the catalog ids of each line and the approval rules — then ``services.update_quote`` with the
same lines (the save: repricing, lines written in bulk, events). The previewed TCV is checked
against an independent recomputation with fractions (list price × quantity × (1 − discount),
rounded to the cent per line, × 12 for the monthly SEAT). Everything runs in a transaction that
is rolled back: the database is left as it was.

Registered in ``q2c/wiring.py``. Imports only the quotes app and the layers below it.
"""

from __future__ import annotations

import random
import statistics
import time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

PRICES = {"SEAT": Fraction(30), "ONB": Fraction(5000), "EDGE": Fraction(2000)}
MONTHS = {"SEAT": 12, "ONB": 1, "EDGE": 1}


class _Rollback(Exception):
    pass


def add_arguments(parser: Any) -> None:
    parser.add_argument("--lines", type=int, default=50, help="lines per quote (default 50)")
    parser.add_argument("--iterations", type=int, default=30, help="timed runs (default 30)")
    parser.add_argument("--seed", type=int, default=7)


def _cents(value: Fraction) -> Fraction:
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return Fraction(exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _expected_tcv(lines: list[dict[str, Any]]) -> Decimal:
    total = Fraction(0)
    for line in lines:
        discount = Fraction(line["discount"]["percent"]) if line.get("discount") else Fraction(0)
        net = _cents(PRICES[line["sku"]] * int(line["quantity"]) * (1 - discount / 100))
        total += net * MONTHS[line["sku"]]
    return Decimal(total.numerator) / Decimal(total.denominator)


def _setup() -> tuple[Any, Any]:
    from q2c.catalog import services as catalog
    from q2c.parties import services as parties
    from q2c.quotes import services

    entity = parties.create_entity(
        actor="bench",
        name="Bench Cloud GmbH",
        country="DE",
        base_currency="EUR",
        time_zone="Europe/Berlin",
        quote_prefix="BQ",
        contract_prefix="BCON",
        order_prefix="BORD",
        invoice_prefix="BINV",
        credit_note_prefix="BCN",
    )
    account = parties.create_account(actor="bench", entity_id=entity.pk, name="Bench Northwind", country="DE")
    book = "BENCH-EUR"
    catalog.create_price_book({"code": book, "name": "Bench list", "currency": "EUR"})
    for sku, kind, unit, charge in (
        ("SEAT", "subscription", "seat", {"code": "SUB", "kind": "recurring", "billing_period": "month"}),
        ("ONB", "service", "each", {"code": "FEE", "kind": "one_time"}),
        ("EDGE", "good", "each", {"code": "UNIT", "kind": "one_time"}),
    ):
        bench_sku = f"BENCH-{sku}"
        catalog.create_product({"sku": bench_sku, "name": sku, "type": kind, "unit": unit})
        catalog.create_charge({"sku": bench_sku, **charge})
        catalog.create_price_entry(
            {
                "price_book": book,
                "sku": bench_sku,
                "charge": charge["code"],
                "model": "per_unit",
                "price": str(PRICES[sku]),
            }
        )
    rep = get_user_model().objects.create_user("bench-rep")
    rep.groups.add(Group.objects.get_or_create(name="sales_rep")[0])
    opp = services.create_opportunity(actor=rep, account_id=account.pk, name="bench")
    quote = services.create_quote(actor=rep, opportunity_id=opp.pk, price_book=book)
    return rep, quote


def run(lines: int = 50, iterations: int = 30, seed: int = 7, **_: Any) -> dict[str, Any]:
    from q2c.quotes import services

    rng = random.Random(seed)
    result: dict[str, Any] = {"lines": lines, "iterations": iterations}
    try:
        with transaction.atomic():
            started = time.perf_counter()
            rep, quote = _setup()
            result["setup_s"] = round(time.perf_counter() - started, 3)
            previews: list[float] = []
            saves: list[float] = []
            lock = quote.lock_version
            for _i in range(iterations):
                batch = []
                for n in range(lines):
                    sku = rng.choice(list(PRICES))
                    line: dict[str, Any] = {
                        "key": f"L{n + 1}",
                        "sku": f"BENCH-{sku}",
                        "quantity": str(rng.randint(1, 100)),
                    }
                    discount = rng.randint(0, 30)
                    if discount:
                        line["discount"] = {"percent": str(discount)}
                    batch.append(line)
                t0 = time.perf_counter()
                answer = services.preview(actor=rep, quote_id=quote.pk, lines=batch)
                previews.append(time.perf_counter() - t0)
                plain = [{**b, "sku": b["sku"].removeprefix("BENCH-")} for b in batch]
                expected = _expected_tcv(plain)
                got = Decimal(answer["pricing"]["totals"]["tcv"])
                if got != expected:
                    raise AssertionError(f"preview TCV {got} differs from the recomputation {expected}")
                t0 = time.perf_counter()
                saved = services.update_quote(quote.pk, actor=rep, lock_version=lock, lines=batch)
                saves.append(time.perf_counter() - t0)
                lock = saved.lock_version
            result["preview_p50_ms"] = round(statistics.median(previews) * 1000, 1)
            result["preview_max_ms"] = round(max(previews) * 1000, 1)
            result["save_p50_ms"] = round(statistics.median(saves) * 1000, 1)
            result["save_max_ms"] = round(max(saves) * 1000, 1)
            result["checked"] = "TCV equals the independent recomputation in every iteration"
            raise _Rollback
    except _Rollback:
        pass
    return result
