"""Benchmark of the pure tax engine (``q2c bench tax-engine``).

Times ``compute`` alone — the tax step of quoting and of a bill run, with no database — over N
documents of M lines with the shipped rules and rates (read from the CSV files: setup, reported
apart). The mix: 60 % domestic German supplies (19 %), 20 % to a French business (reverse
charge and intra-Community supplies), 10 % SaaS to French consumers (20 %, Art. 58), 10 % to
Swiss businesses (export and outside the scope). Results are checked document by document
against an independent recomputation written here without the engine: round(Σ net × rate)
half-up per document, or zero.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax``'s pure
modules; registered in ``q2c/wiring.py``.
"""

from __future__ import annotations

import random
import resource
import time
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from q2c.core.money import Money
from q2c.tax.csvio import shipped_ruleset
from q2c.tax.engine import (
    Buyer,
    CustomerKind,
    Location,
    Seller,
    TaxCategory,
    TaxDocument,
    TaxLine,
    compute,
)

DAY = date(2027, 3, 1)
SELLER = Seller("DE", vat_id="DE136457858")
_CASES = (
    # (share, buyer, ship_to, categories, expected rate)
    (
        0.6,
        Buyer("DE", kind=CustomerKind.BUSINESS, vat_id_valid=True),
        None,
        (TaxCategory.SERVICE, TaxCategory.DIGITAL_SERVICE, TaxCategory.GOODS),
        Decimal("0.19"),
    ),
    (
        0.2,
        Buyer("FR", kind=CustomerKind.BUSINESS, vat_id_valid=True),
        Location("FR"),
        (TaxCategory.SERVICE, TaxCategory.GOODS),
        Decimal(0),
    ),
    (0.1, Buyer("FR"), None, (TaxCategory.DIGITAL_SERVICE,), Decimal("0.20")),
    (
        0.1,
        Buyer("CH", kind=CustomerKind.BUSINESS),
        Location("CH"),
        (TaxCategory.SERVICE, TaxCategory.GOODS),
        Decimal(0),
    ),
)


def _pick(x: float) -> tuple[float, Buyer, Location | None, tuple[TaxCategory, ...], Decimal]:
    acc = 0.0
    for case in _CASES:
        acc += case[0]
        if x < acc:
            return case
    return _CASES[-1]


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def bench_tax_engine(documents: int = 10_000, lines: int = 10, seed: int = 5) -> dict[str, Any]:
    rng = random.Random(seed)
    t0 = time.perf_counter()
    rules = shipped_ruleset()
    work: list[tuple[TaxDocument, Decimal]] = []
    for d in range(documents):
        _, buyer, ship_to, categories, rate = _pick(rng.random())
        doc_lines = []
        net_sum = Decimal(0)
        for i in range(lines):
            cents = rng.randint(1, 500_000)
            net_sum += Decimal(cents) / 100
            doc_lines.append(TaxLine(f"{d}-{i}", Money.from_minor(cents, "EUR"), rng.choice(categories)))
        doc = TaxDocument(
            currency="EUR",
            seller=SELLER,
            buyer=buyer,
            tax_date=DAY,
            lines=tuple(doc_lines),
            ship_to=ship_to,
            delivery_date=DAY,
        )
        expected = (net_sum * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        work.append((doc, expected))
    setup = time.perf_counter() - t0

    t1 = time.perf_counter()
    results = [compute(doc, rules) for doc, _ in work]
    seconds = time.perf_counter() - t1

    for (doc, expected), result in zip(work, results, strict=True):
        if result.tax_total.amount != expected:
            raise AssertionError(
                f"document {doc.lines[0].id}: {result.tax_total} != {expected} (independent)"
            )
        if result.warnings:
            raise AssertionError(f"unexpected warning {result.warnings[0]}")
    total = sum((r.tax_total for r in results), Money.zero("EUR"))
    line_count = documents * lines
    return {
        "documents": documents,
        "lines": line_count,
        "seconds": round(seconds, 3),
        "documents_per_s": round(documents / seconds) if seconds else None,
        "lines_per_s": round(line_count / seconds) if seconds else None,
        "tax_total": str(total.amount),
        "setup_s": round(setup, 3),
        "peak_rss_mb": _peak_rss_mb(),
        "checked": True,
    }


# --- q2c bench registration (called from q2c/wiring.py) -------------------------------------------


def add_arguments(parser: Any) -> None:
    parser.add_argument("--documents", type=int, default=10_000, help="documents (default 10,000)")
    parser.add_argument("--lines", type=int, default=10, help="lines per document (default 10)")


def run(**opts: Any) -> dict[str, Any]:
    return bench_tax_engine(int(opts.get("documents") or 10_000), int(opts.get("lines") or 10))
