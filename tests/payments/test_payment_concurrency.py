"""Concurrent appliers never over-apply an invoice, nor a payment.

Needs PostgreSQL (real row locks, concurrent transactions; SQLite runs one writer at a time):
each applier locks the payment, then the invoice row (``SELECT … FOR UPDATE``) before reading
its open amount, so the last ones see what the first ones took.
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
from q2c.payments.models import Application
from tests.payments.world import at, customer, eur, invoice, seller


def _race(count: int, work) -> tuple[list[object], list[BaseException]]:
    start = threading.Barrier(count)
    done: list[object] = []
    refused: list[BaseException] = []

    def run(i: int) -> None:
        try:
            with clock.use(clock.SimulationClock(date(2027, 3, 1), default_tz="Europe/Berlin")):
                start.wait()
                done.append(work(i))
        except BaseException as exc:
            refused.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done, refused


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_six_payments_of_500_racing_for_an_invoice_of_2261_apply_four_and_refuse_two():
    from q2c.tax.services import load_shipped

    load_shipped()  # a transactional test starts from a flushed database
    at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    inv = invoice(northwind)  # 2,261.00
    payments = [services.record_payment(northwind.pk, eur("500.00")) for _ in range(6)]
    done, refused = _race(6, lambda i: services.apply_payment(payments[i].pk, [(inv.pk, eur("500.00"))]))
    # 4 × 500.00 = 2,000.00 fit in 2,261.00; a fifth would make 2,500.00.
    assert len(done) == 4
    assert len(refused) == 2
    assert all(isinstance(e, DomainError) and e.code == "payments.over_applied" for e in refused), refused
    inv = Invoice.objects.get(pk=inv.pk)
    assert (inv.paid_minor, inv.open_minor, inv.status) == (200000, 26100, "partially_paid")
    assert sum(a.amount_minor for a in Application.objects.filter(invoice_id=inv.pk)) == 200000
    assert ar_control() == [] and receivables() == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_payment_applied_by_five_people_at_once_is_never_used_twice():
    from q2c.tax.services import load_shipped

    load_shipped()  # a transactional test starts from a flushed database
    at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    invoices = [invoice(northwind, "100.00") for _ in range(5)]  # 119.00 each
    pay = services.record_payment(northwind.pk, eur("300.00"))
    done, refused = _race(5, lambda i: services.apply_payment(pay.pk, [(invoices[i].pk, None)]))
    # 300.00 pays two invoices of 119.00 in full and 62.00 of a third; the others find nothing left.
    applied = sorted(a.amount_minor for a in Application.objects.filter(payment_id=pay.pk))
    assert applied == [6200, 11900, 11900]
    assert len(done) == 3 and len(refused) == 2
    assert all(isinstance(e, DomainError) and e.code == "payments.exceeds_unapplied" for e in refused), refused
    assert ar_control() == [] and receivables() == []
