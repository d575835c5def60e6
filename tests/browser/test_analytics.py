"""The analytics dashboards in Chromium, over the small company of tests/analytics/world.py (Q1
2027): every KPI tile shows what the KPI service (``q2c.analytics.queries.kpis_json``, the object
``q2c kpis --json`` prints) computes for the same range; an aging bar opens the invoices behind it
and an invoice from there; the cash-conversion table links the stuck deal's quote; hovering a
mark shows its value. Screenshots are kept (test-artifacts/analytics-*.png)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.browser
Q1 = "?from=2027-01-01&to=2027-03-31"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def company(transactional_db: Any) -> dict[str, Any]:
    from django.contrib.auth.models import Group

    from q2c.tax.services import load_shipped
    from tests.analytics import world
    from tests.quotes import builders

    # A live-server test starts from a flushed database: reseed what the migrations seed.
    load_shipped()
    for role in ("admin", "sales_rep", "sales_manager", "finance", "viewer"):
        Group.objects.get_or_create(name=role)
    builders.reseed()
    return world.build()


def service() -> dict[str, Any]:
    from q2c.analytics import queries

    return queries.kpis_json(queries.scope_from(date_from="2027-01-01", date_to="2027-03-31"))


def percent(ratio: str | None) -> str:
    return "—" if ratio is None else format((Decimal(ratio) * 100).quantize(Decimal("0.01")), "f")


def tile(page: Any, key: str) -> str:
    return page.locator(f'[data-kpi="{key}"] .kpi-value').inner_text().strip()


def test_finance_reads_the_kpis_of_the_service_and_follows_aging_to_an_invoice(
    page, login_as, screenshot, company
):
    login_as("finance", "fiona")
    expected = service()
    page.goto("/analytics/finance/" + Q1)
    assert tile(page, "billings") == expected["billings"]
    assert tile(page, "dso") == expected["dso"]
    assert tile(page, "dso_countback") == expected["dso_countback"]
    assert tile(page, "cei") == percent(expected["cei"])
    assert tile(page, "collection_rate") == percent(expected["collection_rate"])
    assert tile(page, "bad_debt_rate") == percent(expected["bad_debt_rate"])
    assert tile(page, "recognized_revenue") == expected["recognized_revenue"]
    assert tile(page, "deferred_revenue") == expected["deferred_revenue"]
    bar = page.locator('svg [data-key="1-30"]')
    assert bar.get_attribute("data-value") == expected["ar_aging"]["1-30"]
    assert (
        bar.locator("title").text_content() == f"1-30: {expected['ar_aging']['1-30']} EUR"
    )  # the hover text
    screenshot(page, "analytics-finance")
    bar.click()
    page.wait_for_url("**#aging-1-30")
    page.locator("#aging-1-30").get_by_role("link", name="INV-2027-000002").click()
    page.wait_for_url(f"**/billing/invoices/{company['invoices']['I2'].pk}/")


def test_sales_and_executive_dashboards_match_the_service(page, login_as, screenshot, company):
    login_as("sales_manager", "max2")
    expected = service()
    page.goto("/analytics/sales/" + Q1)
    for key in ("pipeline", "weighted_pipeline", "bookings"):
        assert tile(page, key) == expected[key]
    assert tile(page, "win_rate") == percent(expected["win_rate"])
    assert tile(page, "avg_discount") == percent(expected["avg_discount"])
    assert tile(page, "sales_cycle") == expected["sales_cycle_days"]["median"]
    screenshot(page, "analytics-sales")
    page.get_by_role("link", name="Executive").click()
    page.wait_for_url("**/analytics/executive/**")
    for key in ("mrr", "arr", "bookings", "billings", "dso"):
        assert tile(page, key) == (expected[key] or "—")
    assert tile(page, "nrr") == percent(expected["nrr"])
    stuck = page.locator('[data-table="stuck"]')
    assert "not invoiced yet" in stuck.inner_text()
    screenshot(page, "analytics-executive")
    stuck.get_by_role("link", name="Q-2027-000001 v1").click()
    page.wait_for_url(f"**/quotes/{company['quote_q1'].pk}/")
