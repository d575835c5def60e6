"""Invoice PDFs: localized, escaped, paginated, overridable per entity, fetching nothing foreign.

PDFs are read back with pypdf and with poppler's pdftotext; layout checks use pdftotext -bbox.
Expected strings are the CLDR formats of each locale written out by hand (de_DE 1.234,56 €,
fr_FR 1 234,56 € with narrow no-break spaces, en_US €1,234.56).
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import replace
from decimal import Decimal as D
from io import BytesIO

import pytest
from pypdf import PdfReader

from q2c.invoicing.documents.model import InvoiceLine, TaxSubtotal, Totals
from q2c.invoicing.documents.pdf import invoice_html, invoice_pdf, template_names
from q2c.platform.pdf import BASE_URL, StaticFilesFetcher, URLRefused, render_pdf
from tests.invoicing import samples
from tests.invoicing.readback import page_texts, pdf_text, pdftotext, words

EVIL = "<img src=file:///etc/passwd>"


def tiny_png() -> bytes:
    """A valid 1×1 red PNG, built by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


# --- localization -------------------------------------------------------------------------------


def test_a_german_customer_gets_german_labels_numbers_and_dates(tmp_path):
    text = pdftotext(invoice_pdf(samples.northwind_invoices()[0]), tmp_path)
    assert "Rechnung INV-2027-000001" in text
    assert "Datum 01.02.2027" in text
    assert "50 Monate 25,50 € 19 % 1.275,00 €" in text
    assert "Leistungszeitraum: 01.02.2027 – 28.02.2027" in text
    assert "Gesamtbetrag 7.467,25 €" in text
    assert "Bitte überweisen Sie 7.467,25 € bis zum 03.03.2027" in text
    assert "Seite 1 von 1" in text


def test_a_french_customer_gets_french_labels_numbers_and_dates(tmp_path):
    doc = replace(samples.northwind_invoices()[0], buyer=replace(samples.NORTHWIND, locale="fr_FR"))
    text = pdftotext(invoice_pdf(doc), tmp_path)
    assert "Facture INV-2027-000001" in text
    assert "Date 1 févr. 2027" in text
    assert "50 mois 25,50 € 19 % 1 275,00 €" in text
    assert "Total TTC 7 467,25 €" in text
    assert "Merci de virer 7 467,25 € avant le 3 mars 2027" in text
    assert "Page 1 sur 1" in text


def test_an_american_customer_gets_english_labels_numbers_and_dates(tmp_path):
    doc = replace(samples.northwind_invoices()[0], buyer=replace(samples.NORTHWIND, locale="en_US"))
    text = pdftotext(invoice_pdf(doc), tmp_path)
    assert "Invoice INV-2027-000001" in text
    assert "Date Feb 1, 2027" in text
    assert "50 months €25.50 19% €1,275.00" in text
    assert "1 pc €5,000.00 19% €5,000.00" in text
    assert "Total €7,467.25" in text
    assert "Please transfer €7,467.25 by Mar 3, 2027" in text
    assert "Page 1 of 1" in text


def test_an_unknown_locale_falls_back_to_english(tmp_path):
    doc = replace(samples.northwind_invoices()[0], buyer=replace(samples.NORTHWIND, locale="xx_YY"))
    assert "Invoice INV-2027-000001" in pdftotext(invoice_pdf(doc), tmp_path)


def test_multi_rate_pdf_shows_the_breakdown_allowances_and_amount_due(tmp_path):
    text = pdftotext(invoice_pdf(samples.multi_rate_invoice()), tmp_path)
    assert "Standard rate (S) 19% €1,016.50 €193.14" in text
    assert "Standard rate (S) 7% €109.50 €7.67" in text
    assert "Allowance: Launch discount (10% × €300.00): -€30.00" in text
    # The document allowance's label wraps in the totals column: check its parts.
    assert "Allowance: Loyalty discount (5%" in text
    assert "× €1,070.00) (19%)" in text
    assert "-€53.50" in text
    assert "Charge: Shipping (7%) €9.90" in text
    assert "Total net €1,126.00" in text
    assert "Total €1,326.81" in text
    assert "Paid in advance -€100.00" in text
    assert "Amount due €1,226.81" in text


@pytest.mark.parametrize(
    ("name", "mention"),
    [
        ("reverse charge (AE)", samples.REVERSE_CHARGE_MENTION),
        ("intra-Community supply (K)", samples.INTRA_COMMUNITY_MENTION),
        ("exempt (E)", samples.EXEMPT_MENTION),
        ("export (G)", samples.EXPORT_MENTION),
    ],
)
def test_the_exemption_mention_is_printed(name, mention, tmp_path):
    assert mention in pdftotext(invoice_pdf(samples.every_kind()[name]), tmp_path)


