"""Cash application with the database: the Northwind bank lines (northwind.md step 8, the camt.053
file of ``tests/payments/fixtures``) apply themselves exactly as the story lists them, the bank
fee included; what the matcher is unsure of waits in the workbench, where a person accepts,
splits, reassigns or sets it aside; nothing is applied twice.

Expected amounts come from northwind.md (step 4 invoice totals, step 8 payments, the trial
balance's Bank 16,311.61 and Bank fees 15.00 at 2027-04-30).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.core.errors import DomainError
from q2c.invoicing.models import Invoice
from q2c.ledger import queries as ledger_queries
from q2c.payments.cash.models import BankLine, CashApplication, KnownPayer
from q2c.payments.cash.services import importing, matching, workbench
from q2c.payments.models import Payment
from tests.billing.world import at, customer
from tests.payments.cash_world import northwind_on_statement_day
from tests.payments.support import camt, fixture_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def story():
    return northwind_on_statement_day()


def state_of(invoices):
    return {
        number: (inv.status, inv.paid_minor)
        for number, inv in ((n, Invoice.objects.get(pk=i.pk)) for n, i in invoices.items())
    }


def test_the_northwind_bank_lines_apply_themselves_as_the_story_lists_them(story):
    entity, northwind, invoices = story
    report = importing.import_file(fixture_bytes("camt053_northwind.xml"), actor="test")
    run = matching.run_matching(file_id=report["file_id"], actor="test")
    assert (run["lines"], run["applied"], run["proposed"], run["unidentified"]) == (4, 4, 0, 0)
    # Step 8: every invoice paid in full; INV-2 by 4,745.00 cash + 15.00 bank fee.
    assert state_of(invoices) == {
        "INV-2027-000001": ("paid", 746725),
        "INV-2027-000002": ("paid", 476000),
        "INV-2027-000003": ("paid", 151725),
        "INV-2027-000004": ("paid", 16641),
        "INV-2027-000005": ("paid", 241570),
    }
    applied = sorted(
        CashApplication.objects.values_list("invoice_number", "amount_minor", "fee_minor", "how")
    )
    assert applied == [
        ("INV-2027-000001", 746725, 0, "auto"),
        ("INV-2027-000002", 474500, 1500, "auto"),
        ("INV-2027-000003", 151725, 0, "auto"),
        ("INV-2027-000004", 16641, 0, "auto"),
        ("INV-2027-000005", 241570, 0, "auto"),
    ]
    # Reasons recorded per match: INV-2 was found by its number (the letter O read as 0) and the fee.
    inv2 = CashApplication.objects.get(invoice_number="INV-2027-000002")
    assert {r["code"] for r in inv2.reasons} >= {"invoice_number", "lookalike_repaired", "bank_fee"}
    assert {r["code"] for r in CashApplication.objects.get(invoice_number="INV-2027-000001").reasons} >= {
        "rf_reference"
    }
    # One payment per bank line (INV-4 and INV-5 share the 2,582.11 one).
    assert Payment.objects.count() == 4
    assert (
        CashApplication.objects.filter(invoice_number__in=["INV-2027-000004", "INV-2027-000005"])
        .values("payment_id")
        .distinct()
        .count()
        == 1
    )
    # Trial balance at 2027-04-30: Bank 16,311.61, Bank fees 15.00, AR 0.00 (northwind.md).
    balances = {
        k: v.amount for k, v in ledger_queries.trial_balance(entity.pk, date(2027, 4, 30)).by_key().items()
    }
    assert balances["bank"] == D("16311.61")
    assert balances["bank_fees"] == D("15.00")
    assert balances.get("ar", D("0.00")) == D("0.00")
    # The payer's IBAN is learned for Northwind.
    assert KnownPayer.objects.filter(account=northwind).exists()
    # Running again finds nothing new to do; importing the file again changes nothing.
    assert matching.run_matching(actor="test")["lines"] == 0
    again = importing.import_file(fixture_bytes("camt053_northwind.xml"), actor="test")
    assert (again["saved_lines"], again["duplicates"]) == (0, 4)
    assert Payment.objects.count() == 4


def nw_line(amount: str, text: str, *, name: str = "NORTHWIND HANDELS GMBH", iban: str = "") -> str:
    debtor = f"<Dbtr><Nm>{name}</Nm></Dbtr>" if name else ""
    account = f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>" if iban else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2027-04-26</Dt></BookgDt><ValDt><Dt>2027-04-26</Dt></ValDt>"
        f'<NtryDtls><TxDtls><Amt Ccy="EUR">{amount}</Amt><RltdPties>{debtor}{account}</RltdPties>'
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


def imported(*entries: str) -> list[BankLine]:
    report = importing.import_file(camt("".join(entries)), actor="test")
    matching.run_matching(file_id=report["file_id"], actor="test")
    return list(BankLine.objects.filter(statement__file_id=report["file_id"]).order_by("id"))


def test_a_line_without_evidence_waits_and_a_person_splits_it_over_two_invoices(story):
    _entity, _northwind, invoices = story
    # 1,683.66 = INV-3 1,517.25 + INV-4 166.41, with no reference and no name: nothing to go on.
    (line,) = imported(nw_line("1683.66", "Zahlung April", name=""))
    assert line.state in ("unidentified", "proposed")
    assert not CashApplication.objects.exists()
    workbench.apply_manual(
        line.pk,
        [
            {"invoice_id": invoices["INV-2027-000003"].pk, "amount": "1517.25"},
            {"invoice_id": invoices["INV-2027-000004"].pk, "amount": "166.41"},
        ],
        note="customer confirmed by phone",
        actor="finance",
    )
    line.refresh_from_db()
    assert (line.state, line.resolved_by, line.unapplied_minor) == ("applied", "finance", 0)
    assert state_of(invoices)["INV-2027-000003"] == ("paid", 151725)
    assert state_of(invoices)["INV-2027-000004"] == ("paid", 16641)
    assert sorted(CashApplication.objects.values_list("invoice_number", "amount_minor", "how")) == [
        ("INV-2027-000003", 151725, "manual"),
        ("INV-2027-000004", 16641, "manual"),
    ]
    # A second click does nothing: the line is resolved.
    with pytest.raises(DomainError) as error:
        workbench.apply_manual(
            line.pk, [{"invoice_id": invoices["INV-2027-000005"].pk, "amount": "1.00"}], actor="finance"
        )
    assert (error.value.code, error.value.status) == ("payments_cash.already_resolved", 409)
    assert Payment.objects.count() == 1


def test_part_of_a_line_applied_by_hand_stays_as_the_customers_credit(story):
    _entity, _northwind, invoices = story
    (line,) = imported(nw_line("2000.00", "Abschlag", name=""))
    workbench.apply_manual(
        line.pk, [{"invoice_id": invoices["INV-2027-000003"].pk, "amount": "1517.25"}], actor="finance"
    )
    line.refresh_from_db()
    # 2,000.00 − 1,517.25 = 482.75 left on the payment as customer credit.
    assert (line.state, line.unapplied_minor) == ("applied", 48275)
    payment = Payment.objects.get()
    assert (payment.amount_minor, payment.applied_minor) == (200000, 151725)


def test_a_proposal_below_the_threshold_is_accepted_by_a_person(story):
    _entity, _northwind, invoices = story
    # INV-5 named, 2,000.00 of 2,415.70 paid: a partial payment by number waits (confidence 84).
    (line,) = imported(nw_line("2000.00", "INV-2027-000005 Teilzahlung", name=""))
    assert line.state == "proposed"
    assert line.proposal["applications"][0]["number"] == "INV-2027-000005"
    assert line.confidence < 90
    workbench.accept(line.pk, actor="finance")
    line.refresh_from_db()
    assert line.state == "applied"
    assert state_of(invoices)["INV-2027-000005"] == ("partially_paid", 200000)
    assert {r["code"] for r in line.reasons} >= {"accepted", "invoice_number"}


def test_a_line_is_reassigned_to_another_customers_invoice(story):
    entity, _northwind, _invoices = story
    at(date(2027, 4, 10))
    from q2c.invoicing import services as invoicing
    from tests.billing.world import draft_lines

    contoso = customer(entity, name="Elbe Logistik GmbH")
    other = invoicing.issue(
        invoicing.create_draft(
            account_id=contoso.pk, lines=draft_lines(("Consulting", "1", "100.00", "service"))
        ).pk,
        formats=[],
    )
    at(date(2027, 4, 26))
    # Northwind's name on the line, but the amount is Elbe Logistik's invoice (100.00 + 19 % = 119.00).
    (line,) = imported(nw_line("119.00", "Rechnung", name="NORTHWIND HANDELS GMBH"))
    workbench.apply_manual(line.pk, [{"invoice_id": other.pk, "amount": "119.00"}], actor="finance")
    line.refresh_from_db()
    assert (line.state, line.customer_id) == ("applied", contoso.pk)
    assert Invoice.objects.get(pk=other.pk).status == "paid"


def test_a_line_that_is_not_receivable_is_set_aside_with_a_note(story):
    (line,) = imported(nw_line("312.40", "Finanzamt Erstattung USt", name="FINANZAMT HAMBURG"))
    with pytest.raises(DomainError) as error:
        workbench.mark_not_ours(line.pk, note="", actor="finance")
    assert error.value.field == "note"
    workbench.mark_not_ours(line.pk, note="VAT refund from the tax office", actor="finance")
    line.refresh_from_db()
    assert line.state == "not_ours"
    assert line.reasons[-1] == {"code": "not_ours", "text": "VAT refund from the tax office"}
    assert not Payment.objects.exists()


@pytest.mark.parametrize(
    ("allocations", "field"),
    [
        ([{"invoice_id": "INV", "amount": "1.00"}], "allocations[0].invoice_id"),
        ([{"invoice_id": 999999, "amount": "1.00"}], "allocations[0].invoice_id"),
        ([{"invoice_id": None, "amount": "1.00"}], "allocations[0].invoice_id"),
        ([{"invoice_id": "INV-3", "amount": "1.005"}], "allocations[0].amount"),
        ([{"invoice_id": "INV-3", "amount": "-5.00"}], "allocations[0].amount"),
        ([{"invoice_id": "INV-3", "amount": "1e40"}], "allocations[0].amount"),
        ([{"invoice_id": "INV-3", "amount": "abc"}], "allocations[0].amount"),
        ([{"invoice_id": "INV-3", "amount": "200.01"}], "allocations"),
        ([{"invoice_id": "INV-3", "amount": "150.00", "fee": "50.00"}], "allocations"),
        (
            [{"invoice_id": "INV-3", "amount": "1.00"}, {"invoice_id": "INV-3", "amount": "1.00"}],
            "allocations",
        ),
        ([], "allocations"),
    ],
)
def test_bad_manual_applications_are_refused_naming_the_field_and_nothing_is_written(
    story, allocations, field
):
    _entity, _northwind, invoices = story
    (line,) = imported(nw_line("200.00", "?", name=""))
    resolved = [
        {**a, "invoice_id": invoices["INV-2027-000003"].pk} if a.get("invoice_id") == "INV-3" else a
        for a in allocations
    ]
    with pytest.raises(DomainError) as error:
        workbench.apply_manual(line.pk, resolved, actor="finance")
    assert (error.value.status, error.value.field) == (422, field)
    line.refresh_from_db()
    assert line.state != "applied"
    assert not Payment.objects.exists()
    assert not CashApplication.objects.exists()


def test_more_than_an_invoice_has_open_is_refused_by_the_payments_service(story):
    _entity, _northwind, invoices = story
    (line,) = imported(nw_line("200.00", "?", name=""))
    with pytest.raises(DomainError) as error:
        workbench.apply_manual(
            line.pk, [{"invoice_id": invoices["INV-2027-000004"].pk, "amount": "200.00"}], actor="finance"
        )
    # INV-4 has 166.41 open.
    assert error.value.code == "payments.over_applied"
    assert not Payment.objects.exists()
    line.refresh_from_db()
    assert line.state != "applied"


def test_money_out_is_not_receivable_and_never_applied(story):
    report = importing.import_file(
        camt(
            '<Ntry><Amt Ccy="EUR">49.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
            "<BookgDt><Dt>2027-04-26</Dt></BookgDt><ValDt><Dt>2027-04-26</Dt></ValDt></Ntry>"
        ),
        actor="test",
    )
    matching.run_matching(file_id=report["file_id"], actor="test")
    line = BankLine.objects.get()
    assert line.state == "not_receivable"
    with pytest.raises(DomainError) as error:
        workbench.accept(line.pk, actor="finance")
    assert error.value.status == 409


def test_a_line_the_payments_service_refuses_waits_in_the_workbench_and_the_others_apply(story, monkeypatch):
    from q2c.payments.cash.services import payments_bridge
    from q2c.payments.errors import PaymentConflict

    # The INV-3 line (1,517.25) is refused as if someone had paid INV-3 meanwhile: by the bulk path
    # (the whole batch, which cash then retries line by line) and by the single path.
    real_many = payments_bridge.payments.record_payments_many
    real_one = payments_bridge.payments.record_payment

    def refuse() -> None:
        raise PaymentConflict("invoice INV-2027-000003 has nothing open", code="payments.over_applied")

    def refusing_many(entity_id, items, **kw):
        if any(item.amount_minor == 151725 for item in items):  # payments.MinorPayment
            refuse()
        return real_many(entity_id, items, **kw)

    def refusing_one(account_id, amount, **kw):
        if amount.minor_units() == 151725:
            refuse()
        return real_one(account_id, amount, **kw)

    monkeypatch.setattr(payments_bridge.payments, "record_payments_many", refusing_many)
    monkeypatch.setattr(payments_bridge.payments, "record_payment", refusing_one)
    report = importing.import_file(fixture_bytes("camt053_northwind.xml"), actor="test")
    run = matching.run_matching(file_id=report["file_id"], actor="test")
    assert (run["applied"], run["proposed"]) == (3, 1)
    waiting = BankLine.objects.get(amount_minor=151725)
    assert waiting.state == "proposed"
    assert waiting.reasons[-1]["code"] == "apply_refused"
    assert "payments.over_applied" in waiting.reasons[-1]["text"]
    assert waiting.proposal["applications"][0]["number"] == "INV-2027-000003"
    assert Payment.objects.count() == 3
    assert state_of(story[2])["INV-2027-000003"] == ("issued", 0)


def test_a_payment_the_bank_returns_reverses_its_application_and_the_invoice_reopens(story):
    # The Commerzbank MT940 file: 7,467.25 for INV-1 (RF44INV2027000001, EREF NWH-2027-0211-01)
    # on 2027-02-20, returned the next day (RC 7,467.25, same EREF, "RUECKGABE AC04").
    _entity, _northwind, invoices = story
    report = importing.import_file(fixture_bytes("mt940_commerzbank.sta"), actor="test")
    run = matching.run_matching(file_id=report["file_id"], actor="test")
    assert (run["applied"], run["returned"]) == (1, 1)
    assert state_of(invoices)["INV-2027-000001"] == ("issued", 0)
    payment = Payment.objects.get()
    assert payment.status == "reversed"
    returned = BankLine.objects.get(amount_minor=-746725)
    assert (returned.state, returned.reasons[0]["code"]) == ("applied", "returned_payment")
    # The bank's charge (−12.50) is money out; its refund (+12.50) pays no invoice.
    assert BankLine.objects.get(amount_minor=-1250).state == "not_receivable"
    assert BankLine.objects.get(amount_minor=1250).state in ("unidentified", "proposed")
