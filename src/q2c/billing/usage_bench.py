"""``q2c bench usage --events N [--json]``: usage ingestion and rating on the configured database,
through the code paths of the API and the bill run.

Setup (timed apart as ``setup_s``): a new selling entity (Europe/Berlin), a usage product with
Northwind's graduated API tiers in a price book of its own, ``max(1, N ÷ 10,000)`` customers each
with a usage subscription from 2027-01-01, and N events in March 2027 (random instants, 1–100
calls each, 1 % of them re-sent in a later batch with the same id), serialised as JSON request
bodies of 10,000 events.

Ingestion (``ingest_events_per_s``): each body is decoded and stored with
``q2c.billing.usage.ingest`` — what ``POST /api/v1/billing/usage/events`` runs after its role
check. Rating (``rating_seconds``): ``close_usage(2027-04-01)``, the bill run's usage close, rates
every subscription's March into charges. Checked against an independent recomputation from the
generated data: events stored = distinct ids; each subscription's charge = its distinct calls
priced by hand over the tiers (0.00 to 100,000, 0.002 to 1,000,000, 0.001 above), rounded half-up.

Registered in ``q2c.wiring``. Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

import json
import os
import random
import resource
import time
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from q2c.billing import services, usage
from q2c.billing.models import Charge, Schedule, UsageEvent
from q2c.core import clock

MONTH = date(2027, 3, 1)
AS_OF = date(2027, 4, 1)
TIERS = [
    {"lower": "0", "upper": "100000", "unit_price": "0"},
    {"lower": "100000", "upper": "1000000", "unit_price": "0.002"},
    {"lower": "1000000", "unit_price": "0.001"},
]


def add_arguments(parser: Any) -> None:
    parser.add_argument("--events", type=int, default=100_000, help="events to ingest (default 100,000)")
    parser.add_argument("--batch", type=int, default=10_000, help="events per request (at most 10,000)")
    parser.add_argument("--seed", type=int, default=11)


def _by_hand(calls: int) -> int:
    """Northwind's graduated API tiers, in cents, written out independently of the engines."""
    amount = Decimal(0)
    amount += Decimal(max(0, min(calls, 1_000_000) - 100_000)) * Decimal("0.002")
    amount += Decimal(max(0, calls - 1_000_000)) * Decimal("0.001")
    return int((amount * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def setup(n: int, batch: int, seed: int) -> dict[str, Any]:
    from q2c.catalog import services as catalog
    from q2c.catalog.models import UnitOfMeasure
    from q2c.parties import services as parties

    rng = random.Random(seed)
    tag = f"{int(time.time())}{rng.randrange(10**6)}"
    entity = parties.create_entity(
        actor="bench", name=f"Usage Bench GmbH {tag}", address_line1="Friedrichstraße 100", postal_code="10117",
        city="Berlin", country="DE", base_currency="EUR", time_zone="Europe/Berlin", tax_id="DE136457858",
        payment_terms_days=30, invoice_prefix="UBE",
    )  # fmt: skip
    sku, book = f"UB{tag}"[:40], f"UB{tag}"[:40]
    if not UnitOfMeasure.objects.filter(code="call").exists():
        catalog.create_unit({"code": "call", "name": "Call", "divisible": False})
    catalog.create_product({"sku": sku, "name": "API calls (bench)", "type": "usage", "unit": "call"})
    catalog.create_charge(
        {
            "sku": sku,
            "code": "CALLS",
            "kind": "usage",
            "usage_metric": "bench_calls",
            "usage_aggregation": "sum",
        }
    )
    catalog.create_price_book({"code": book, "name": "Usage bench", "currency": "EUR"})
    catalog.create_price_entry(
        {"price_book": book, "sku": sku, "charge": "CALLS", "model": "tiered", "tiers": TIERS}
    )
    subs: list[int] = []
    count = max(1, n // 10_000)
    for i in range(count):
        acct = parties.create_account(
            actor="bench", entity_id=entity.pk, name=f"Usage customer {tag}-{i}", billing_line1="Street 1",
            billing_postal_code="20457", billing_city="Hamburg", country="DE", currency="EUR",
            tax_id="DE812651301", kind="business",
        )  # fmt: skip
        head = services.ContractHead(
            10**12 + int(tag[-9:]) * 1000 + i, f"UB-{tag}-{i}", entity.pk, acct.pk, "EUR",
            date(2027, 1, 1), date(2028, 1, 1),
        )  # fmt: skip
        line = services.LineIn("1", sku, "usage", Decimal(0), None, date(2027, 1, 1), date(2028, 1, 1),
                               name="API calls", charge="CALLS", tax_category="digital_service",
                               revenue_category="usage")  # fmt: skip
        services.create_schedules(head, [line])
    for s in Schedule.objects.filter(entity_id=entity.pk, kind=Schedule.Kind.USAGE):
        s.price_book = book
        s.save(update_fields=["price_book"])
        subs.append(s.pk)
    berlin = ZoneInfo("Europe/Berlin")
    start = datetime.combine(MONTH, datetime.min.time(), tzinfo=berlin)
    seconds = int((datetime.combine(AS_OF, datetime.min.time(), tzinfo=berlin) - start).total_seconds())
    events: list[dict[str, Any]] = []
    calls: dict[int, int] = dict.fromkeys(subs, 0)
    resend = max(0, n // 100) if n - n // 100 - batch >= n // 100 else 0
    fresh = n - resend
    for i in range(fresh):
        sid = subs[i % len(subs)]
        q = rng.randint(1, 100)
        ts = (start + timedelta(seconds=rng.randrange(seconds))).isoformat()
        events.append({"id": f"{tag}-{i}", "subscription_id": sid, "metric": "bench_calls", "quantity": q,
                       "timestamp": ts, "properties": {"region": rng.choice(("eu", "us"))}})  # fmt: skip
        calls[sid] += q
    # Re-sent copies go into later batches: the store must ignore them.
    # (from batches before the copies' own, so no batch holds an id twice).
    events.extend(dict(events[i]) for i in rng.sample(range(fresh - batch), resend))
    bodies = [json.dumps(events[i : i + batch]).encode() for i in range(0, len(events), batch)]
    return {
        "entity_id": entity.pk,
        "subs": subs,
        "bodies": bodies,
        "distinct": fresh,
        "expected": {sid: _by_hand(c) for sid, c in calls.items()},
    }


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run(events: int = 100_000, batch: int = 10_000, seed: int = 11, **_: Any) -> dict[str, Any]:
    batch = max(1, min(batch, usage.MAX_BATCH))
    sim = clock.SimulationClock(AS_OF, default_tz="Europe/Berlin")
    with clock.use(sim):
        t0 = time.perf_counter()
        made = setup(events, batch, seed)
        setup_s = time.perf_counter() - t0

        accepted = duplicates = rejected = 0
        c1 = time.process_time()
        t1 = time.perf_counter()
        for body in made["bodies"]:
            result = usage.ingest(json.loads(body))
            accepted += result.accepted
            duplicates += result.duplicates
            rejected += len(result.errors)
        ingest_s = time.perf_counter() - t1
        ingest_cpu = time.process_time() - c1

        c2 = time.process_time()
        t2 = time.perf_counter()
        closed = usage.close_usage(AS_OF, actor="bench")
        rating_s = time.perf_counter() - t2
        rating_cpu = time.process_time() - c2

    subs = made["subs"]
    stored = UsageEvent.objects.filter(entity_id=made["entity_id"]).count()
    got = {sid: 0 for sid in subs}
    for sid, minor in Charge.objects.filter(subscription_id__in=subs).values_list(
        "subscription_id", "amount_minor"
    ):
        got[sid] = got.get(sid, 0) + minor  # type: ignore[index]
    problems = []
    if stored != made["distinct"] or accepted != made["distinct"]:
        problems.append(f"stored {stored} / accepted {accepted} ≠ distinct events {made['distinct']}")
    if rejected:
        problems.append(f"{rejected} events rejected")
    if closed.errors:
        problems.append(f"rating errors: {closed.errors[:3]}")
    wrong = [sid for sid in subs if got.get(sid) != made["expected"][sid]]
    if wrong:
        sid = wrong[0]
        problems.append(
            f"{len(wrong)} subscriptions rated wrong (e.g. {got.get(sid)} ≠ {made['expected'][sid]})"
        )
    return {
        "events": events,
        "ingest_events_per_s": round(events / ingest_s) if ingest_s else None,
        "ingest_seconds": round(ingest_s, 3),
        "rating_seconds": round(rating_s, 3),
        # This process's CPU time: on a shared machine the wall clock also counts other processes.
        "ingest_cpu_s": round(ingest_cpu, 3),
        "rating_cpu_s": round(rating_cpu, 3),
        "load_average": round(os.getloadavg()[0], 2),
        "peak_rss_mb": _peak_rss_mb(),
        "setup_s": round(setup_s, 3),
        "subscriptions": len(subs),
        "accepted": accepted,
        "duplicates": duplicates,
        "charges": closed.charges,
        "backend": connection.vendor,
        "checked": "ok" if not problems else "; ".join(problems),
    }
