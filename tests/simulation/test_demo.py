"""End-to-end: a short simulation of the demo company through every service, then the cycle's
invariants (issue 17): the books balance and tie, the audit chain verifies, every accepted quote
has its contract and order, every invoice line traces to a contract line or a usage aggregate or
a one-off charge, and money received landed on invoices."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from q2c.contracts.models import Contract
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.orders.models import Order
from q2c.quotes.models import Quote
from q2c.simulation.demo import simulate

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture(autouse=True)
def _tasks_run_inline(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def lived(django_capture_on_commit_callbacks: Any) -> Any:
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        stats = simulate(out, customers=14, months=4, seed=11, start="2027-01-01", progress=False)
    return stats, out.getvalue()


def test_a_short_life_of_the_company_keeps_every_invariant(lived: Any) -> None:
    stats, summary = lived
    assert summary.startswith("demo company: 14 customers, 2027-01-01 → 2027-05-01")
    assert stats.errors == []
    assert stats.won > 0 and stats.lost > 0

    accepted = list(Quote.objects.filter(status="accepted").values_list("pk", flat=True))
    assert len(accepted) == stats.won
    contracts = dict(
        Contract.objects.filter(source_quote_id__in=accepted).values_list("source_quote_id", "pk")
    )
    assert set(contracts) == set(accepted)
    ordered = set(
        Order.objects.filter(contract_id__in=contracts.values()).values_list("contract_id", flat=True)
    )
    assert ordered == set(contracts.values())

    assert Invoice.objects.filter(status="issued").exists()
    untraced = InvoiceLine.objects.filter(invoice__status="issued").exclude(
        source_type__in=("schedule_item", "usage", "charge")
    )
    assert list(untraced.values_list("invoice__number", "source_type")) == []
    assert not InvoiceLine.objects.filter(
        invoice__status="issued", source_type="schedule_item", contract_number=""
    ).exists()

    assert stats.payments + stats.bank_files > 0

    ledger = StringIO()
    call_command("ledger", "check", stdout=ledger)
    assert "ledger checks passed" in ledger.getvalue()
    call_command("audit", "seal", stdout=StringIO())
    audit = StringIO()
    call_command("audit", "verify", stdout=audit)
    assert "audit chain verified" in audit.getvalue()
