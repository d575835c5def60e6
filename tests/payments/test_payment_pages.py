"""The payments pages and the customer portal through Django's test client: aging on the
receivables page, the account page with its portal link, the portal paying by card with 3-D
Secure, documents only of the link's customer, tampered and expired links, HTML escaped."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from q2c.payments import portal, services
from q2c.payments.models import GatewayCharge
from tests.payments.world import at, customer, invoice, seller, user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme, name="Northwind <b>Handels</b> GmbH")
    return clk, acme, northwind, invoice(northwind)


def signed_in(role: str) -> Client:
    c = Client()
    c.force_login(user(role, f"page_{role}"))
    return c


def test_the_receivables_page_shows_aging_and_escapes_names(world):
    clk, _, _northwind, _ = world
    clk.set(date(2027, 4, 10))  # 10 days after the due date
    body = signed_in("viewer").get("/payments/").content.decode()
    assert "Northwind &lt;b&gt;Handels&lt;/b&gt; GmbH" in body and "<b>Handels</b>" not in body
    assert "2261.00" in body


def test_only_finance_sees_the_portal_link(world):
    _, _, northwind, _ = world
    assert "portal-link" in signed_in("finance").get(f"/payments/accounts/{northwind.pk}/").content.decode()
    assert "portal-link" not in signed_in("viewer").get(f"/payments/accounts/{northwind.pk}/").content.decode()


def test_the_customer_pays_through_the_portal_with_3d_secure(world):
    _, _, northwind, inv = world
    token = portal.link_token(northwind.pk)
    c = Client()
    page = c.get(f"/payments/portal/{token}/")
    assert page.status_code == 200 and "INV-2027-000001" in page.content.decode()
    assert page["Cache-Control"] == "no-store"
    answer = c.post(f"/payments/portal/{token}/pay/", {"invoice": [inv.pk], "card_number": "4000 0000 0000 3220"})
    charge = GatewayCharge.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/payments/portal/{token}/3ds/{charge.pk}/"
    done = c.post(answer["Location"], {"result": "pass"})
    assert "Thank you: 2261.00 EUR paid by card ending 3220." in done.content.decode()
    inv.refresh_from_db()
    assert inv.status == "paid"


def test_a_declined_card_in_the_portal_says_so_and_leaves_the_invoice_open(world):
    _, _, northwind, inv = world
    token = portal.link_token(northwind.pk)
    answer = Client().post(f"/payments/portal/{token}/pay/", {"invoice": [inv.pk], "card_number": "4000000000000002"})
    assert answer.status_code == 402 and "card_declined" in answer.content.decode()
    inv.refresh_from_db()
    assert inv.status == "issued"


def test_tampered_and_expired_links_open_nothing(world):
    clk, acme, northwind, inv = world
    token = portal.link_token(northwind.pk)
    assert Client().get(f"/payments/portal/{token[:-2]}xx/").status_code == 404
    other = customer(acme, name="Other GmbH")
    other_token = portal.link_token(other.pk)
    # Another customer's link cannot fetch this customer's invoice documents.
    assert Client().get(f"/payments/portal/{other_token}/invoices/{inv.pk}/pdf/").status_code == 404
    clk.set(date(2027, 4, 15))  # 45 days later: past the 30 days
    assert Client().get(f"/payments/portal/{token}/").status_code == 410


def test_a_write_off_is_approved_on_the_page_by_a_second_person(world):
    _, _, _, inv = world
    row = services.write_off(inv.pk, reason="insolvent", actor="someone_else")
    answer = signed_in("finance").post(f"/payments/write-offs/{row.pk}/approve/")
    assert answer.status_code == 302
    row.refresh_from_db()
    assert row.status == "approved"


def test_finance_records_a_payment_on_the_account_page_and_refunds_the_overpayment(world):
    _, _acme, northwind, inv = world
    finance = signed_in("finance")
    answer = finance.post(f"/payments/accounts/{northwind.pk}/record/", {"amount": "2300.00", "currency": "EUR",
                                                                       "method": "bank_transfer", "apply": "on"})  # fmt: skip
    assert answer.status_code == 302
    inv.refresh_from_db()
    assert inv.status == "paid"
    from q2c.payments.models import Payment

    payment = Payment.objects.get()
    assert payment.unapplied_minor == 3900  # 2,300.00 − 2,261.00
    assert finance.post(f"/payments/{payment.pk}/refund/", {"amount": "39.00", "method": "transfer"}).status_code == 302
    payment.refresh_from_db()
    assert payment.unapplied_minor == 0
    # Bad input: an error page naming the problem, nothing recorded.
    bad = finance.post(f"/payments/accounts/{northwind.pk}/record/", {"amount": "-5", "currency": "EUR"})
    assert bad.status_code == 422 and Payment.objects.count() == 1


def test_the_statement_pdf_is_a_pdf(world):
    _, _, northwind, _ = world
    answer = signed_in("viewer").get(f"/payments/accounts/{northwind.pk}/statement.pdf")
    assert answer["Content-Type"] == "application/pdf" and answer.content.startswith(b"%PDF")


def test_finance_writes_off_marks_disputed_and_closes_the_dispute_on_the_pages(world):
    _, _, _northwind, inv = world
    finance = signed_in("finance")
    assert finance.post(f"/payments/invoices/{inv.pk}/dispute/", {"reason": "wrong quantity"}).status_code == 302
    from q2c.payments import queries
    from q2c.payments.models import Dispute, WriteOff

    assert queries.open_receivable(inv.pk).disputed is True
    dispute = Dispute.objects.get()
    assert finance.post(f"/payments/disputes/{dispute.pk}/resolve/", {"outcome": "won"}).status_code == 302
    assert queries.open_receivable(inv.pk).disputed is False
    # 2,261.00 is above the 50.00 limit: a request waiting for someone else.
    answer = finance.post(f"/payments/invoices/{inv.pk}/write-off/", {"reason": "insolvent"}, follow=True)
    assert "waits for a second person" in answer.content.decode()
    assert WriteOff.objects.get().status == "pending"
    missing = finance.post(f"/payments/invoices/{inv.pk}/write-off/", {"reason": ""})
    assert missing.status_code in (409, 422)
