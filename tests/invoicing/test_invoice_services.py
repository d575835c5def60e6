"""Invoicing use cases through ``q2c.invoicing.services``: drafts, issue (number, tax, due date,
rate, documents, posting), what is refused and why (nothing written), voids, write-offs,
payments, credit notes and re-issue, exchange rates, e-mail delivery, and the AR control check
after each.

Amounts are worked out by hand in the comments; the seller and customers are those of
northwind.md (Acme Cloud GmbH, Northwind Handels GmbH, Fabrikam SARL).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.core import mail

from q2c.core.errors import DomainError, InvalidTransition
from q2c.core.money import Money
from q2c.invoicing import services
from q2c.invoicing.checks import ar_control
from q2c.invoicing.models import CreditNote, DocumentFile, EmailDelivery, Invoice, InvoiceLine
from q2c.ledger import queries as ledger_queries
from q2c.ledger.models import JournalEntry
from q2c.platform.models import NumberCounter
from tests.billing.world import CONTOSO, FABRIKAM, at, customer, draft_lines, seller

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def acme():
    at(date(2027, 3, 1))
    return seller()


@pytest.fixture
def northwind(acme):
    return customer(acme)


def eur(text: str) -> Money:
    return Money(D(text), "EUR")


def balances(entity, day=date(2027, 12, 31)) -> dict[str, D]:
    return {k: v.amount for k, v in ledger_queries.trial_balance(entity.pk, day).by_key().items() if v}


def consulting(account, **kw):
    # 2 days at 950.00 = 1,900.00; 19 % VAT = 361.00; total 2,261.00.
    return services.create_draft(
        account_id=account.pk, lines=draft_lines(("Consulting day", "2", "950.00", "service")), **kw
    )


def test_issuing_a_draft_numbers_taxes_dates_renders_and_posts_it(
    acme, northwind, django_capture_on_commit_callbacks
):
    draft = consulting(northwind)
    assert (draft.status, draft.number) == ("draft", "")
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.issue(draft.pk, actor="finance")
    invoice.refresh_from_db()
    assert (invoice.number, invoice.status, invoice.issue_date, invoice.due_date) == (
        "INV-2027-000001", "issued", date(2027, 3, 1), date(2027, 3, 31),
    )  # fmt: skip
    assert (invoice.net_minor, invoice.tax_minor, invoice.total_minor, invoice.payment_terms) == (
        190000,
        36100,
        226100,
        "Net 30 days",
    )
    assert {f.format for f in DocumentFile.objects.filter(doc_type="invoice", doc_id=invoice.pk)} == {
        "pdf",
        "ubl",
    }
    assert len(invoice.content_sha256) == 64
    # Dr receivables 2,261.00 / Cr VAT 361.00 / Cr revenue — services 1,900.00 (a line not from a contract).
    assert balances(acme) == {
        "ar": D("2261.00"),
        "tax_payable.DE-S-19": D("-361.00"),
        "revenue.services": D("-1900.00"),
    }
    assert ar_control() == []
    (delivery,) = EmailDelivery.objects.filter(doc_type="invoice", doc_id=invoice.pk)
    assert (delivery.status, delivery.to) == ("sent", "ap@northwind.example")
    assert mail.outbox[0].subject == "Invoice INV-2027-000001"
    assert {a[0] for a in mail.outbox[0].attachments} == {"INV-2027-000001.pdf", "INV-2027-000001.ubl.xml"}


def test_issuing_twice_is_refused(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    with pytest.raises(InvalidTransition):
        services.issue(invoice.pk, formats=[])


def test_an_invoice_missing_legally_required_data_is_refused_naming_what_is_missing(acme):
    nameless_street = customer(acme, billing_line1="", billing_postal_code="")
    draft = consulting(nameless_street)
    with pytest.raises(DomainError) as err:
        services.issue(draft.pk, formats=[])
    assert err.value.code == "invoicing.missing_data"
    assert {d["field"] for d in err.value.details} == {"buyer.address.street", "buyer.address.postal_code"}
    # Nothing written: still a draft, no number taken, nothing posted.
    draft.refresh_from_db()
    assert (draft.status, draft.number) == ("draft", "")
    assert not NumberCounter.objects.filter(kind="invoice").exists()
    assert not JournalEntry.objects.filter(source_app="invoicing").exists()


def test_a_negative_total_is_refused(acme, northwind):
    draft = services.create_draft(account_id=northwind.pk, lines=[
        {"description": "Refund", "quantity": D(1), "unit_price": D("-10.00"), "tax_category": "service"}
    ])  # fmt: skip
    with pytest.raises(DomainError) as err:
        services.issue(draft.pk, formats=[])
    assert err.value.code == "invoicing.negative_total"


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"description": "", "unit_price": "1", "tax_category": "service"}, "lines[0].description"),
        ({"description": "x", "unit_price": "1", "tax_category": "luxury"}, "lines[0].tax_category"),
        (
            {"description": "x", "unit_price": "1", "quantity": "0", "tax_category": "service"},
            "lines[0].quantity",
        ),
        ({"description": "x", "unit_price": "abc", "tax_category": "service"}, "lines[0].unit_price"),
        (
            {"description": "x", "unit_price": "1", "tax_category": "service", "discount": "0.001"},
            "lines[0].discount",
        ),
    ],
)
def test_a_draft_with_a_bad_line_is_refused_naming_the_line_and_field(acme, northwind, line, field):
    with pytest.raises(DomainError) as err:
        services.create_draft(account_id=northwind.pk, lines=[line])
    assert err.value.field == field
    assert not Invoice.objects.exists()


def test_an_invoice_in_another_currency_captures_the_rate_and_posts_in_euros(acme):
    contoso = customer(acme, CONTOSO)
    services.set_rate("USD", "EUR", date(2027, 2, 26), "0.9137")  # a Friday rate, used on Monday
    draft = services.create_draft(
        account_id=contoso.pk, lines=draft_lines(("Consulting day", "1", "1000.00", "service"))
    )
    invoice = services.issue(draft.pk, formats=[])
    invoice.refresh_from_db()
    # A German seller's services to a US business are outside the scope of EU VAT: 0.
    assert (invoice.currency, invoice.total_minor, invoice.tax_minor) == ("USD", 100000, 0)
    assert (invoice.rate, invoice.rate_date, invoice.total_base_minor) == (
        D("0.9137"),
        date(2027, 2, 26),
        91370,
    )
    assert balances(acme) == {"ar": D("913.70"), "revenue.services": D("-913.70")}
    assert ar_control() == []


def test_a_missing_exchange_rate_is_a_clear_error_and_nothing_is_issued(acme):
    contoso = customer(acme, CONTOSO)
    services.set_rate("USD", "EUR", date(2027, 2, 1), "0.91")  # 28 days old: older than 7 days
    draft = services.create_draft(
        account_id=contoso.pk, lines=draft_lines(("Consulting day", "1", "1000.00", "service"))
    )
    with pytest.raises(DomainError) as err:
        services.issue(draft.pk, formats=[])
    assert (err.value.code, err.value.field) == ("invoicing.rate_missing", "rate")
    assert "USD→EUR" in err.value.message
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_voiding_reverses_the_posting_and_keeps_the_number_used(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    services.void(invoice.pk, reason="sent to the wrong customer")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("void", "INV-2027-000001")
    assert balances(acme) == {}
    assert ar_control() == []
    assert services.issue(consulting(northwind).pk, formats=[]).number == "INV-2027-000002"
    with pytest.raises(InvalidTransition):
        services.void(invoice.pk)


def test_a_written_off_invoice_moves_its_open_amount_to_bad_debt(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    services.apply_payment(invoice.pk, eur("261.00"))
    services.write_off(invoice.pk, reason="insolvent")
    invoice.refresh_from_db()
    assert (invoice.status, invoice.written_off_minor) == ("uncollectible", 200000)
    # AR: 2,261.00 − 2,000.00 written off; the 261.00 paid would be the payments app's posting.
    assert balances(acme)["bad_debt"] == D("2000.00")
    assert balances(acme)["ar"] == D("261.00")


def test_payments_make_an_invoice_partially_paid_then_paid(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    assert services.apply_payment(invoice.pk, eur("1000.00")).status == "partially_paid"
    with pytest.raises(DomainError) as err:
        services.apply_payment(invoice.pk, eur("1261.01"))
    assert err.value.code == "invoicing.invalid_payment"
    assert services.apply_payment(invoice.pk, eur("1261.00")).status == "paid"


def test_a_payment_taken_back_reopens_the_invoice(acme, northwind):
    # 2,261.00 paid in two parts; a chargeback of the 1,261.00 part leaves 1,000.00 paid.
    invoice = services.issue(consulting(northwind).pk, formats=[])
    services.apply_payment(invoice.pk, eur("1000.00"))
    assert services.apply_payment(invoice.pk, eur("1261.00")).status == "paid"
    back = services.unapply_payment(invoice.pk, eur("1261.00"), reason="chargeback lost")
    assert (back.status, back.paid_minor, back.paid_base_minor, back.open_minor) == (
        "partially_paid", 100000, 100000, 126100,
    )  # fmt: skip
    assert services.unapply_payment(invoice.pk, eur("1000.00")).status == "issued"
    assert ar_control() == []
    for bad, field in ((eur("0.01"), "amount"), (Money(D("5"), "USD"), "amount"), (eur("-1"), "amount")):
        with pytest.raises(DomainError) as err:
            services.unapply_payment(invoice.pk, bad)
        assert (err.value.code, err.value.field) == ("invoicing.invalid_payment", field)
    draft = consulting(northwind)
    with pytest.raises(InvalidTransition):
        services.unapply_payment(draft.pk, eur("1.00"))


def test_the_ar_control_as_of_a_month_end_ignores_payments_recorded_after_it(acme, northwind):
    # Issued 2027-03-01 for 2,261.00; paid 2027-04-03. On 03-31 the ledger's receivables are
    # 2,261.00 and so is what was open then — the later payment does not count as of that date.
    invoice = services.issue(consulting(northwind).pk, formats=[])
    services.apply_payment(invoice.pk, eur("2261.00"), day=date(2027, 4, 3))
    assert ar_control(date(2027, 3, 31)) == []
    # A part taken back on 04-10 is not counted as of 04-05 either: all 2,261.00 was paid then.
    services.unapply_payment(invoice.pk, eur("261.00"), day=date(2027, 4, 10))
    assert [(p.day, p.amount_minor, p.base_minor) for p in invoice.payments.order_by("id")] == [
        (date(2027, 4, 3), 226100, 226100),
        (date(2027, 4, 10), -26100, -26100),
    ]


def test_a_foreign_currency_payment_taken_back_gives_back_its_base_amount(acme):
    contoso = customer(acme, CONTOSO)
    services.set_rate("USD", "EUR", date(2027, 2, 26), "0.9137")
    draft = services.create_draft(
        account_id=contoso.pk, lines=draft_lines(("Consulting day", "1", "1000.00", "service"))
    )
    invoice = services.issue(draft.pk, formats=[])
    # Paid 1,000.00 USD worth 920.00 EUR on the day; 400.00 USD of it comes back: 400 × 0.9137 = 365.48.
    services.apply_payment(invoice.pk, Money(D("1000.00"), "USD"), base_amount=eur("920.00"))
    back = services.unapply_payment(invoice.pk, Money(D("400.00"), "USD"))
    assert (back.status, back.paid_minor, back.paid_base_minor) == ("partially_paid", 60000, 92000 - 36548)
    rest = services.unapply_payment(invoice.pk, Money(D("600.00"), "USD"))
    assert (rest.status, rest.paid_minor, rest.paid_base_minor) == ("issued", 0, 0)


def test_a_partial_credit_note_takes_its_amount_off_the_open_invoice(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    (line,) = InvoiceLine.objects.filter(invoice=invoice)
    # One of the two days: 950.00 + 19 % 180.50 = 1,130.50.
    note = services.credit(
        invoice.pk,
        reason_code="product_unsatisfactory",
        lines=[services.CreditLine(line.pk, quantity=D(1))],
        formats=[],
    )
    assert (note.number, note.net_minor, note.tax_minor, note.total_minor, note.applied_minor) == (
        "CN-2027-000001", 95000, 18050, 113050, 113050,
    )  # fmt: skip
    invoice.refresh_from_db()
    assert (invoice.status, invoice.credited_minor, invoice.open_minor) == ("partially_paid", 113050, 113050)
    assert balances(acme) == {
        "ar": D("1130.50"),
        "tax_payable.DE-S-19": D("-180.50"),
        "revenue.services": D("-950.00"),
    }
    assert ar_control() == []
    # The rest, in full: the invoice is settled and everything nets to zero.
    services.credit(invoice.pk, reason_code="order_change", full=True, formats=[])
    invoice.refresh_from_db()
    assert (invoice.status, invoice.open_minor) == ("paid", 0)
    assert balances(acme) == {}
    assert ar_control() == []


def test_crediting_more_than_a_line_has_left_is_refused(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    (line,) = InvoiceLine.objects.filter(invoice=invoice)
    with pytest.raises(DomainError) as err:
        services.credit(
            invoice.pk, reason_code="pricing_error", lines=[services.CreditLine(line.pk, amount=D("1900.01"))]
        )
    assert err.value.code == "invoicing.credit_exceeds_invoice"
    with pytest.raises(DomainError) as err:
        services.credit(invoice.pk, reason_code="because", full=True)
    assert (err.value.code, err.value.field) == ("invoicing.invalid_credit", "reason_code")
    assert not CreditNote.objects.exists()


def test_a_credit_note_on_a_paid_invoice_is_owed_to_the_customer(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    services.apply_payment(invoice.pk, eur("2261.00"))
    note = services.credit(invoice.pk, reason_code="duplicate", full=True, formats=[])
    assert (note.applied_minor, note.to_balance_minor) == (0, 226100)
    # The payments app posts the cash: here AR still carries the 2,261.00 it would clear.
    assert balances(acme) == {"ar": D("2261.00"), "customer_credits": D("-2261.00")}


def test_reissue_credits_in_full_and_opens_a_corrected_copy(acme, northwind):
    invoice = services.issue(consulting(northwind).pk, formats=[])
    note, draft = services.reissue(invoice.pk, reason="wrong PO number")
    assert (note.reason_code, note.total_minor) == ("reissue", 226100)
    assert (draft.status, draft.replaces_id) == ("draft", invoice.pk)
    assert [(ln.description, ln.quantity, ln.unit_price) for ln in draft.lines.all()] == [
        ("Consulting day", D(2), D("950.00"))
    ]
    services.replace_lines(draft.pk, draft_lines(("Consulting day", "2", "900.00", "service")))
    assert services.issue(draft.pk, formats=[]).number == "INV-2027-000002"


def test_the_eu_customer_gets_reverse_charge_with_its_mention(acme):
    fabrikam = customer(acme, FABRIKAM)
    invoice = services.issue(
        services.create_draft(
            account_id=fabrikam.pk, lines=draft_lines(("SEAT", "50", "25.50", "digital_service"))
        ).pk,
        formats=["ubl"],
    )
    invoice.refresh_from_db()
    assert (invoice.total_minor, invoice.tax_minor) == (127500, 0)
    assert invoice.tax_summary[0]["category"] == "AE"
    assert invoice.tax_summary[0]["mention"].startswith("Reverse charge")


def test_per_line_tax_rounding_is_an_entity_setting(acme, northwind):
    from q2c.parties import services as parties

    parties.update_entity(acme.pk, {"tax_rounding": "per_line"}, actor="test")
    lines = draft_lines(("A", "1", "139.84", "service"), ("B", "1", "500.50", "service"))
    invoice = services.issue(services.create_draft(account_id=northwind.pk, lines=lines).pk, formats=[])
    invoice.refresh_from_db()
    assert invoice.tax_minor == 12167  # 26.57 + 95.10 (northwind.md, VAT rounding check)


def test_end_of_month_terms_are_a_setting(acme, northwind):
    services.save_settings(acme.pk, terms_basis="end_of_month")
    invoice = services.issue(consulting(northwind).pk, formats=[])
    invoice.refresh_from_db()
    assert invoice.due_date == date(2027, 4, 30)  # March ends on the 31st; + 30 days


def test_rates_import_all_or_nothing(acme):
    with pytest.raises(DomainError) as err:
        services.import_rates(
            "base,quote,day,rate\nUSD,EUR,2027-03-01,0.91\nUSD,EUR,2027-03-02,-1\nGBP,GBP,2027-03-01,1\n"
        )
    assert err.value.code == "invoicing.invalid_rate"
    assert [d["field"] for d in err.value.details] == ["line 3.rate", "line 4.quote"]
    from q2c.invoicing.models import ExchangeRate

    assert not ExchangeRate.objects.exists()
    assert services.import_rates("USD,EUR,2027-03-01,0.91\nUSD,EUR,2027-03-02,0.92\n") == 2


def test_a_failing_mail_server_is_retried_and_logged(
    acme, northwind, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.invoicing.test_invoice_services.FlakyBackend"
    FlakyBackend.failures = 2
    with django_capture_on_commit_callbacks(execute=True):
        invoice = services.issue(consulting(northwind).pk, formats=["ubl"])
    (delivery,) = EmailDelivery.objects.filter(doc_id=invoice.pk)
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 3, "")
    FlakyBackend.failures = 10
    with django_capture_on_commit_callbacks(execute=True):
        second = services.issue(consulting(northwind).pk, formats=["ubl"])
    (failed,) = EmailDelivery.objects.filter(doc_id=second.pk)
    assert (failed.status, failed.attempts, failed.last_error) == ("failed", 5, "mail server down")


class FlakyBackend:
    """A mail backend that fails ``failures`` times, then delivers to the test outbox."""

    failures = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: list[Any]) -> int:
        if FlakyBackend.failures > 0:
            FlakyBackend.failures -= 1
            raise OSError("mail server down")
        mail.outbox.extend(messages)
        return len(messages)
