"""SEPA Direct Debit: mandates with IBAN/BIC validated by schwifty, a pain.008.001.08 collection
valid against its schema with the pre-notification sent, settlement applying each debit to its
invoice, rejects and returns by reason code (the payment fails, the invoice reopens), and bad
input: an invalid IBAN, a hostile name, a date inside the pre-notification period.

IBANs are the documented examples (DE89 3704 0044 0532 0130 00 is the IBAN standard's German
example; FR14 2004 1010 0505 0001 3M02 606 the French one); DE98ZZZ09999999999 is the
Bundesbank's example creditor identifier.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest
from django.core import mail
from lxml import etree

from q2c.core.errors import DomainError
from q2c.invoicing.checks import ar_control
from q2c.payments import queries, sepa, services
from q2c.payments.checks import receivables
from q2c.payments.models import Collection, Mandate, Payment
from q2c.platform.models import Event
from tests.payments.world import at, balances, customer, invoice, seller

pytestmark = pytest.mark.django_db
NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.08"}


@pytest.fixture
def world(django_capture_on_commit_callbacks):
    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    inv = invoice(northwind)  # 2,261.00 due 2027-03-31
    mandate = services.create_mandate(northwind.pk, iban="DE89 3704 0044 0532 0130 00", debtor_name="Northwind Handels GmbH",
                                      signed_on=date(2027, 2, 15), reference="NW-2027-001")  # fmt: skip
    return clk, acme, northwind, inv, mandate


def ties() -> None:
    assert ar_control() == [] and receivables() == []


def test_a_mandate_keeps_the_compact_iban_and_the_bic_derived_from_it(world):
    *_, mandate = world
    assert (mandate.iban, mandate.bic, mandate.status) == ("DE89370400440532013000", "COBADEFFXXX", "active")


@pytest.mark.parametrize(
    ("kwargs", "code", "field"),
    [
        ({"iban": "DE89370400440532013001"}, "payments.invalid_iban", "iban"),  # check digits broken
        ({"iban": "US12345678901234"}, "payments.invalid_iban", "iban"),
        ({"bic": "NOTABIC"}, "payments.invalid_bic", "bic"),
        ({"debtor_name": "<script>alert(1)</script>"}, "payments.invalid_mandate", "debtor_name"),
        ({"reference": "bad//ref"}, "payments.invalid_mandate", "reference"),
        ({"signed_on": date(2027, 3, 2)}, "payments.invalid_mandate", "signed_on"),
    ],
)
def test_bad_mandates_are_refused(world, kwargs, code, field):
    _, _, northwind, _, _ = world
    base = {"iban": "FR1420041010050500013M02606", "debtor_name": "Northwind", "signed_on": date(2027, 2, 1)}
    with pytest.raises(DomainError) as err:
        services.create_mandate(northwind.pk, **{**base, **kwargs})
    assert (err.value.code, err.value.field) == (code, field)
    assert Mandate.objects.count() == 1


def test_the_creditor_identifier_check_digits():
    assert sepa.check_creditor_id("DE98ZZZ09999999999") == "DE98ZZZ09999999999"
    with pytest.raises(DomainError):
        sepa.check_creditor_id("DE97ZZZ09999999999")


def test_a_collection_is_a_valid_pain_008_001_08_and_settles_onto_the_invoice(world, django_capture_on_commit_callbacks):
    clk, acme, _northwind, inv, mandate = world
    with django_capture_on_commit_callbacks(execute=True):
        collection = services.create_collection(acme.pk, collection_date=date(2027, 3, 31))
    assert (collection.count, collection.total.amount) == (1, D("2261.00"))
    doc = etree.fromstring(bytes(collection.xml))
    assert doc.tag == "{urn:iso:std:iso:20022:tech:xsd:pain.008.001.08}Document"
    tx = doc.find(".//p:DrctDbtTxInf", NS)
    assert tx.findtext("p:InstdAmt", namespaces=NS) == "2261.00"
    assert tx.findtext(".//p:MndtId", namespaces=NS) == "NW-2027-001"
    assert doc.findtext(".//p:SeqTp", namespaces=NS) == "FRST"
    assert doc.findtext(".//p:ReqdColltnDt", namespaces=NS) == "2027-03-31"
    assert doc.findtext(".//p:CdtrSchmeId//p:Othr/p:Id", namespaces=NS) == "DE98ZZZ09999999999"
    # Pre-notification to the customer's invoice address.
    (note,) = mail.outbox
    assert note.to == ["ap@northwind.example"] and "NW-2027-001" in note.body and "2027-03-31" in note.body
    # Nothing posted before the money arrives; the invoice is still open.
    assert "payment_clearing" not in balances(acme)
    clk.set(date(2027, 3, 31))
    services.settle_collection(collection.pk)
    inv.refresh_from_db()
    assert inv.status == "paid"
    assert balances(acme)["payment_clearing"] == D("2261.00")
    ties()
    mandate.refresh_from_db()
    assert mandate.first_used_on == date(2027, 3, 31)


def test_the_collection_date_must_leave_the_pre_notification_period(world):
    _, acme, *_ = world
    with pytest.raises(DomainError) as err:
        services.create_collection(acme.pk, collection_date=date(2027, 3, 14))  # 13 days after 2027-03-01
    assert (err.value.code, err.value.field) == ("payments.invalid_collection", "collection_date")
    assert not Collection.objects.exists() and not Payment.objects.exists()


def test_a_reject_before_settlement_fails_the_payment_and_the_invoice_stays_open(world):
    _, acme, _, inv, _ = world
    collection = services.create_collection(acme.pk, collection_date=date(2027, 3, 31))
    e2e = collection.items[0]["end_to_end_id"]
    payment = services.record_return(e2e, reason_code="AC04")
    assert (payment.status, payment.failure_code, payment.failure_reason) == ("failed", "AC04", "account closed")
    services.settle_collection(collection.pk)
    inv.refresh_from_db()
    assert inv.status == "issued"
    assert Event.objects.filter(type="payments.payment.failed", payload__code="AC04").exists()


def test_a_return_after_settlement_reverses_the_payment_and_reopens_the_invoice(world):
    clk, acme, _, inv, _ = world
    collection = services.create_collection(acme.pk, collection_date=date(2027, 3, 31))
    clk.set(date(2027, 3, 31))
    services.settle_collection(collection.pk)
    clk.set(date(2027, 4, 5))
    payment = services.record_return(collection.items[0]["end_to_end_id"], reason_code="AM04")
    assert (payment.status, payment.failure_code) == ("reversed", "AM04")
    item = queries.open_receivable(inv.pk)
    assert item is not None and item.open.amount == D("2261.00")
    b = balances(acme)
    assert (b.get("payment_clearing"), b["ar"]) == (None, D("2261.00"))
    inv.refresh_from_db()
    assert inv.status == "issued"
    ties()


def test_an_unknown_reason_code_or_debit_is_refused(world):
    with pytest.raises(DomainError) as err:
        services.record_return("PAY-2027-000001", reason_code="ZZ99")
    assert err.value.code == "payments.invalid_return"
    with pytest.raises(DomainError) as err:
        services.record_return("nope", reason_code="AM04")
    assert err.value.field == "end_to_end_id"
