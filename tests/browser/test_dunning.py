"""Finance works the collections worklist: opens "Collections", sees Northwind's overdue invoice
ranked with its amount and age, runs the day's dunning, reads the reminder in the account's log
and records the customer's promise to pay. Screenshots: test-artifacts/dunning-worklist.png,
dunning-account.png."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def overdue(transactional_db):
    """Northwind's invoice of 1,275.00 + 19 % = 1,517.25, issued 60 days ago on terms of 30 days:
    30 days overdue today. The live server runs in its own thread on the system clock, so the
    invoice is issued in this thread on a business clock set 60 days back."""
    from q2c.core import clock
    from q2c.invoicing import services as invoicing
    from q2c.payments.dunning import services
    from q2c.tax.services import load_shipped
    from tests.billing.world import at, customer, seller

    load_shipped()  # a live-server test starts from a flushed database
    today = clock.today()  # the server's business date (its default zone)
    at(today - timedelta(days=60))
    acme = seller()
    northwind = customer(acme)
    draft = invoicing.create_draft(
        account_id=northwind.pk,
        lines=[{"description": "Platform seats", "quantity": Decimal(1), "unit_price": Decimal("1275.00"),
                "tax_category": "service", "revenue_category": "services"}],
    )  # fmt: skip
    invoicing.issue(draft.pk, formats=[])
    services.save_policy(acme.pk, "default", name="Standard",
                         steps=[{"key": "reminder", "offset_days": 7, "action": "reminder"}])  # fmt: skip
    return today


def test_finance_runs_dunning_from_the_worklist_and_records_a_promise(page, login_as, screenshot, overdue):
    login_as("finance", "fiona")
    page.get_by_role("link", name="Collections").click()
    page.wait_for_url("**/dunning/")
    row = page.get_by_role("row", name="Northwind Handels GmbH")
    due = overdue - timedelta(days=30)
    assert "1517.25 EUR" in row.inner_text() and due.isoformat() in row.inner_text()
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Run dunning").click()
    page.wait_for_url("**/dunning/")
    assert "1 steps carried out" in page.content()
    assert (
        f"reminder ({overdue.isoformat()})"
        in page.get_by_role("row", name="Northwind Handels GmbH").inner_text()
    )
    screenshot(page, "dunning-worklist")

    page.get_by_role("link", name="Northwind Handels GmbH").click()
    page.wait_for_url("**/dunning/accounts/*/")
    expect(
        page.get_by_role("link", name=re.compile(r"^Payment reminder: invoice INV-\d{4}-000001$"))
    ).to_be_visible()
    promised = (overdue + timedelta(days=10)).isoformat()
    page.get_by_label("Pays by").fill(promised)
    page.get_by_label("Amount (EUR)").fill("1517.25")
    page.get_by_label("Notes").fill("AP approved it for the next run")
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Record promise").click()
    page.wait_for_url("**/dunning/accounts/*/")
    promise = page.get_by_role("row", name=promised)
    assert "1517.25 EUR" in promise.inner_text() and "open" in promise.inner_text()
    screenshot(page, "dunning-account")
