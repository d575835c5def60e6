"""``q2c bank import`` imports and matches through ``pipeline.import_and_match``: where another
process can see this one's commits (PostgreSQL or a SQLite file, outside a transaction) a forked
child imports the file while this process prepares the matcher; everywhere else it is the plain
sequence. Either way the Northwind bank lines (northwind.md step 8) apply themselves exactly as
the story lists them: four payments, INV-2 by 4,745.00 cash + 15.00 bank fee, Bank 16,311.61 and
Bank fees 15.00 at 2027-04-30, AR 0.00.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal as D

import pytest

from q2c.core.errors import DomainError
from q2c.invoicing.models import Invoice
from q2c.ledger import queries as ledger_queries
from q2c.payments.cash.models import BankLine, CashApplication
from q2c.payments.cash.services import importing, pipeline
from q2c.payments.models import Payment
from tests.payments.cash_world import northwind_on_statement_day
from tests.payments.support import fixture_bytes

PAID = {
    "INV-2027-000001": ("paid", 746725),
    "INV-2027-000002": ("paid", 476000),
    "INV-2027-000003": ("paid", 151725),
    "INV-2027-000004": ("paid", 16641),
    "INV-2027-000005": ("paid", 241570),
}


def _the_story_holds(entity, report):
    assert (report["saved_lines"], report["matching"]["applied"], report["matching"]["proposed"]) == (4, 4, 0)
    assert {i.number: (i.status, i.paid_minor) for i in Invoice.objects.all()} == PAID
    assert sorted(CashApplication.objects.values_list("invoice_number", "amount_minor", "fee_minor")) == [
        ("INV-2027-000001", 746725, 0),
        ("INV-2027-000002", 474500, 1500),
        ("INV-2027-000003", 151725, 0),
        ("INV-2027-000004", 16641, 0),
        ("INV-2027-000005", 241570, 0),
    ]
    assert Payment.objects.count() == 4
    balances = {
        k: v.amount for k, v in ledger_queries.trial_balance(entity.pk, date(2027, 4, 30)).by_key().items()
    }
    assert (balances["bank"], balances["bank_fees"], balances.get("ar", D("0.00"))) == (
        D("16311.61"),
        D("15.00"),
        D("0.00"),
    )


def _spy_on_the_fork(monkeypatch):
    """Records what the forked import reported (None: it did not import)."""
    seen: list[object] = []
    real = pipeline._import_beside_prepare

    def spy(data, options, entity_id):
        report, prepared = real(data, options, entity_id)
        seen.append((report is not None, prepared is not None and prepared.entity_id == entity_id))
        return report, prepared

    monkeypatch.setattr(pipeline, "_import_beside_prepare", spy)
    return seen


@pytest.mark.django_db
def test_inside_a_transaction_it_is_the_plain_sequence(monkeypatch):
    entity, _northwind, _invoices = northwind_on_statement_day()
    seen = _spy_on_the_fork(monkeypatch)
    report = pipeline.import_and_match(
        fixture_bytes("camt053_northwind.xml"), file_name="nw.xml", actor="test"
    )
    assert seen == []  # the test's transaction: no other process could see the invoices
    _the_story_holds(entity, report)
    # Again: every line a duplicate, nothing saved, nothing matched.
    again = pipeline.import_and_match(fixture_bytes("camt053_northwind.xml"), actor="test")
    assert (again["saved_lines"], again["duplicates"], "matching" in again) == (0, 4, False)


@pytest.mark.django_db
def test_without_matching_the_lines_wait_new(monkeypatch):
    northwind_on_statement_day()
    report = pipeline.import_and_match(fixture_bytes("camt053_northwind.xml"), match=False, actor="test")
    assert "matching" not in report
    assert set(BankLine.objects.values_list("state", flat=True)) == {"new"}


def _flushed_world():
    from q2c.tax.services import load_shipped

    load_shipped()  # a transactional test starts from a flushed database
    return northwind_on_statement_day()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_forked_child_imports_while_the_matcher_is_prepared(monkeypatch):
    entity, _northwind, _invoices = _flushed_world()
    seen = _spy_on_the_fork(monkeypatch)
    report = pipeline.import_and_match(
        fixture_bytes("camt053_northwind.xml"), file_name="nw.xml", actor="test"
    )
    assert seen == [(True, True)]  # the child imported; this process prepared Acme's matcher
    _the_story_holds(entity, report)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_when_the_child_fails_this_process_imports_itself_with_the_same_result(monkeypatch):
    entity, _northwind, _invoices = _flushed_world()
    parent, real = os.getpid(), importing.import_file

    def failing_in_the_child(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("the child's disk is full")
        return real(*args, **kwargs)

    monkeypatch.setattr(importing, "import_file", failing_in_the_child)
    seen = _spy_on_the_fork(monkeypatch)
    report = pipeline.import_and_match(fixture_bytes("camt053_northwind.xml"), actor="test")
    assert seen == [(False, True)]
    _the_story_holds(entity, report)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_bad_file_is_refused_by_this_process_and_nothing_is_written(monkeypatch):
    _flushed_world()
    seen = _spy_on_the_fork(monkeypatch)
    with pytest.raises(DomainError) as error:
        pipeline.import_and_match(b"<?xml version='1.0'?><Document><BkToCstmrStmt>", actor="test")
    assert error.value.code.startswith("payments")
    assert seen == [(False, True)]
    assert not BankLine.objects.exists() and not Payment.objects.exists()
