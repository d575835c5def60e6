"""The customer pays an invoice in the portal: opens the signed link (no login), sees the open
invoice, pays by card with the 3-D Secure test card, confirms the challenge and sees the invoice
gone from the open list and the payment in the history. Finance then sees the payment on the
Payments page. Screenshot: test-artifacts/payments-portal.png."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def open_invoice(transactional_db):
    """Acme Cloud's consulting invoice to Northwind: 1,900.00 + 19 % VAT = 2,261.00."""
    from q2c.payments import portal
    from q2c.tax.services import load_shipped
    from tests.payments.world import customer, invoice, seller

    load_shipped()  # a live-server test starts from a flushed database
    acme = seller()
    northwind = customer(acme)
    inv = invoice(northwind)
    return inv, portal.link_token(northwind.pk)


def test_the_customer_pays_an_invoice_by_card_with_3d_secure_in_the_portal(page, login_as, screenshot, open_invoice):
    inv, token = open_invoice
    page.goto(f"/payments/portal/{token}/")
    row = page.get_by_role("row", name=inv.number)
    assert "2261.00 EUR" in row.inner_text()
    page.get_by_label("Card number").fill("4000 0000 0000 3220")
    page.get_by_role("button", name="Pay by card").click()
    page.wait_for_url("**/3ds/*/")
    assert "2261.00 EUR" in page.locator("main, body").first.inner_text()
    page.get_by_role("button", name="Confirm").click()
    status = page.get_by_role("status")
    assert status.inner_text() == "Thank you: 2261.00 EUR paid by card ending 3220."
    assert "Nothing is open. Thank you." in page.locator("#open-invoices").inner_text()
    assert "card" in page.locator("#history").inner_text() and "received" in page.locator("#history").inner_text()
    screenshot(page, "payments-portal")

    login_as("finance", "fiona")
    page.goto("/payments/")
    assert "received" in page.locator("#payments").inner_text()
