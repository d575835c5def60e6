"""The quotes pages without a browser: the builder form, the approval inbox, the public
acceptance page, escaping, and the answers to bad input."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from q2c.quotes import services
from q2c.quotes.models import Acceptance, ApprovalRequest, Quote
from tests.quotes import builders
from tests.quotes.helpers import approve, send

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows(*lines: dict[str, str], lock: int = 1, **header: str) -> dict[str, str]:
    data = {
        "lock_version": str(lock),
        "start_date": "2027-02-01",
        "term_months": "12",
        "billing_frequency": "month",
        "payment_terms_days": "30",
        "valid_until": "2027-02-09",
        "sale_context": "new",
        **header,
    }
    for i, line in enumerate(lines):
        for name, value in line.items():
            data[f"line-{i}-{name}"] = value
    return data


def test_the_pipeline_pages_list_the_reps_opportunities(world, opportunity):
    rita = browser(world["rita"])
    page = rita.get("/quotes/opportunities/")
    assert page.status_code == 200 and "Northwind platform" in page.content.decode()
    board = rita.get("/quotes/opportunities/board/")
    assert board.status_code == 200 and "Northwind platform" in board.content.decode()
    olga = browser(builders.user("olga", "sales_rep"))
    assert "Northwind platform" not in olga.get("/quotes/opportunities/").content.decode()
    assert olga.get(f"/quotes/opportunities/{opportunity.pk}/").status_code == 404


def test_an_opportunity_and_its_first_quote_are_created_from_the_pages(world):
    rita = browser(world["rita"])
    bad = rita.post("/quotes/opportunities/new/", {"account_id": str(world["account"].pk), "name": ""})
    assert bad.status_code == 422 and "name is required" in bad.content.decode()
    made = rita.post(
        "/quotes/opportunities/new/",
        {"account_id": str(world["account"].pk), "name": "Fleet", "stage": "qualification"},
    )
    assert made.status_code == 302
    opp_url = made["Location"]
    quote = rita.post(opp_url + "quotes/new/", {"start_date": "2027-02-01", "term_months": "12"})
    assert quote.status_code == 302
    q = Quote.objects.get()
    assert quote["Location"] == f"/quotes/{q.pk}/"
    assert (q.number, q.start_date) == ("Q-2027-000001", date(2027, 2, 1))


def test_the_builder_saves_lines_and_shows_the_waterfall(world, northwind_quote):
    rita = browser(world["rita"])
    saved = rita.post(
        f"/quotes/{northwind_quote.pk}/save/",
        rows(
            {"key": "L1", "sku": "SEAT", "quantity": "50", "discount": "15"},
            {"key": "L2", "sku": "ONB", "quantity": "1"},
            {"key": "L9", "sku": "", "quantity": ""},  # a blank row is no line
        ),
    )
    assert saved.status_code == 302
    q = Quote.objects.get(pk=northwind_quote.pk)
    assert list(q.lines.values_list("sku", flat=True)) == ["SEAT", "ONB"]
    page = rita.get(f"/quotes/{q.pk}/").content.decode()
    assert "price waterfall" in page and "1275.00" in page
    assert "SEAT: discount 15 % is above the owner&#x27;s limit of 10 %" in page
    assert 'data-preview-url="/api/v1/quotes/quotes/' in page
    assert '<label class="visually-hidden" for="sku-0">' in page


def test_a_stale_save_from_the_builder_answers_409_and_keeps_the_first(world, northwind_quote):
    rita, max_ = browser(world["rita"]), browser(world["max"])
    assert (
        rita.post(
            f"/quotes/{northwind_quote.pk}/save/",
            rows({"key": "L1", "sku": "ONB", "quantity": "1"}, title="Rita's"),
        ).status_code
        == 302
    )
    stale = max_.post(
        f"/quotes/{northwind_quote.pk}/save/",
        rows({"key": "L1", "sku": "EDGE", "quantity": "1"}, title="Max's"),
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.content.decode()
    assert Quote.objects.get(pk=northwind_quote.pk).title == "Rita's"


def test_line_errors_are_shown_next_to_their_line(world, northwind_quote):
    rita = browser(world["rita"])
    page = rita.post(
        f"/quotes/{northwind_quote.pk}/save/",
        rows({"key": "L1", "sku": "SEAT", "quantity": "1"}, {"key": "L2", "sku": "NOPE", "quantity": "1"}),
    )
    assert page.status_code == 422
    html = page.content.decode()
    assert "there is no product with SKU &#x27;NOPE&#x27;" in html
    assert 'id="err-1" role="alert"><p>' in html


def test_hostile_names_are_escaped_on_every_page(world):
    evil = builders.customer(name="<script>alert(1)</script> GmbH", tax_id="")
    opp = services.create_opportunity(
        actor=world["rita"], account_id=evil.pk, name="<img src=x onerror=alert(2)>"
    )
    q = services.create_quote(
        actor=world["rita"],
        opportunity_id=opp.pk,
        title="<b>bold</b>",
        lines=[{"sku": "ONB", "quantity": "1", "description": "<i>x</i>"}],
    )
    rita = browser(world["rita"])
    for url in (f"/quotes/{q.pk}/", "/quotes/", "/quotes/opportunities/", f"/quotes/opportunities/{opp.pk}/"):
        html = rita.get(url).content.decode()
        assert "<script>alert(1)" not in html and "<img src=x" not in html and "<b>bold" not in html, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt; GmbH" in rita.get(f"/quotes/{q.pk}/").content.decode()


def test_submit_approve_in_the_inbox_and_send_from_the_pages(world, northwind_quote):
    rita, max_ = browser(world["rita"]), browser(world["max"])
    assert rita.post(f"/quotes/{northwind_quote.pk}/submit/", {"lock_version": "1"}).status_code == 302
    inbox = max_.get("/quotes/approvals/").content.decode()
    assert "Q-2027-000001 v1" in inbox and "SEAT: discount 15 %" in inbox
    step = ApprovalRequest.objects.get().steps.get()
    refused = rita.post(f"/quotes/approvals/steps/{step.pk}/decide/", {"decision": "approve"})
    assert refused.status_code == 403  # reps have no inbox
    no_comment = max_.post(f"/quotes/approvals/steps/{step.pk}/decide/", {"decision": "reject"})
    assert no_comment.status_code == 422
    assert (
        max_.post(
            f"/quotes/approvals/steps/{step.pk}/decide/", {"decision": "approve", "comment": "ok"}
        ).status_code
        == 302
    )
    q = Quote.objects.get(pk=northwind_quote.pk)
    sent = rita.post(
        f"/quotes/{q.pk}/send/", {"lock_version": str(q.lock_version), "to": "nora@northwind.example"}
    )
    assert sent.status_code == 200
    assert 'id="acceptance-link" href="http://testserver/quotes/accept/' in sent.content.decode()
    assert Quote.objects.get(pk=q.pk).status == "sent"
    assert rita.get(f"/quotes/{q.pk}/preview.pdf")["Content-Type"] == "application/pdf"


def test_the_public_page_shows_the_document_and_takes_the_acceptance(world, northwind_quote):
    sent = send(northwind_quote, world["rita"], world["max"])
    customer = Client(enforce_csrf_checks=True)
    page = customer.get(f"/quotes/accept/{sent.token}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Northwind Handels GmbH" in html and "€24,300.00" in html and sent.document.sha256 in html
    assert page["Cache-Control"] == "no-store" and page["Referrer-Policy"] == "same-origin"
    token = page.cookies["csrftoken"].value
    missing_box = customer.post(
        f"/quotes/accept/{sent.token}/accept/",
        {"signer_name": "Nora North", "signer_title": "CEO", "csrfmiddlewaretoken": token},
    )
    assert missing_box.status_code == 422 and "tick the box" in missing_box.content.decode()
    done = customer.post(
        f"/quotes/accept/{sent.token}/accept/",
        {"signer_name": "Nora North", "signer_title": "CEO", "agree": "on", "csrfmiddlewaretoken": token},
        HTTP_USER_AGENT="Browser/1.0",
    )
    assert done.status_code == 302
    assert "Accepted by Nora North (CEO)" in customer.get(f"/quotes/accept/{sent.token}/").content.decode()
    again = customer.post(
        f"/quotes/accept/{sent.token}/reject/", {"reason": "no", "csrfmiddlewaretoken": token}
    )
    assert again.status_code == 409
    assert Acceptance.objects.get().outcome == "accepted"
    pdf = customer.get(f"/quotes/accept/{sent.token}/pdf/")
    assert pdf.content == bytes(sent.document.pdf)


def test_a_tampered_or_expired_link_page_says_so(world, northwind_quote, on_day):
    sent = send(northwind_quote, world["rita"], world["max"])
    customer = Client()
    tampered = customer.get(f"/quotes/accept/{sent.token}x/")
    assert tampered.status_code == 404 and "This link cannot be used" in tampered.content.decode()
    on_day(date(2027, 3, 1))
    expired = customer.get(f"/quotes/accept/{sent.token}/")
    assert expired.status_code == 410 and "expired" in expired.content.decode()


def test_pages_need_a_login_and_the_right_role(world, northwind_quote):
    assert Client().get(f"/quotes/{northwind_quote.pk}/").status_code == 302
    viewer = browser(builders.user("vic", "viewer"))
    assert viewer.get(f"/quotes/{northwind_quote.pk}/").status_code == 200
    assert viewer.post(f"/quotes/{northwind_quote.pk}/save/", rows()).status_code == 403
    assert viewer.get("/quotes/approvals/").status_code == 403


def test_the_approval_page_hides_nothing_but_the_decision_of_others(world, northwind_quote):
    approve(northwind_quote, world["rita"], world["max"])
    html = browser(world["rita"]).get(f"/quotes/{northwind_quote.pk}/").content.decode()
    assert "max approved" in html and "“ok”" in html
