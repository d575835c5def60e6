"""The gatherer over the small company of ``world.py`` (Q1: 50 SEAT at 15 % off, ONB, 2 EDGE, API;
list TCV 27,000.00, TCV 24,300.00 → 10 % off the quote; created 01-10, sent 01-12, accepted 01-20,
by rita), the floor and limit guardrails of the open quote Q3 (same lines), and ``q2c winprob``
refusing to train on one decided quote."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from q2c.analytics.forecasting import gather, jobs, store
from tests.analytics import world

pytestmark = pytest.mark.django_db


@pytest.fixture
def company(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    return world.build()


def test_history_holds_the_decided_quote_only(company):
    (row,) = gather.history()  # Q3 is a draft: not decided, not in the history
    assert row.quote_id == company["quote_q1"].pk
    assert row.won is True
    assert row.discount_percent == pytest.approx(10.0)
    assert row.deal_size == pytest.approx(24300.0)
    assert row.products == ("API", "EDGE", "ONB", "SEAT")
    assert row.segment == "mid"  # 50 seats: 20–79
    assert row.rep == "rita"
    assert row.days_in_stage == pytest.approx(2.0)  # 01-10 09:00 → 01-12 09:00
    assert row.decided_on == date(2027, 1, 20)
    assert row.context == "new"  # the quote's sale context
    # the deepest line discount: SEAT's 15 % (world.LINES); the quote's 10 % is diluted by the
    # undiscounted ONB and EDGE lines
    assert row.line_discount == pytest.approx(15.0)
    assert row.goods is True  # 2 EDGE: revenue category hardware


def test_open_quote_facts_with_a_floor_and_the_reps_limit(company):
    from q2c.catalog.models import Product
    from q2c.catalog.services import clear_cache, update_product
    from q2c.quotes.models import Quote

    seat = Product.objects.get(sku="SEAT")
    update_product(seat.pk, {"floor_price": "24.00", "floor_currency": "EUR"}, actor="test")
    clear_cache()
    q3 = Quote.objects.get(opportunity=company["opportunities"]["O3"])
    facts = gather.facts(q3)
    assert facts.list_value == D("27000.00")
    # SEAT: floor 24.00 × 50 = 1,200.00 against a list amount of 30.00 × 50 = 1,500.00 a month
    # → at most 1 − 1,200/1,500 = 20 % off; ONB, EDGE have no floor, API is usage
    assert facts.floor_discount == D("20.00")
    assert facts.rep_limit == D("10")  # sales_rep's limit in tests/quotes/builders.py
    assert facts.row.won is None
    # the recommendation's target lines: the recurring line with the most units, SEAT (50);
    # list 1,500.00 × 12 = 18,000.00; the rest as it stands: ONB 5,000 + 2 × EDGE 2,000 = 9,000.00
    assert facts.targets == ("Platform seat",)
    assert facts.target_list == D("18000.00")
    assert facts.rest_value == D("9000.00")
    assert facts.value == D("24300.00")


def test_too_little_history_trains_nothing_and_says_why(company):
    with pytest.raises(CommandError, match="1 decided quotes; at least 60"):
        call_command("winprob", stdout=StringIO())
    stored = store.load()
    assert stored is not None and stored.model is None
    assert "1 decided quotes" in stored.insufficient
    # the daily job trains only on Mondays once something is stored (2027-04-02 is a Friday)
    assert jobs.daily(date(2027, 4, 2)) == {"trained": False, "skipped": "trains on Mondays"}
    assert jobs.daily(date(2027, 4, 5))["trained"] is False  # a Monday: tried again, still too little


def _builder_html(company) -> str:
    from django.test import RequestFactory

    from q2c.analytics.forecasting.panels import builder_panel
    from q2c.quotes.models import Quote

    request = RequestFactory().get("/")
    request.user = company["rita"]
    q3 = Quote.objects.get(opportunity=company["opportunities"]["O3"])
    return builder_panel(request, {"quote": q3})


def test_builder_panel_without_a_model_shows_no_number(company):
    html = _builder_html(company)
    assert "Not shown: too little quote history" in html and "no model has been trained yet" in html
    assert "%" not in html


def test_builder_panel_with_a_model_recommends_within_the_limit(company):
    from q2c.analytics.forecasting.winprob import WinModel

    # a model whose chance is 0.5 whatever the quote: any discount only costs margin
    flat = WinModel(
        names=("discount",), means=(0.0,), scales=(1.0,), coefs=(0.0,), intercept=0.0, trained_rows=80
    )
    store.save(store.Stored(trained_on="2027-04-01", model=flat, evaluation={"beats_baselines": True}))
    html = _builder_html(company)
    # Q3: the seats at 15 % (the discount the buyer sees), TCV 24,300.00 → 0.5 × 24,300.00 =
    # 12,150.00; no discount on the seats → 0.5 × (18,000.00 + 9,000.00) = 13,500.00
    assert (
        "At the current discount of 15 %: <strong>50 %</strong> chance, expected margin 12150.00 EUR" in html
    )
    assert (
        "Recommended discount on Platform seat: <strong>0 %</strong> — 50 % chance, expected margin 13500.00 EUR"
        in html
    )
    assert "(at most 10 % without approval: rep limit)" in html
    assert "needs approval" not in html


def test_builder_panel_hides_a_model_that_does_not_beat_its_baselines(company):
    from q2c.analytics.forecasting.winprob import WinModel

    flat = WinModel(
        names=("discount",), means=(0.0,), scales=(1.0,), coefs=(0.0,), intercept=0.0, trained_rows=80
    )
    evaluation = {"beats_baselines": False, "model": {"auc": 0.5}}
    store.save(store.Stored(trained_on="2027-04-01", model=flat, evaluation=evaluation))
    html = _builder_html(company)
    assert "Not shown: the model does not beat its baselines on held-out quotes (AUC 0.5" in html
    assert "Recommended" not in html
