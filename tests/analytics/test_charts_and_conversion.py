"""The pure parts of the dashboards: SVG charts (escaping, exact values on each mark, links) and
the cash-conversion funnel with days between stages worked out by hand."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal as D
from xml.etree import ElementTree

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.analytics import charts
from q2c.analytics.metrics import MetricsError, RateTable
from q2c.analytics.metrics.conversion import Deal, cash_conversion
from tests.analytics.conftest import d, eur, usd

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ElementTree.Element:
    return ElementTree.fromstring(svg)  # well-formed XML, or this raises


def test_every_chart_escapes_labels_titles_and_links():
    hostile = '<script>alert("x")</script>&'
    point = charts.Point(hostile, D("12.5"), 'javascript:"><script>')
    for svg in (
        charts.line_chart(hostile, [charts.Series(hostile, [point])]),
        charts.stacked_bars(hostile, [hostile], [charts.Series(hostile, [point])]),
        charts.hbars(hostile, [point]),
    ):
        assert "<script>" not in svg
        root = parse(svg)
        assert root.find(f"{SVG}title").text == hostile


def test_each_mark_carries_its_exact_value_and_a_hover_title():
    svg = charts.hbars(
        "aging", [charts.Point("1-30", D("1380.00"), "#aging-1-30"), charts.Point("90+", D("0"))]
    )
    root = parse(svg)
    rects = [r for r in root.iter(f"{SVG}rect") if r.get("data-key")]
    assert [(r.get("data-key"), r.get("data-value")) for r in rects] == [("1-30", "1380.00"), ("90+", "0")]
    assert rects[0].find(f"{SVG}title").text == "1-30: 1380.00"
    # The longest bar spans the drawing width (640 − 150 − 16 − 90 = 384); an empty bucket is 0 wide.
    assert [r.get("width") for r in rects] == ["384.00", "0.00"]
    links = [a.get("href") for a in root.iter(f"{SVG}a")]
    assert links == ["#aging-1-30"]


def test_negative_segments_stack_below_the_axis():
    svg = charts.stacked_bars(
        "movements",
        ["2027-02"],
        [
            charts.Series("new", [charts.Point("2027-02", D(300))]),
            charts.Series("churn", [charts.Point("2027-02", D(-100))]),
        ],
    )
    rects = {r.get("data-key"): r for r in parse(svg).iter(f"{SVG}rect") if r.get("data-key")}
    # Scale 0..300 up and −100 down over 168 px: 0 sits at 16 + 168 × 300/400 = 142.
    assert (rects["new|2027-02"].get("y"), rects["new|2027-02"].get("height")) == ("16.00", "126.00")
    assert (rects["churn|2027-02"].get("y"), rects["churn|2027-02"].get("height")) == ("142.00", "42.00")


def test_an_empty_chart_says_so():
    assert "No data in this range." in charts.line_chart("empty", [])


RATES = RateTable("EUR", {"USD": [(d("2027-01-01"), D("0.90"))]})


def deals() -> list[Deal]:
    return [
        # Sent 01-05, accepted 01-15 (10), invoiced 02-01 (17), paid 02-20 (19); sent → paid 46.
        Deal(1, "A", eur(1000), d("2027-01-05"), d("2027-01-15"), d("2027-02-01"), d("2027-02-20")),
        # Sent 01-10, accepted 01-14 (4), invoiced 01-20 (6), not paid: stuck at invoiced.
        Deal(2, "B", usd(2000), d("2027-01-10"), d("2027-01-14"), d("2027-01-20")),
        # Sent 02-01, accepted 02-09 (8): stuck at accepted; paid after the range closes (ignored).
        Deal(3, "C", eur(500), d("2027-02-01"), d("2027-02-09"), d("2027-04-01"), d("2027-04-10")),
        # Sent 02-10, declined 02-20: dropped. Sent 03-01, waiting: stuck at sent.
        Deal(4, "D", eur(700), d("2027-02-10"), dropped_on=d("2027-02-20")),
        Deal(5, "E", eur(300), d("2027-03-01")),
        # Sent before the range: not in its cohort.
        Deal(6, "F", eur(9999), d("2026-12-31"), d("2027-01-02")),
    ]


def test_cash_conversion_counts_stages_medians_and_what_is_stuck():
    c = cash_conversion(deals(), d("2027-01-01"), d("2027-04-01"), RATES)
    assert c.reached == {"sent": 5, "accepted": 3, "invoiced": 2, "paid": 1}
    # sent→accepted: 10, 4, 8 → median 8, mean 22/3; accepted→invoiced: 17, 6 → median 11.5.
    assert (c.steps["sent→accepted"].count, c.steps["sent→accepted"].median_days) == (3, D(8))
    assert c.steps["sent→accepted"].mean_days == D(22) / 3
    assert c.steps["accepted→invoiced"].median_days == D("11.5")
    assert (c.steps["invoiced→paid"].median_days, c.steps["sent→paid"].median_days) == (D(19), D(46))
    stuck = {s.stage: (s.count, s.amount, [x.label for x in s.deals]) for s in c.stuck}
    assert stuck == {
        "sent": (1, eur("300.00"), ["E"]),
        "accepted": (1, eur("500.00"), ["C"]),
        "invoiced": (1, eur("1800.00"), ["B"]),  # USD 2,000 at 0.90
    }
    assert c.dropped == 1


def test_a_deal_must_reach_its_stages_in_order():
    with pytest.raises(MetricsError):
        Deal(1, "A", eur(1), d("2027-01-05"), None, d("2027-02-01"))
    with pytest.raises(MetricsError):
        Deal(1, "A", eur(1), d("2027-01-05"), d("2027-01-01"))


@st.composite
def random_deals(draw: st.DrawFn) -> list[Deal]:
    out = []
    for i in range(draw(st.integers(0, 12))):
        sent = date(2027, 1, 1) + timedelta(days=draw(st.integers(-20, 100)))
        steps = [sent]
        for _ in range(draw(st.integers(0, 3))):
            steps.append(steps[-1] + timedelta(days=draw(st.integers(0, 40))))
        dropped = None
        if len(steps) == 1 and draw(st.booleans()):
            dropped = sent + timedelta(days=draw(st.integers(0, 40)))
        steps += [None] * (4 - len(steps))
        out.append(
            Deal(
                i, f"D{i}", eur(draw(st.integers(1, 10_000))), steps[0], steps[1], steps[2], steps[3], dropped
            )
        )
    return out


@settings(max_examples=150, deadline=None)
@given(random_deals())
def test_every_deal_of_the_cohort_is_paid_stuck_or_dropped_and_stages_only_narrow(items):
    start, end = date(2027, 1, 1), date(2027, 3, 1)
    c = cash_conversion(items, start, end, RATES)
    cohort = [x for x in items if start <= x.sent_on < end]
    counts = [c.reached[s] for s in ("sent", "accepted", "invoiced", "paid")]
    assert counts == sorted(counts, reverse=True) and counts[0] == len(cohort)
    assert c.reached["paid"] + sum(s.count for s in c.stuck) + c.dropped == len(cohort)
    # Each step's count is the number of deals that reached its later stage.
    assert [c.steps[k].count for k in ("sent→accepted", "accepted→invoiced", "invoiced→paid")] == counts[1:]
