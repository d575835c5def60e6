"""The Northwind story's invoices (northwind.md, table 4) and their EU-customer variant as
documents: UBL and CII pass the EN 16931 rules, the XML states the table's totals, and the PDFs
read back (pypdf and poppler) with those totals, due dates, references and legal mentions.
"""

from __future__ import annotations

import pytest

from q2c.invoicing.documents.cii import to_cii
from q2c.invoicing.documents.facturx import embedded_xml, facturx_pdf
from q2c.invoicing.documents.pdf import invoice_pdf
from q2c.invoicing.documents.ubl import to_ubl
from q2c.invoicing.documents.validation import fatal, validate
from tests.invoicing import samples
from tests.invoicing.readback import CII_NS, UBL_NS, pdf_text, pdftotext, xml_values

# northwind.md, table 4: number, net, VAT 19 %, total, due date.
NORTHWIND = [
    ("INV-2027-000001", "6275.00", "1192.25", "7467.25", "2027-03-03"),
    ("INV-2027-000002", "4000.00", "760.00", "4760.00", "2027-03-12"),
    ("INV-2027-000003", "1275.00", "242.25", "1517.25", "2027-03-31"),
    ("INV-2027-000004", "139.84", "26.57", "166.41", "2027-04-14"),
    ("INV-2027-000005", "2030.00", "385.70", "2415.70", "2027-05-01"),
]
# The same in the German customer's display format (de_DE).
NORTHWIND_DE = {
    "INV-2027-000001": ("6.275,00 €", "1.192,25 €", "7.467,25 €", "03.03.2027"),
    "INV-2027-000002": ("4.000,00 €", "760,00 €", "4.760,00 €", "12.03.2027"),
    "INV-2027-000003": ("1.275,00 €", "242,25 €", "1.517,25 €", "31.03.2027"),
    "INV-2027-000004": ("139,84 €", "26,57 €", "166,41 €", "14.04.2027"),
    "INV-2027-000005": ("2.030,00 €", "385,70 €", "2.415,70 €", "01.05.2027"),
}
# EU variant: totals equal the net amounts; INV-2 is the intra-Community supply of goods.
FABRIKAM = [
    ("INV-2027-000001", "6275.00", "AE"),
    ("INV-2027-000002", "4000.00", "K"),
    ("INV-2027-000003", "1275.00", "AE"),
    ("INV-2027-000004", "139.84", "AE"),
    ("INV-2027-000005", "2030.00", "AE"),
]
FABRIKAM_FR = {
    "INV-2027-000001": "6 275,00 €",
    "INV-2027-000002": "4 000,00 €",
    "INV-2027-000003": "1 275,00 €",
    "INV-2027-000004": "139,84 €",
    "INV-2027-000005": "2 030,00 €",
}


def by_number(docs):
    return {d.number: d for d in docs}


