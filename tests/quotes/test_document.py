"""The quote document: totals read back from the PDF, the customer's locale, bundle structure,
and hostile text (HTML, script, a file:// image) printed as text with nothing fetched.

Expected amounts are Northwind's (/work/shared/scenarios/northwind.md, step 1): one-time
9,000.00, recurring 1,275.00 per month, ARR 15,300.00, TCV 24,300.00, discount 10.00 % of list
(27,000.00 − 24,300.00 = 2,700.00).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
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


def test_a_document_rendered_ahead_is_the_one_the_send_would_render(world, northwind_quote, monkeypatch):
    q = Quote.objects.select_related("entity", "account").get(pk=northwind_quote.pk)
    data = document.document_data(q, generated_at=MOMENT)
    inline, _ = document.render_pdf(data, created=MOMENT)
    later = MOMENT + timedelta(days=1)
    ahead = document.RenderAhead()
    try:
        ahead.submit(data, created=MOMENT)
        ahead.submit(document.document_data(q, generated_at=later), created=later)
        assert ahead.collect() == 2  # rendered in the worker process
    finally:
        ahead.close()
    rendered = []
    render = document._render
    monkeypatch.setattr(document, "_render", lambda *a, **k: rendered.append(a) or render(*a, **k))
    try:
        taken, fetcher = document.render_pdf(data, created=MOMENT)
        assert taken == inline and rendered == [] and fetcher.refused == []
        # taken once: the same document asked again is rendered again, to the same bytes
        again, _ = document.render_pdf(data, created=MOMENT)
        assert again == inline and len(rendered) == 1
        # other data at the moment rendered ahead: not taken
        changed = dict(data, introduction="Revised terms")
        assert document.render_pdf(changed, created=later)[0] != inline and len(rendered) == 2
        assert document.render_pdf(changed, created=MOMENT)[0] != inline and len(rendered) == 3
    finally:
        document._ahead.clear()


def _laid_out_text(pdf_document) -> list[tuple[int, str, float, float]]:
    """Every piece of text WeasyPrint placed: page, text, x, y (rounded to 1/1000 px)."""
    found = []

    def walk(box, page):
        if type(box).__name__ == "TextBox":
            found.append((page, box.text, round(box.position_x, 3), round(box.position_y, 3)))
        for child in getattr(box, "children", []):
            walk(child, page)

    for number, page in enumerate(pdf_document.pages):
        walk(page._page_box, number)
    return found


def test_the_floated_head_lays_out_as_the_flex_row_it_replaces(world, northwind_quote):
    # document.css floats the head's two blocks left and right instead of a space-between flex
    # row (much cheaper for WeasyPrint); every piece of text must land on the same spot.
    from weasyprint import CSS, HTML

    from q2c.platform import pdf

    q = Quote.objects.select_related("entity", "account").get(pk=northwind_quote.pk)
    html = document.render_html(document.document_data(q, generated_at=MOMENT))
    sheet = pdf.stylesheet(document.STYLESHEET, pdf.StaticFilesFetcher())
    flex = CSS(
        string=".quote-doc .doc-head { display: flex; justify-content: space-between; }"
        " .quote-doc .doc-head .seller, .quote-doc .doc-head .doc-id { float: none; max-width: none; }"
    )

    def layout(*sheets):
        return HTML(string=html, base_url=pdf.BASE_URL, url_fetcher=pdf.StaticFilesFetcher()).render(
            font_config=pdf.font_config(), stylesheets=list(sheets)
        )

    floated, flexed = _laid_out_text(layout(sheet)), _laid_out_text(layout(sheet, flex))
    assert floated == flexed
    texts = [t for _, t, _, _ in floated]
    assert "Acme Cloud GmbH" in texts and "Quote" in texts  # the head was laid out at all
    seller = next(item for item in floated if item[1] == "Acme Cloud GmbH")
    title = next(item for item in floated if item[1] == "Quote")
    assert title[2] > seller[2] + 300  # the quote's block sits at the right, beside the seller


def test_the_stylesheet_given_to_the_renderer_gives_the_bytes_of_a_linked_one(world, northwind_quote):
    from q2c.platform import pdf

    q = Quote.objects.select_related("entity", "account").get(pk=northwind_quote.pk)
    html = document.render_html(document.document_data(q, generated_at=MOMENT))
    assert "<link" not in html
    linked = html.replace("</head>", '<link rel="stylesheet" href="/static/quotes/document.css"></head>')
    with_link = pdf.render_pdf(linked, key="quote:x", created=MOMENT)
    bare = pdf.render_pdf(html, key="quote:x", created=MOMENT)
    fetcher = pdf.StaticFilesFetcher()
    given = pdf.render_pdf(
        html, key="quote:x", created=MOMENT, fetcher=fetcher, stylesheets=[document.STYLESHEET]
    )
    assert given == with_link
    assert bare != with_link  # the stylesheet matters: without it the document differs
    assert fetcher.served == ["https://q2c.invalid/static/quotes/document.css"]


def test_a_stylesheet_is_parsed_once_and_only_a_static_css_file_is_taken():
    from q2c.platform import pdf

    first = pdf.stylesheet("quotes/document.css", pdf.StaticFilesFetcher())
    assert pdf.stylesheet("quotes/document.css", pdf.StaticFilesFetcher()) is first
    with pytest.raises(ValueError):
        pdf.stylesheet("quotes/builder.js", pdf.StaticFilesFetcher())
    fetcher = pdf.StaticFilesFetcher()
    with pytest.raises(pdf.URLRefused):
        pdf.stylesheet("../settings.css", fetcher)
    assert fetcher.refused == ["https://q2c.invalid/static/../settings.css"]
