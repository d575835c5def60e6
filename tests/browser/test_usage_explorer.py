"""A finance user explores a customer's usage: Billing → Usage, the customer's usage subscription,
its months with the events, the aggregates per region (the EU at its own price, the US at the
catalog's), the amount rated now, the late events billed as an adjustment and the invoice of the
month. Screenshot kept (test-artifacts/usage-explorer.png).

Amounts by hand: catalog tiers 0–100,000 at 0.00, then 0.002; the EU overridden to 0.003 above
100,000. March: EU 200,000 → 100,000 × 0.003 = 300.00; US 150,000 → 50,000 × 0.002 = 100.00,
invoiced 400.00 on 2027-04-01; a late 10,000 US calls make US 160,000 → 120.00 (+20.00 adjustment),
so March is rated 420.00 now.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def usage(transactional_db):
    from q2c.billing.models import UsageMetric
    from q2c.billing.run import bill_run
    from q2c.billing.usage import ingest, set_usage_terms
    from q2c.tax.services import load_shipped
    from tests.billing.usage_world import at_berlin, catalog, event, usage_contract
    from tests.billing.world import at, customer, seller

    # A live-server test starts from a flushed database: the shipped tax rates must be loaded again.
    load_shipped()
    clk = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    catalog()
    sub = usage_contract(acme, northwind)
    UsageMetric.objects.filter(code="api_calls").update(group_by=["region"])
    set_usage_terms(sub.pk, {"effective_from": "2027-03-01", "prices": [{"dimension": {"region": "EU"},
        "model": "tiered", "tiers": [{"lower": "0", "upper": "100000", "unit_price": "0"},
                                     {"lower": "100000", "unit_price": "0.003"}]}]})  # fmt: skip
    clk.set(date(2027, 4, 1))
    ingest([
        event("eu", sub.pk, 200_000, at_berlin(date(2027, 3, 3)), properties={"region": "EU"}),
        event("us", sub.pk, 150_000, at_berlin(date(2027, 3, 9)), properties={"region": "US"}),
    ])  # fmt: skip
    bill_run(date(2027, 4, 1), actor="test")
    clk.set(date(2027, 4, 10))
    ingest([event("late", sub.pk, 10_000, at_berlin(date(2027, 3, 30)), properties={"region": "US"})])
    bill_run(date(2027, 4, 10), actor="test")
    return sub


def test_finance_opens_a_customers_usage_and_reads_its_months(page, login_as, screenshot, usage):
    login_as("finance", "fiona")
    page.get_by_role("link", name="Billing").click()
    page.wait_for_url("**/billing/")
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Usage").click()
    page.wait_for_url("**/billing/usage/")
    row = page.get_by_role("row", name="Northwind Handels GmbH")
    assert "api_calls" in row.inner_text()
    row.get_by_role("link").click()
    page.wait_for_url(f"**/billing/usage/{usage.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == "Usage: Northwind Handels GmbH — API"

    march = page.get_by_role("region", name="2027-03")
    summary = march.locator("p").first.inner_text()
    assert "3 events" in summary and "1 late" in summary
    assert "rated now: 420.00 EUR" in summary and "invoiced: 420.00 EUR" in summary
    aggregates = march.get_by_role("table", name="Aggregates 2027-03")
    eu = aggregates.get_by_role("row", name="region=EU")
    assert [eu.get_by_role("cell").nth(i).inner_text() for i in (1, 4, 5)] == [
        "200000",
        "300.00",
        "override: region=EU",
    ]
    assert "100001–∞: 100000 × 0.003 = 300.00" in eu.inner_text()
    us = aggregates.get_by_role("row", name="region=US")
    assert [us.get_by_role("cell").nth(i).inner_text() for i in (1, 4, 5)] == ["160000", "120.00", "catalog"]
    # The lines billed: the month on the first invoice, the late events as an adjustment on the next.
    lines = march.get_by_role("table", name="Lines billed 2027-03")
    adjustment = lines.get_by_role("row", name="late usage adjustment")
    assert "20.00 EUR" in adjustment.inner_text() and "INV-2027-000002" in adjustment.inner_text()
    first = lines.get_by_role("row", name="API — API calls, usage 2027-03 (region=EU)")
    assert "300.00 EUR" in first.inner_text() and "INV-2027-000001" in first.inner_text()
    screenshot(page, "usage-explorer")

    first.get_by_role("link", name="INV-2027-000001").click()
    page.wait_for_url("**/billing/invoices/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Invoice INV-2027-000001")