@pytest.mark.parametrize(("number", "net", "vat", "total", "due"), NORTHWIND)
def test_northwind_invoice_validates_and_states_the_scenario_totals(number, net, vat, total, due):
    doc = by_number(samples.northwind_invoices())[number]
    ubl = to_ubl(doc)
    assert validate(ubl, "ubl") == []
    assert xml_values(ubl, "/*/cbc:ID", UBL_NS) == [number]
    assert xml_values(ubl, "/*/cbc:DueDate", UBL_NS) == [due]
    assert xml_values(ubl, "//cac:LegalMonetaryTotal/cbc:TaxExclusiveAmount", UBL_NS) == [net]
    assert xml_values(ubl, "/*/cac:TaxTotal/cbc:TaxAmount", UBL_NS) == [vat]
    assert xml_values(ubl, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == [total]
    assert xml_values(ubl, "//cac:TaxSubtotal/cac:TaxCategory/cbc:Percent", UBL_NS) == ["19"]
    assert xml_values(ubl, "//cac:PaymentMeans/cbc:PaymentID", UBL_NS) == [samples.RF[number]]
    assert xml_values(ubl, "//cac:PayeeFinancialAccount/cbc:ID", UBL_NS) == ["DE89370400440532013000"]
    cii = to_cii(doc)
    assert fatal(validate(cii, "cii")) == []
    summation = "//ram:SpecifiedTradeSettlementHeaderMonetarySummation"
    assert xml_values(cii, f"{summation}/ram:TaxBasisTotalAmount", CII_NS) == [net]
    assert xml_values(cii, f"{summation}/ram:TaxTotalAmount", CII_NS) == [vat]
    assert xml_values(cii, f"{summation}/ram:DuePayableAmount", CII_NS) == [total]


@pytest.mark.parametrize(("number", "total", "category"), FABRIKAM)
def test_the_eu_variant_validates_with_zero_vat_and_its_category(number, total, category):
    doc = by_number(samples.fabrikam_invoices())[number]
    ubl = to_ubl(doc)
    assert validate(ubl, "ubl") == []
    assert xml_values(ubl, "/*/cac:TaxTotal/cbc:TaxAmount", UBL_NS) == ["0.00"]
    assert xml_values(ubl, "//cac:LegalMonetaryTotal/cbc:PayableAmount", UBL_NS) == [total]
    assert xml_values(ubl, "//cac:TaxSubtotal/cac:TaxCategory/cbc:ID", UBL_NS) == [category]
    assert set(xml_values(ubl, "//cac:ClassifiedTaxCategory/cbc:ID", UBL_NS)) == {category}
    assert fatal(validate(to_cii(doc), "cii")) == []


@pytest.mark.parametrize("number", list(NORTHWIND_DE))
def test_the_northwind_pdf_reads_back_with_totals_due_date_and_payment_reference(number, tmp_path):
    doc = by_number(samples.northwind_invoices())[number]
    net, vat, total, due = NORTHWIND_DE[number]
    pdf = invoice_pdf(doc)
    for text in (pdf_text(pdf), pdftotext(pdf, tmp_path)):
        assert f"Rechnung {number}" in text
        assert f"Gesamt netto {net}" in text
        assert f"Umsatzsteuer {vat}" in text
        assert f"Gesamtbetrag {total}" in text
        assert f"Fällig am {due}" in text
        assert samples.RF[number] in text
        assert "DE89 3704 0044 0532 0130 00" in text
        assert "COBADEFFXXX" in text
        assert "DE136457858" in text and "DE812651301" in text


def test_the_usage_invoice_shows_the_tier_breakdown(tmp_path):
    pdf = invoice_pdf(samples.northwind_invoices()[4])
    text = pdftotext(pdf, tmp_path)
    assert "API — API calls" in text
    assert "350.000 Stk." in text
    assert "Leistungszeitraum: 01.03.2027 – 31.03.2027" in text
    assert "Stufe 1: 1 – 100.000" in text
    assert "100.000 × 0,00 €" in text
    assert "250.000 × 0,002 €" in text
    assert "gestaffelt" in text


@pytest.mark.parametrize("number", list(FABRIKAM_FR))
def test_the_eu_variant_pdf_is_french_and_carries_the_legal_mention(number, tmp_path):
    doc = by_number(samples.fabrikam_invoices())[number]
    text = pdftotext(invoice_pdf(doc), tmp_path)
    assert f"Facture {number}" in text
    assert f"Total TTC {FABRIKAM_FR[number]}" in text
    assert "Total TVA 0,00 €" in text
    assert "FR40303265045" in text
    if number == "INV-2027-000002":
        assert "Intra-Community supply — exempt (Art. 138 Directive 2006/112/EC)" in text
        assert "Livraison intracommunautaire (K)" in text
        assert "Livré en FR" in text
        assert "Date de livraison 10 févr. 2027" in text
    else:
        assert (
            "Reverse charge — VAT to be accounted for by the recipient (Art. 196 Directive 2006/112/EC)"
            in text
        )
        assert "Autoliquidation (AE)" in text


@pytest.mark.parametrize("variant", ["northwind", "fabrikam"])
def test_the_factur_x_pdf_embeds_cii_that_passes_the_rules(variant):
    doc = (samples.northwind_invoices() if variant == "northwind" else samples.fabrikam_invoices())[4]
    pdf = facturx_pdf(doc)
    xml = embedded_xml(pdf)
    assert xml == to_cii(doc)
    assert fatal(validate(xml, "cii")) == []
    text = pdf_text(pdf)
    assert "INV-2027-000005" in text
    assert ("2.415,70 €" if variant == "northwind" else "2 030,00 €") in text