def test_a_direct_debit_invoice_names_mandate_and_creditor_id(tmp_path):
    text = pdftotext(invoice_pdf(samples.exempt_invoice()), tmp_path)
    assert "SEPA-Lastschrift" in text
    assert "MNDT-2027-0042" in text
    assert "DE98ZZZ09999999999" in text
    assert "DE02…2051" in text  # the debtor's IBAN, masked


def test_a_credit_note_names_the_corrected_invoice_and_the_refund(tmp_path):
    text = pdftotext(invoice_pdf(samples.credit_note()), tmp_path)
    assert "Gutschrift CN-2027-000001" in text
    assert "Korrektur zur Rechnung INV-2027-000001 vom 01.02.2027" in text
    assert "Gutschriftsbetrag 2.975,00 €" in text
    assert "Der Betrag von 2.975,00 € wird erstattet" in text


# --- hostile and large input --------------------------------------------------------------------


def test_html_in_names_and_descriptions_is_printed_as_text_and_fetches_nothing(tmp_path):
    doc = samples.northwind_invoices()[0]
    doc = replace(
        doc,
        buyer=replace(doc.buyer, name=EVIL),
        lines=(replace(doc.lines[0], description=f"<b>bold</b> {EVIL}"), doc.lines[1]),
    )
    html = invoice_html(doc)
    assert EVIL not in html
    assert "&lt;img src=file:///etc/passwd&gt;" in html
    fetcher = StaticFilesFetcher()
    pdf = invoice_pdf(doc, fetcher=fetcher)
    assert fetcher.served == [] and fetcher.refused == []
    text = pdftotext(pdf, tmp_path)
    assert EVIL in text
    assert "<b>bold</b>" in text
    assert "root:" not in text


def test_very_long_descriptions_wrap_inside_the_page(tmp_path):
    doc = samples.northwind_invoices()[0]
    token = "X" * 400  # one unbreakable word, far wider than the column
    long_text = "Lorem ipsum dolor sit amet " * 150 + token
    doc = replace(doc, lines=(replace(doc.lines[0], description=long_text), doc.lines[1]))
    pdf = invoice_pdf(doc)
    found, widths = words(pdf, tmp_path)
    assert len(widths) > 1  # the description runs over pages
    assert all(w.x_max <= widths[w.page] - 30 for w in found), "a word runs past the right margin"
    pieces = [w.text for w in found if set(w.text) == {"X"}]
    assert len(pieces) > 1 and sum(map(len, pieces)) == 400  # the long word is broken, not cut
    assert "Gesamtbetrag 7.467,25 €" in pdf_text(pdf)


def test_a_500_line_invoice_renders_over_pages_with_the_table_header_on_each():
    base = samples.northwind_invoices()[0]
    lines = tuple(
        InvoiceLine(
            str(n), f"Item number {n}", D(1), "C62", samples.eur("10.00"), samples.eur("10.00"), samples.S19
        )
        for n in range(1, 501)
    )
    # 500 × 10.00 = 5,000.00; × 19 % = 950.00; total 5,950.00.
    doc = replace(
        base,
        lines=lines,
        tax_summary=(TaxSubtotal(samples.S19, samples.eur("5000.00"), samples.eur("950.00")),),
        totals=Totals(
            line_net=samples.eur("5000.00"),
            net=samples.eur("5000.00"),
            tax=samples.eur("950.00"),
            total=samples.eur("5950.00"),
            payable=samples.eur("5950.00"),
        ),
    )
    pages = page_texts(invoice_pdf(doc))
    assert len(pages) >= 10
    line_pages = [p for p in pages if "Item number" in p]
    assert len(line_pages) >= 10
    assert all("Beschreibung" in p and "Einzelpreis" in p for p in line_pages)
    assert "Item number 1 " in pages[0] and "Item number 500" in " ".join(pages[-3:])
    assert "Gesamtbetrag 5.950,00 €" in " ".join(pages)
    assert f"Seite {len(pages)} von {len(pages)}" in pages[-1]


# --- templates and branding ---------------------------------------------------------------------


def test_templates_are_looked_up_for_the_entity_first():
    invoice = samples.northwind_invoices()[0]
    assert template_names(invoice) == ["invoicing/acme/invoice.html", "invoicing/invoice.html"]
    assert template_names(samples.credit_note()) == [
        "invoicing/acme/credit_note.html",
        "invoicing/acme/invoice.html",
        "invoicing/credit_note.html",
        "invoicing/invoice.html",
    ]
    # A slug that is not a plain slug never becomes part of a template path.
    odd = replace(invoice, seller=replace(invoice.seller, slug="../../etc"))
    assert template_names(odd) == ["invoicing/invoice.html"]


