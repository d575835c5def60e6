"""The role dashboards over the seeded company of ``world.py`` (Q1 2027, EUR): each tile and chart
shows what the KPI service computes, the tables list the documents behind the numbers and link
to them, exports neutralise formulas, bad input is refused naming the field, and the roles of
docs/permissions.md hold.

The expected figures are those worked out by hand in test_kpis_seeded.py (EXPECTED_Q1); the cash
conversion is worked here: Q1 was sent 2027-01-12 and accepted 2027-01-20 (8 days); no contract
invoice was issued, so it waits at "accepted" with its TCV 24,300.00.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests.analytics import world
from tests.analytics.test_kpis_seeded import EXPECTED_Q1
from tests.billing.world import user

pytestmark = pytest.mark.django_db
Q1 = {"from": "2027-01-01", "to": "2027-03-31"}


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def seeded() -> dict[str, Any]:
    return world.build()


@pytest.fixture
def seller() -> Any:
    """Just the seller: bad input and roles need no documents."""
    from tests.billing.world import at
    from tests.billing.world import seller as make_seller

    at(world.date(2027, 4, 2))
    return make_seller()


def signed_in(role: str) -> Client:
    client = Client()
    client.force_login(user(role, f"dash_{role}"))
    return client


def tiles(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="([^"]+)">.*?<span class="kpi-value">([^<]*)</span>', html, re.S))


def marks(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-key="([^"]+)" data-value="([^"]+)"', html))


def test_the_finance_dashboard_shows_the_kpi_service_figures_and_the_invoices_behind_aging(seeded):
    html = signed_in("finance").get("/analytics/finance/", Q1).content.decode()
    shown = tiles(html)
    assert shown["billings"] == EXPECTED_Q1["billings"] == "4946.00"
    assert (shown["dso"], shown["dso_countback"]) == (EXPECTED_Q1["dso"], EXPECTED_Q1["dso_countback"])
    assert shown["cei"] == "63.76"  # 0.6376 as a percentage
    assert shown["collection_rate"] == "42.25"
    assert shown["billing_accuracy"] == "75.00"
    assert shown["disputes"] == "1"
    bars = marks(html)
    assert {k: bars[k] for k in ("current", "1-30", "31-60", "61-90", "90+")} == {
        "current": "1376.00", "1-30": "1380.00", "31-60": "0.00", "61-90": "0.00", "90+": "0.00",
    }  # fmt: skip
    # Clicking the 1–30 bar goes to the invoices of that bucket, each linked to its page.
    assert '<a href="#aging-1-30">' in html
    i2 = seeded["invoices"]["I2"]
    assert re.search(rf'id="aging-1-30"><td><a href="/billing/invoices/{i2.pk}/">INV-2027-000002</a>', html)


def test_the_sales_dashboard_shows_the_pipeline_and_escapes_names(seeded):
    html = signed_in("sales_manager").get("/analytics/sales/", Q1).content.decode()
    shown = tiles(html)
    assert (shown["pipeline"], shown["weighted_pipeline"], shown["bookings"]) == (
        "24300.00",
        "12150.00",
        "24300.00",
    )
    assert (shown["win_rate"], shown["avg_discount"]) == ("50.00", "10.00")
    assert (shown["created_to_sent"], shown["sent_to_accepted"], shown["sales_cycle"]) == (
        "2.00",
        "8.00",
        "10.00",
    )
    assert "<i>expansion</i>" not in html
    assert "&lt;i&gt;expansion&lt;/i&gt;" in html
    o3 = seeded["opportunities"]["O3"]
    assert f'href="/quotes/opportunities/{o3.pk}/"' in html
    # The funnel: one quote sent, accepted, none invoiced or paid yet.
    assert {k: v for k, v in marks(html).items() if k in ("sent", "accepted", "invoiced", "paid")} == {
        "sent": "1", "accepted": "1", "invoiced": "0", "paid": "0",
    }  # fmt: skip


def test_the_executive_dashboard_shows_mrr_and_where_deals_are_stuck(seeded):
    html = signed_in("viewer").get("/analytics/executive/", Q1).content.decode()
    shown = tiles(html)
    assert (shown["mrr"], shown["arr"], shown["nrr"]) == ("1275.00", "15300.00", "—")
    bars = marks(html)
    assert bars["new|2027-02"] == "1275.00"  # the stacked movements: C-1's seats start in February
    assert bars["MRR|2027-03"] == "1275.00"
    table = html[html.index('data-table="stuck"') :]
    q1 = seeded["quote_q1"]
    assert re.search(
        rf"<td>accepted</td><td>not invoiced yet</td><td><a href=\"/quotes/{q1.pk}/\">Q-2027-000001 v1</a></td>"
        r"<td>2027-01-12</td><td>24300.00 EUR</td>",
        table,
    )
    steps = html[html.index('data-table="conversion"') :]
    assert re.search(r"<td>sent→accepted</td><td>1</td><td>8.00</td><td>8.00</td>", steps)


def test_exports_neutralise_formulas_in_csv_and_xlsx(seeded):
    client = signed_in("finance")
    answer = client.get("/analytics/sales/", {**Q1, "format": "csv", "table": "pipeline"})
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert rows[0] == ["Opportunity", "Created", "Probability %", "Amount (EUR)"]
    assert rows[1] == ["'" + world.O3_NAME, "2027-03-01", "50.00", "24300.00"]
    answer = client.get("/analytics/sales/", {**Q1, "format": "xlsx", "table": "pipeline"})
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet["A2"].value == "'" + world.O3_NAME and sheet["A2"].data_type == "s"


@pytest.mark.parametrize(
    ("query", "text"),
    [
        ({"from": "2027-02-31"}, "is not a date"),
        ({"from": "2027-03-01", "to": "2027-02-01"}, "before it starts"),
        ({"entity": "12345"}, "no legal entity 12345"),
        ({"currency": "<b>"}, "is not an ISO 4217 currency code"),
        ({"format": "pdf"}, "format is csv or xlsx"),
        ({"format": "csv", "table": "secrets"}, "is not a table of this page"),
    ],
)
def test_bad_input_on_a_page_is_a_422_saying_why(seller, query, text):
    answer = signed_in("finance").get("/analytics/finance/", query)
    assert answer.status_code == 422
    body = answer.content.decode()
    assert text in body
    assert "<b>" not in body.split("<main", 1)[-1]


@pytest.mark.parametrize(
    ("role", "page", "status"),
    [
        ("sales_rep", "/analytics/sales/", 403),
        ("sales_rep", "/analytics/", 403),
        ("sales_manager", "/analytics/finance/", 403),
        ("viewer", "/analytics/finance/", 200),
        ("finance", "/analytics/executive/", 200),
    ],
)
def test_each_dashboard_admits_the_roles_of_the_matrix(seller, role, page, status):
    assert signed_in(role).get(page, Q1).status_code == status
