"""The sellers' view of the sales dashboard (``/analytics/sales/mine/``): a sales rep sees the
figures of their own deals only, a sales manager those of their teams (``q2c.quotes.access``),
never another rep's; the rest of the report (billings, receivables, MRR) is not shown; other
roles get 403 and bad input a 422.

Figures by hand over the seeded company of ``world.py`` (2027-01-01 … 2027-04-02, EUR), whose deals are all
Rita's (team DACH, managed by Max): O1 won (TCV 24,300.00, bookings), O2 lost, O3 open at 50 %
with its quote's TCV 24,300.00 (pipeline 24,300.00, weighted 12,150.00); win rate 1 won of 2
closed = 50.00 %. Added here: Sam, a rep in no team, whose O4 is created and lost on
2027-04-02 — Sam's view: pipeline 0.00, bookings 0.00, win rate 0 of 1 = 0.00 %; the whole
company's win rate becomes 1 of 3 = 33.33 %.
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from django.test import Client

from tests.analytics import world
from tests.billing.world import user

pytestmark = pytest.mark.django_db
Q1 = {"from": "2027-01-01", "to": "2027-04-02"}  # Q1 and the seed's last day, when Sam's deal is lost
MINE = "/analytics/sales/mine/"


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def seeded() -> dict[str, Any]:
    from q2c.quotes import services as quotes

    company = world.build()
    sam = user("sales_rep", "sam")
    o4 = quotes.create_opportunity(
        actor=sam, account_id=company["northwind"].pk, name="Northwind <b>side</b> deal"
    )
    quotes.move(o4.pk, "closed_lost", actor=sam, loss_reason="budget")
    return {**company, "sam": sam, "o4": o4}


def csv_rows(stream: io.StringIO) -> list[list[str]]:
    return list(csv.reader(stream))


def as_user(person: Any) -> Client:
    client = Client()
    client.force_login(person)
    return client


def tiles(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-kpi="([^"]+)">.*?<span class="kpi-value">([^<]*)</span>', html, re.S))


def sales_figures(html: str) -> tuple[str, str, str, str]:
    shown = tiles(html)
    return shown["pipeline"], shown["weighted_pipeline"], shown["bookings"], shown["win_rate"]


def test_a_rep_sees_only_their_own_numbers(seeded):
    sam = as_user(seeded["sam"]).get(MINE, Q1)
    assert sam.status_code == 200
    html = sam.content.decode()
    assert sales_figures(html) == ("0.00", "0.00", "0.00", "0.00")
    o1, o3 = seeded["opportunities"]["O1"], seeded["opportunities"]["O3"]
    assert f"/quotes/opportunities/{o1.pk}/" not in html and f"/quotes/opportunities/{o3.pk}/" not in html

    rita = as_user(seeded["rita"]).get(MINE, Q1).content.decode()
    assert sales_figures(rita) == ("24300.00", "12150.00", "24300.00", "50.00")
    assert f'href="/quotes/opportunities/{o3.pk}/"' in rita
    assert f"/quotes/opportunities/{seeded['o4'].pk}/" not in rita


def test_a_manager_sees_the_team_but_not_other_reps(seeded):
    html = as_user(seeded["max"]).get(MINE, Q1).content.decode()
    assert sales_figures(html) == ("24300.00", "12150.00", "24300.00", "50.00")  # Rita's, not Sam's


def test_the_whole_company_is_still_on_the_sales_dashboard(seeded):
    finance = Client()
    finance.force_login(user("finance", "rep_dash_finance"))
    html = finance.get("/analytics/sales/", Q1).content.decode()
    assert sales_figures(html) == ("24300.00", "12150.00", "24300.00", "33.33")


def test_the_sellers_view_lists_only_sales_figures_and_escapes_names(seeded):
    html = as_user(seeded["rita"]).get(MINE, Q1).content.decode()
    assert "My deals dashboard" in html
    assert "&lt;i&gt;expansion&lt;/i&gt;" in html and "<i>expansion</i>" not in html
    answer = (
        as_user(seeded["rita"])
        .get(MINE, {**Q1, "format": "csv", "table": "kpis"})
        .content.decode("utf-8-sig")
    )
    metrics = {row[0] for row in csv_rows(io.StringIO(answer))[1:]}
    assert "win_rate" in metrics and "pipeline" in metrics
    assert not metrics & {"billings", "dso", "mrr", "ar_aging.current", "recognized_revenue"}


@pytest.mark.parametrize(
    ("role", "status"), [("finance", 403), ("viewer", 403), ("sales_rep", 200), ("sales_manager", 200)]
)
def test_only_sellers_open_the_view(seeded, role, status):
    assert as_user(user(role, f"rep_dash_{role}")).get(MINE, Q1).status_code == status


def test_a_rep_still_gets_403_on_the_company_dashboards(seeded):
    rep = as_user(seeded["sam"])
    for page in ("/analytics/sales/", "/analytics/finance/", "/analytics/executive/"):
        assert rep.get(page, Q1).status_code == 403, page


def test_bad_input_is_a_422_and_anonymous_callers_sign_in(seeded):
    answer = as_user(seeded["sam"]).get(MINE, {"from": "2027-04-01", "to": "2027-01-01"})
    assert answer.status_code == 422
    assert Client().get(MINE, Q1).status_code == 302


def test_sales_reps_find_their_dashboard_in_the_navigation():
    from q2c.platform import ui

    (entry,) = [item for item in ui.NAV if item.url == "/analytics/sales/mine/"]
    assert entry.label == "My deals" and entry.roles == frozenset({"sales_rep"})