def test_an_entity_template_overrides_the_default(settings, tmp_path):
    folder = tmp_path / "templates" / "invoicing" / "acme"
    folder.mkdir(parents=True)
    (folder / "invoice.html").write_text(
        '{% extends "invoicing/invoice.html" %}{% block notes %}<p>ACME BRANDED FOOTER {{ doc.number }}</p>{% endblock %}'
    )
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path / "templates")]}]
    text = pdf_text(invoice_pdf(samples.northwind_invoices()[0]))
    assert "ACME BRANDED FOOTER INV-2027-000001" in text
    other = replace(samples.northwind_invoices()[0], seller=replace(samples.ACME, slug="globex"))
    assert "ACME BRANDED FOOTER" not in pdf_text(invoice_pdf(other))


def test_the_logo_comes_from_the_static_files(settings, tmp_path):
    static = tmp_path / "static" / "acme"
    static.mkdir(parents=True)
    (static / "logo.png").write_bytes(tiny_png())
    settings.STATICFILES_DIRS = [str(tmp_path / "static")]
    doc = replace(samples.northwind_invoices()[0], seller=replace(samples.ACME, logo="acme/logo.png"))
    fetcher = StaticFilesFetcher()
    pdf = invoice_pdf(doc, fetcher=fetcher)
    assert fetcher.served == [f"{BASE_URL}static/acme/logo.png"]
    assert fetcher.refused == []
    assert len(PdfReader(BytesIO(pdf)).pages[0].images) == 1


# --- the fetcher ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://example.com/logo.png",
        "https://example.com/logo.png",
        "ftp://example.com/logo.png",
        "/etc/passwd",
        "javascript:alert(1)",
        f"{BASE_URL}static/../../../../etc/passwd",
        f"{BASE_URL}static/%2e%2e/%2e%2e/etc/passwd",
        f"{BASE_URL}static/q2c/..%2f..%2fsettings.py",
        f"{BASE_URL}static//etc/passwd",
        f"{BASE_URL}media/acme/logo.png",
        f"{BASE_URL}static/q2c/missing.png",
        f"{BASE_URL}static/q2c/app.js",
        "data:text/html;base64,PHNjcmlwdD4=",
        "data:image/svg+xml;base64,PHN2Zy8+",
        "data:image/png,notbase64",
        "data:image/png;base64,!!!",
    ],
)
def test_the_fetcher_refuses_anything_but_static_files_and_image_data(url):
    fetcher = StaticFilesFetcher()
    with pytest.raises(URLRefused):
        fetcher(url)
    assert fetcher.refused == [url]
    assert fetcher.served == []


def test_the_fetcher_serves_the_apps_static_files_and_small_image_data():
    fetcher = StaticFilesFetcher()
    css = fetcher(f"{BASE_URL}static/q2c/app.css")
    assert css["mime_type"] == "text/css" and css["string"]
    png = tiny_png()
    image = fetcher("data:image/png;base64," + base64.b64encode(png).decode())
    assert image == {"string": png, "mime_type": "image/png"}


def test_the_fetcher_refuses_oversized_image_data():
    fetcher = StaticFilesFetcher(max_data_bytes=10)
    with pytest.raises(URLRefused, match="too large"):
        fetcher("data:image/png;base64," + base64.b64encode(b"x" * 100).decode())


def test_rendering_hostile_html_fetches_nothing_and_still_gives_a_pdf(tmp_path):
    html = f"""<html><head>
      <link rel="stylesheet" href="http://example.com/evil.css">
      <link rel="stylesheet" href="file:///etc/passwd">
      <style>@import url("file:///etc/shadow"); body {{ background: url("https://example.com/x.png"); }}</style>
      </head><body>
      <p>Hostile</p>
      <img src="file:///etc/passwd">
      <img src="../../../../etc/passwd">
      <img src="{BASE_URL}static/../../etc/passwd">
      <iframe src="file:///etc/passwd"></iframe>
      <object data="file:///etc/passwd"></object>
      </body></html>"""
    fetcher = StaticFilesFetcher()
    pdf = render_pdf(html, key="hostile", created=samples.FEB.start, fetcher=fetcher)
    assert fetcher.served == []
    assert "file:///etc/passwd" in fetcher.refused
    assert "http://example.com/evil.css" in fetcher.refused
    assert any(url.endswith("/etc/passwd") and url.startswith(BASE_URL) for url in fetcher.refused)
    text = pdftotext(pdf, tmp_path)
    assert "Hostile" in text
    assert "root:" not in text
