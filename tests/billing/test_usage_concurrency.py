"""Concurrent ingestion on PostgreSQL: the same events sent by several clients at once are stored
once (the unique constraint on the event id and ``ON CONFLICT DO NOTHING``), and events ingested
while a usage close rates their month are never lost: each is rated or its month stays pending.

Hand figures: 300 distinct ids sent by 6 clients in overlapping batches → 300 stored, 300 accepted
in total; 400 events of 1,000 calls = 400,000 calls → 300,000 × 0.002 = 600.00 (Northwind tiers).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection

from q2c.billing import usage
from q2c.billing.models import Charge, UsageEvent, UsagePending
from q2c.core import clock
from tests.billing.usage_world import at_berlin, catalog, event, usage_contract
from tests.billing.world import at, customer, seller

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*jobs: Callable[[], Any]) -> list[Any]:
    start = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            with clock.use(clock.SimulationClock(date(2027, 4, 1), default_tz="Europe/Berlin")):
                start.wait()
                results[i] = jobs[i]()
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


@pytest.fixture
def sub():
    at(date(2027, 4, 1))
    acme = seller()
    catalog()
    return usage_contract(acme, customer(acme))


def test_the_same_ids_sent_by_six_clients_at_once_are_stored_once(sub):
    events = [event(f"e{i}", sub.pk, 1_000, at_berlin(date(2027, 3, 1 + i % 28))) for i in range(300)]
    # Each client sends 200 of the 300 ids, starting at a different place: every id goes 4 times.
    batches = [[events[(k * 50 + j) % 300] for j in range(200)] for k in range(6)]
    results = race(*[(lambda b=b: usage.ingest(b)) for b in batches])
    assert sum(r.accepted for r in results) == 300
    assert sum(r.duplicates for r in results) == 6 * 200 - 300
    assert UsageEvent.objects.count() == 300
    assert UsagePending.objects.count() == 1


def test_events_ingested_while_their_month_is_closed_are_rated_or_stay_pending(sub):
    first = [event(f"a{i}", sub.pk, 1_000, at_berlin(date(2027, 3, 1 + i % 28))) for i in range(200)]
    usage.ingest(first)
    more = [event(f"b{i}", sub.pk, 1_000, at_berlin(date(2027, 3, 1 + i % 28))) for i in range(200)]
    race(lambda: usage.close_usage(date(2027, 4, 1)), lambda: usage.ingest(more[:100]),
         lambda: usage.ingest(more[100:]))  # fmt: skip
    assert usage.unrated_events(sub.pk) == 0 or UsagePending.objects.filter(subscription_id=sub.pk).exists()
    usage.close_usage(date(2027, 4, 2))
    assert usage.unrated_events(sub.pk) == 0 and UsageEvent.objects.count() == 400
    # 400,000 calls in March in all: 600.00, however the closes split it.
    assert sum(Charge.objects.values_list("amount_minor", flat=True)) == 60000
