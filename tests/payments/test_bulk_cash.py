"""Cash application applies a run's lines through the bulk path; a batch the payments service
refuses (here: an invoice someone paid by hand after the matcher read the open items) is retried
line by line, so the other lines apply and the refused one waits in the workbench with the reason.

Amounts: northwind.md step 4 (invoice totals) and step 8 (the four bank lines of the camt.053
fixture; INV-2 by 4,745.00 cash + 15.00 bank fee).
"""

from __future__ import annotations

import pytest

from q2c.invoicing.models import Invoice
from q2c.ledger.models import JournalEntry
from q2c.payments import services
from q2c.payments.cash.models import BankLine
from q2c.payments.cash.services import importing, matching
from q2c.payments.models import Payment
from tests.payments.cash_world import northwind_on_statement_day
from tests.payments.support import fixture_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    return northwind_on_statement_day()


def state_of(invoices):
    return {
        n: (Invoice.objects.get(pk=i.pk).status, Invoice.objects.get(pk=i.pk).paid_minor)
        for n, i in invoices.items()
    }


def test_a_run_applies_its_lines_as_one_batch(story):
    _entity, _northwind, invoices = story
    entries = JournalEntry.objects.count()
    report = importing.import_file(fixture_bytes("camt053_northwind.xml"), actor="test")
    run = matching.run_matching(file_id=report["file_id"], actor="test")
    assert (run["lines"], run["applied"], run["proposed"]) == (4, 4, 0)
    assert state_of(invoices) == {
        "INV-2027-000001": ("paid", 746725),
        "INV-2027-000002": ("paid", 476000),
        "INV-2027-000003": ("paid", 151725),
        "INV-2027-000004": ("paid", 16641),
        "INV-2027-000005": ("paid", 241570),
    }
    # Four payments, booked on the lines' dates: one entry per booking date of the batch, not two per line.
    days = set(Payment.objects.values_list("received_on", flat=True))
    assert Payment.objects.count() == 4
    assert JournalEntry.objects.count() - entries == len(days)


def test_a_refused_batch_is_retried_line_by_line_and_the_refused_line_waits_with_its_reason(
    story, monkeypatch
):
    entity, northwind, invoices = story
    stale = matching.open_items(entity.pk)  # what the matcher read before someone paid INV-3 by hand
    monkeypatch.setattr(matching, "open_items", lambda entity_id: stale)
    inv3 = invoices["INV-2027-000003"]
    services.record_payment(
        northwind.pk, inv3.total, allocations=[(inv3.pk, None)], reference="paid at the desk"
    )
    report = importing.import_file(fixture_bytes("camt053_northwind.xml"), actor="test")
    run = matching.run_matching(file_id=report["file_id"], actor="test")
    assert (run["applied"], run["proposed"]) == (3, 1)
    waiting = BankLine.objects.get(amount_minor=151725)
    assert waiting.state == "proposed"
    assert waiting.reasons[-1]["code"] == "apply_refused"
    assert "payments.over_applied" in waiting.reasons[-1]["text"]
    assert Payment.objects.count() == 4  # the desk payment + three bank lines
    assert state_of(invoices) == {
        "INV-2027-000001": ("paid", 746725),
        "INV-2027-000002": ("paid", 476000),
        "INV-2027-000003": ("paid", 151725),  # once, by the desk payment
        "INV-2027-000004": ("paid", 16641),
        "INV-2027-000005": ("paid", 241570),
    }
