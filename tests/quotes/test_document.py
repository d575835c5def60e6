"""The quote document: totals read back from the PDF, the customer's locale, bundle structure,
and hostile text (HTML, script, a file:// image) printed as text with nothing fetched.

Expected amounts are Northwind's (/work/shared/scenarios/northwind.md, step 1): one-time
9,000.00, recurring 1,275.00 per month, ARR 15,300.00, TCV 24,300.00, discount 10.00 % of list
(27,000.00 − 24,300.00 = 2,700.00).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from io import BytesIO

import pytest
from pypdf import PdfReader

from q2c.quotes import document, services
from q2c.quotes.models import Quote
from tests.quotes import builders
from tests.quotes.helpers import send

pytestmark = pytest.mark.django_db

MOMENT = datetime(2027, 1, 12, 8, 0, tzinfo=UTC)


def text_of(pdf: bytes) -> str:
    raw = " ".join(page.extract_text() or "" for page in PdfReader(BytesIO(pdf)).pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", raw)


def test_the_sent_pdf_shows_the_northwind_totals(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    text = text_of(bytes(sent.document.pdf))
    assert "Q-2027-000001 v1" in text
    assert "Acme Cloud GmbH" in text and "Northwind Handels GmbH" in text
    assert "One-time €9,000.00" in text
    assert "Recurring per month €1,275.00" in text
    assert "Annual recurring (ARR) €15,300.00" in text
    assert "Total contract value (12 months, usage excluded) €24,300.00" in text
    assert "€2,700.00 (10 %)" in text or "€2,700.00 (10.00 %)" in text
    assert "SEAT Platform seat 50 seat €1,500.00 15 % €25.50 €1,275.00 per month" in text
    assert "€0.002" in text  # the API rate card
    assert "February 1, 2027" in text and "February 9, 2027" in text  # start and validity
    assert "30 days net" in text


def test_amounts_and_dates_follow_the_customers_locale(world, opportunity):
    from q2c.parties import services as parties

    parties.update_account(world["account"].pk, {"locale": "de-DE"}, actor="test")
    q = services.create_quote(
        actor=world["rita"], opportunity_id=opportunity.pk, lines=builders.NORTHWIND_LINES
    )
    q = Quote.objects.select_related("entity", "account").get(pk=q.pk)
    data = document.document_data(q, generated_at=MOMENT)
    assert data["totals"]["one_time"] == "9.000,00\xa0€"
    assert data["totals"]["tcv"] == "24.300,00\xa0€"
    assert data["valid_until"] == "9. Februar 2027"
    assert data["lang"] == "de-DE"


def test_options_of_a_bundle_are_printed_under_it(world, opportunity):
    from q2c.catalog import services as catalog

    catalog.create_product(
        {"sku": "SUITE", "name": "Suite", "type": "subscription", "unit": "each", "is_bundle": True}
    )
    catalog.create_charge({"sku": "SUITE", "code": "FEE", "kind": "recurring", "billing_period": "month"})
    catalog.create_price_entry(
        {"price_book": "EUR-LIST", "sku": "SUITE", "charge": "FEE", "model": "per_unit", "price": "100.00"}
    )
    group = catalog.create_option_group({"bundle": "SUITE", "code": "ADDONS", "name": "Add-ons"})
    catalog.create_option({"group_id": group.pk, "sku": "ONB", "selection": "optional"})
    q = services.create_quote(
        actor=world["rita"],
        opportunity_id=opportunity.pk,
        lines=[
            {"key": "B", "sku": "SUITE", "quantity": "1"},
            {"key": "O", "sku": "ONB", "quantity": "1", "parent_key": "B"},
        ],
    )
    q = Quote.objects.select_related("entity", "account").get(pk=q.pk)
    rows = document.document_data(q, generated_at=MOMENT)["rows"]
    assert [(r["sku"], r["depth"]) for r in rows] == [("SUITE", 0), ("ONB", 1)]
    assert group is not None


HOSTILE = '<img src=file:///etc/passwd><script>alert("x")</script>'


def test_html_in_names_and_quote_text_is_printed_as_text_and_fetches_nothing(world, on_day):
    account = builders.customer(name=f"Evil {HOSTILE} GmbH", tax_id="")
    opp = services.create_opportunity(actor=world["rita"], account_id=account.pk, name=HOSTILE)
    q = services.create_quote(
        actor=world["rita"],
        opportunity_id=opp.pk,
        title=HOSTILE,
        introduction=HOSTILE,
        terms=HOSTILE,
        lines=[{"sku": "ONB", "quantity": "1", "description": HOSTILE}],
    )
    q = Quote.objects.select_related("entity", "account").get(pk=q.pk)
    data = document.document_data(q, generated_at=MOMENT)
    html = document.render_html(data)
    assert "<img src=file" not in html and "<script>" not in html
    assert "&lt;img src=file:///etc/passwd&gt;" in html
    pdf, fetcher = document.render_pdf(data, created=MOMENT)
    assert fetcher.refused == []
    assert all(url.endswith("/static/quotes/document.css") for url in fetcher.served)
    assert "<img src=file:///etc/passwd>" in text_of(pdf)
    assert "root:x:0:0" not in text_of(pdf)


def test_the_same_quote_renders_to_the_same_bytes(world, northwind_quote):
    q = Quote.objects.select_related("entity", "account").get(pk=northwind_quote.pk)
    data = document.document_data(q, generated_at=MOMENT)
    first, _ = document.render_pdf(data, created=MOMENT)
    second, _ = document.render_pdf(data, created=MOMENT)
    assert first == second
