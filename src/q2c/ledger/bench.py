"""``q2c bench ledger-post``: bulk posting through ``services.post_many``, writes included.

Generates ``--entries`` invoice-like entries (Dr receivable = Cr revenue + Cr tax, random
amounts in minor units) for a scratch entity, posts them in batches of ``--batch`` and reports
entries per second and the SQL statements per batch (which must not grow with the batch). The run
is rolled back at the end, so the database is left as it was. Setup (opening the scratch book,
generating drafts) is timed apart. The result is checked against an independent recomputation:
the generator's own sums of the amounts against the trial balance the ledger's SQL computes.

Registered in ``q2c/wiring.py``. Must not import any q2c app other than ``q2c.core``,
``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

import random
import time
from datetime import date
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.test.utils import CaptureQueriesContext

from q2c.core.money import Money
from q2c.ledger import chart, queries, services
from q2c.ledger.checks import entries_balance
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from q2c.ledger.models import Book


class _Rollback(Exception):
    pass


def add_arguments(parser: Any) -> None:
    parser.add_argument("--entries", type=int, default=20_000, help="entries to post (default 20,000)")
    parser.add_argument("--batch", type=int, default=1_000, help="entries per post_many call (default 1,000)")
    parser.add_argument("--seed", type=int, default=4)


def run(entries: int = 20_000, batch: int = 1_000, seed: int = 4, **_: Any) -> dict[str, Any]:
    rng = random.Random(seed)
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            t0 = time.perf_counter()
            entity_id = (Book.objects.aggregate(m=Max("entity_id"))["m"] or 0) + 1_000_000
            services.open_book(entity_id, "EUR", name="bench")
            tax_key = services.tax_payable_account(entity_id, "BENCH-19").key
            assert tax_key is not None
            drafts = []
            gross_total = net_total = tax_total = 0
            for i in range(entries):
                net = rng.randint(100, 500_000)
                tax = net * 19 // 100
                gross_total, net_total, tax_total = gross_total + net + tax, net_total + net, tax_total + tax
                day = date(2027, 1 + i % 12, 1 + i % 28)
                drafts.append(
                    EntryDraft(
                        entity_id=entity_id,
                        date=day,
                        description=f"bench invoice {i}",
                        source=SourceRef("bench", "invoice", i),
                        lines=(
                            DraftLine.dr(chart.AR, Money.from_minor(net + tax, "EUR")),
                            DraftLine.cr(chart.revenue("subscriptions"), Money.from_minor(net, "EUR")),
                            DraftLine.cr(tax_key, Money.from_minor(tax, "EUR")),
                        ),
                    )
                )
            setup = time.perf_counter() - t0
            statements: list[int] = []
            t1 = time.perf_counter()
            for start in range(0, entries, batch):
                with CaptureQueriesContext(connection) as captured:
                    services.post_many(drafts[start : start + batch])
                statements.append(len(captured.captured_queries))
            elapsed = time.perf_counter() - t1
            # Independent recomputation: the generator's sums against the ledger's SQL sums.
            tb = queries.trial_balance(entity_id).by_key()
            ok = (
                tb[chart.AR] == Money.from_minor(gross_total, "EUR")
                and tb[chart.revenue("subscriptions")] == -Money.from_minor(net_total, "EUR")
                and tb[tax_key] == -Money.from_minor(tax_total, "EUR")
                and not entries_balance(None)
            )
            result = {
                "backend": connection.vendor,
                "entries": entries,
                "lines": entries * 3,
                "batch": batch,
                "setup_s": round(setup, 3),
                "post_s": round(elapsed, 3),
                "entries_per_s": round(entries / elapsed) if elapsed else None,
                "statements_per_batch": f"{min(statements)}–{max(statements)}",
                "checked": "ok" if ok else "MISMATCH",
            }
            raise _Rollback
    except _Rollback:
        pass
    return result
