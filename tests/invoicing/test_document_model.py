"""The invoice document: what the law requires before issue, and RF creditor references."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal as D

import pytest
from stdnum import iso11649

from q2c.core.errors import ValidationError
from q2c.invoicing.documents.model import (
    Address,
    DocumentKind,
    PaymentMeans,
    PaymentMeansKind,
    VatRate,
    creditor_reference,
    missing_data,
)
from q2c.tax.categories import VatCategoryCode
from tests.invoicing import samples


def fields(doc) -> set[str]:
    return {m.field for m in missing_data(doc)}


@pytest.mark.parametrize("name", list(samples.every_kind()))
def test_every_sample_kind_states_everything_the_law_requires(name):
    assert missing_data(samples.every_kind()[name]) == []


def test_an_invoice_without_seller_and_buyer_details_lists_each_missing_item():
    doc = samples.northwind_invoices()[0]
    doc = replace(
        doc,
        seller=replace(doc.seller, vat_id="", address=Address(country="DE")),
        buyer=replace(doc.buyer, name=" ", address=Address(street="Am Sandtorkai 50", country="de")),
    )
    assert fields(doc) == {
        "seller.address.street",
        "seller.address.city",
        "seller.address.postal_code",
        "seller.vat_id",
        "buyer.name",
        "buyer.address.city",
        "buyer.address.postal_code",
        "buyer.address.country",
    }
    messages = [m.message for m in missing_data(doc)]
    assert "the seller's VAT identifier or tax number" in messages
    assert "the buyer's country (ISO 3166 two-letter code)" in messages


def test_a_tax_number_is_enough_for_a_domestic_seller_without_vat_id():
    doc = samples.northwind_invoices()[0]
    doc = replace(doc, seller=replace(doc.seller, vat_id="", tax_number="27/123/45678"))
    assert missing_data(doc) == []


def test_reverse_charge_needs_the_buyers_vat_id_and_the_mention():
    doc = samples.fabrikam_invoices()[0]
    doc = replace(
        doc,
        buyer=replace(doc.buyer, vat_id=""),
        tax_summary=(replace(doc.tax_summary[0], exemption_reason="", exemption_reason_code=""),),
    )
    assert fields(doc) == {"buyer.vat_id", "tax_summary[0].exemption_reason"}


def test_an_intra_community_supply_needs_the_destination_country_and_the_delivery_date():
    doc = samples.fabrikam_invoices()[1]
    doc = replace(doc, buyer=replace(doc.buyer, deliver_to_country=""), delivery_date=None)
    assert fields(doc) == {"buyer.deliver_to_country", "delivery_date"}


def test_an_invoice_with_an_amount_due_needs_a_due_date_or_payment_terms():
    doc = replace(samples.northwind_invoices()[0], due_date=None, payment_terms="")
    assert fields(doc) == {"due_date"}


def test_a_credit_transfer_needs_the_payees_iban():
    doc = samples.northwind_invoices()[0]
    doc = replace(doc, seller=replace(doc.seller, iban=""))
    assert fields(doc) == {"seller.iban"}


def test_a_direct_debit_needs_the_mandate_and_the_creditor_id():
    doc = samples.exempt_invoice()
    doc = replace(
        doc,
        seller=replace(doc.seller, creditor_id=""),
        payment_means=PaymentMeans(PaymentMeansKind.DIRECT_DEBIT),
    )
    assert fields(doc) == {"payment_means.mandate_id", "seller.creditor_id"}


def test_a_malformed_rf_reference_is_refused():
    doc = samples.northwind_invoices()[0]
    doc = replace(
        doc, payment_means=PaymentMeans(PaymentMeansKind.CREDIT_TRANSFER, reference="RF00INV2027000001")
    )
    assert fields(doc) == {"payment_means.reference"}


def test_a_credit_note_must_name_the_invoice_it_corrects():
    doc = replace(samples.credit_note(), preceding_invoice=None)
    assert fields(doc) == {"preceding_invoice"}
    assert doc.kind is DocumentKind.CREDIT_NOTE


def test_a_document_allowance_must_say_which_vat_rate_it_reduces():
    doc = samples.multi_rate_invoice()
    doc = replace(
        doc, allowances_charges=(replace(doc.allowances_charges[0], vat=None), doc.allowances_charges[1])
    )
    assert fields(doc) == {"allowances_charges[0].vat"}


def test_an_invoice_without_lines_or_number_cannot_be_issued():
    doc = replace(samples.northwind_invoices()[0], lines=(), number="")
    assert {"lines", "number"} <= fields(doc)


def test_the_creditor_reference_follows_iso_11649():
    # ISO 11649's own example: reference 539007547034 has check digits 18.
    assert creditor_reference("539007547034") == "RF18539007547034"
    # Invoice numbers keep their letters and digits; stdnum's validator agrees.
    reference = creditor_reference("INV-2027-000001")
    assert reference == "RF44INV2027000001"
    assert iso11649.is_valid(reference)


@pytest.mark.parametrize("number", list(samples.RF))
def test_the_sample_rf_references_are_valid_iso_11649(number):
    assert iso11649.is_valid(samples.RF[number])
    assert creditor_reference(number) == samples.RF[number]


@pytest.mark.parametrize("bad", ["", "---", "X" * 22])
def test_a_creditor_reference_needs_one_to_21_letters_or_digits(bad):
    with pytest.raises(ValidationError):
        creditor_reference(bad)


def test_vat_rates_are_decimal_percentages_never_floats():
    with pytest.raises(TypeError):
        VatRate(VatCategoryCode.STANDARD, 19.0)  # type: ignore[arg-type]
    assert VatRate(VatCategoryCode.STANDARD, D("19")).rate == D("19")
