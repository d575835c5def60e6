"""Two bank runs' batches over the same invoices at the same time never over-apply one.

Needs PostgreSQL (real row locks; SQLite runs one writer at a time): each batch locks its
invoices in one query in id order (``SELECT … FOR UPDATE``) before reading their open amounts,
so the second batch sees what the first took and is refused whole.
"""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.invoicing.checks import ar_control
from q2c.invoicing.models import Invoice
from q2c.payments import services
from q2c.payments.checks import receivables
from q2c.payments.models import Application, Payment
from tests.payments.world import at, customer, eur, invoice, seller


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_batches_paying_the_same_invoices_apply_once_and_the_other_is_refused_whole():
    from q2c.tax.services import load_shipped

    load_shipped()  # a transactional test starts from a flushed database
    at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    invoices = [invoice(northwind, "100.00") for _ in range(3)]  # 119.00 each
    day = date(2027, 3, 1)

    def batch(tag: str, order: list[int]) -> list[services.PaymentItem]:
        return [
            services.PaymentItem(northwind.pk, eur("119.00"), received_on=day, external_id=f"{tag}:{i}",
                                 allocations=[services.Allocation(invoices[i].pk, eur("119.00"))])
            for i in order
        ]  # fmt: skip

    batches = [batch("run1", [0, 1, 2]), batch("run2", [2, 1, 0])]  # opposite orders: no deadlock either
    start = threading.Barrier(2)
    done: list[object] = []
    refused: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with clock.use(clock.SimulationClock(day, default_tz="Europe/Berlin")):
                start.wait()
                done.append(services.record_payments_many(acme.pk, batches[i], actor=f"run{i}"))
        except BaseException as exc:
            refused.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(done) == 1 and len(refused) == 1, refused
    assert isinstance(refused[0], DomainError) and refused[0].code == "payments.over_applied", refused
    for inv in invoices:
        inv = Invoice.objects.get(pk=inv.pk)
        assert (inv.status, inv.paid_minor) == ("paid", 11900)
    assert Payment.objects.count() == 3
    assert sum(a.amount_minor for a in Application.objects.all()) == 3 * 11900
    assert ar_control() == [] and receivables() == []
