"""Finance bills through the Billing pages: starts the bill run of the day, reads its results,
opens the invoice it made and the source of its line, and issues a credit note with the
credit-note action. A viewer reads the same pages without the actions. Screenshots are kept
(test-artifacts/billing-run.png, billing-invoice.png)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def subscription(transactional_db):
    """Acme Cloud bills Northwind 10 seats at 30.00 a month from the first of this month."""
    from q2c.billing import services
    from q2c.billing.services import ContractHead, LineIn
    from q2c.core import clock
    from q2c.tax.services import load_shipped
    from tests.billing.world import customer, seller

    # A live-server test starts from a flushed database: the shipped tax rates must be loaded again.
    load_shipped()
    today = clock.today("Europe/Berlin")
    start = today.replace(day=1)
    acme = seller()
    northwind = customer(acme)
    head = ContractHead(1, "CON-1", acme.pk, northwind.pk, "EUR", start, start + timedelta(days=366))
    line = LineIn("1", "SEAT", "recurring", Decimal(10), Decimal("30.00"), start, start + timedelta(days=366),
                  name="Platform seat", period_months=1, tax_category="digital_service", revenue_category="subscriptions")  # fmt: skip
    services.create_schedules(head, [line])
    return today


def test_finance_runs_the_bill_run_reads_the_invoice_and_credits_it(page, login_as, screenshot, subscription):
    login_as("finance", "fiona")
    page.get_by_role("link", name="Billing").click()
    page.wait_for_url("**/billing/")
    assert page.get_by_label("Bill everything due on").input_value() == subscription.isoformat()
    page.get_by_role("button", name="Start bill run").click()
    page.wait_for_url("**/billing/runs/*/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Bill run of {subscription.isoformat()}"
    assert page.locator("[data-status]").inner_text() == "completed"
    # 10 × 30.00 = 300.00 + 19 % = 357.00.
    assert "357.00 EUR" in page.locator("dl.facts").nth(1).inner_text()
    screenshot(page, "billing-run")

    page.get_by_role("link", name="1", exact=True).click()
    page.wait_for_url("**/billing/invoices/?bill_run=*")
    row = page.get_by_role("row", name="Northwind Handels GmbH")
    assert "357.00 EUR" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url("**/billing/invoices/*/")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading.startswith(f"Invoice INV-{subscription.year}-000001")
    line = page.get_by_role("row", name="Platform seat")
    assert "contract CON-1 line 1" in line.inner_text() and "schedule" in line.inner_text()
    screenshot(page, "billing-invoice")

    page.get_by_role("link", name="Credit note…").click()
    page.get_by_label("Reason", exact=True).select_option("service_cancelled")
    page.get_by_label("credit everything that is left").check()
    page.get_by_role("button", name="Issue credit note").click()
    page.wait_for_url("**/billing/credit-notes/*/")
    assert page.get_by_role("heading", level=1).inner_text() == f"Credit note CN-{subscription.year}-000001"
    assert "357.00 EUR" in page.locator("dl.facts").inner_text()


def test_a_viewer_reads_billing_without_its_actions(page, login_as, subscription):
    login_as("viewer", "vera")
    page.goto("/billing/")
    assert page.get_by_role("heading", level=1).inner_text() == "Billing"
    assert page.get_by_role("button", name="Start bill run").count() == 0
    page.goto("/billing/invoices/")
    assert page.get_by_role("heading", level=1).inner_text() == "Invoices"
