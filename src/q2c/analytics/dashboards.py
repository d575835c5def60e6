"""What each role's dashboard shows, as plain data: KPI tiles, charts (inline SVG from
``charts``), and the tables behind the numbers (each exportable to CSV and XLSX).

One read of every source per page (``queries.gather``); the monthly trends re-run the pure
metrics over the same records for each month, so a tile and the last point of its trend are the
same computation. Every figure comes from ``q2c.analytics.metrics``; nothing here does arithmetic
on money except choosing which records a table lists.

- **sales**: pipeline and weighted pipeline, bookings, win rate, average discount, quote
  turnaround, sales cycle; bookings trend; the quote funnel; open opportunities.
- **finance**: billings, AR aging (bars linked to the invoices in each bucket), DSO (standard and
  count-back), CEI, collection, bad debt, disputes, billing accuracy, recognised and deferred
  revenue; billings and DSO trends; open invoices.
- **mine** (the sellers' view): the sales dashboard over the caller's own deals only (a manager's:
  their own and their teams'); its KPI table lists only the sales figures.
- **executive**: MRR, ARR, NRR, GRR, logo churn; stacked MRR movements and the MRR trend; cash
  conversion (quote → contract → invoice → cash) with the median days between stages and what is
  stuck where.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse

from q2c.analytics import charts, queries
from q2c.analytics.metrics import (
    BUCKETS,
    KpiReport,
    Stage,
    kpi_report,
    open_balances,
    trend,
)
from q2c.analytics.metrics.conversion import cash_conversion

DASHBOARDS = ("sales", "finance", "executive")
#: The report's keys the sellers' view ("mine") lists (docs/metrics.md, sales).
SALES_KPIS = frozenset(
    {
        "pipeline",
        "weighted_pipeline",
        "bookings",
        "win_rate",
        "avg_discount",
        "quote_turnaround_days",
        "sales_cycle_days",
    }
)
MAX_TREND_MONTHS = 12


@dataclass(frozen=True, slots=True)
class Tile:
    key: str
    label: str
    value: str | None
    unit: str = ""
    href: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A table on a page: ``cells`` are typed for export (str, int, Decimal, date, Money);
    ``links`` holds the URL of each row's document (or '')."""

    name: str
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]
    links: Sequence[str] = ()
    link_column: int = 0  # the cell that carries the row's link


@dataclass
class Dashboard:
    name: str
    title: str
    scope: queries.Scope
    tiles: list[Tile] = field(default_factory=list)
    charts: list[tuple[str, str]] = field(default_factory=list)  # (heading, svg)
    tables: list[Table] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


def _pct(value: str | None) -> str | None:
    return None if value is None else format((Decimal(value) * 100).quantize(Decimal("0.01")), "f")


def _unavailable(data: queries.Gathered) -> list[str]:
    return [
        f"{name}: no source yet — its figures count nothing"
        for name, source in data.sources.items()
        if source is None
    ]


def build(name: str, scope: queries.Scope) -> Dashboard:
    data = queries.gather(scope)
    report = kpi_report(data.inputs, scope.start, scope.end, data.rates)
    months = [
        (m.label, m) for m in trend.monthly(data.inputs, scope.start, scope.end, data.rates, MAX_TREND_MONTHS)
    ]
    maker = {"sales": _sales, "mine": _sales, "finance": _finance, "executive": _executive}[name]
    board = maker(scope, data, report, months)
    if name == "mine":
        board.name, board.title = "mine", "My deals"
        # Only the sales figures: the rest of the report (billings, receivables, MRR) is the
        # whole company's and not the seller's to read.
        kpis = board.table("kpis")
        if kpis is not None:
            board.tables[board.tables.index(kpis)] = _kpi_table(
                {k: v for k, v in report.as_json().items() if k in SALES_KPIS}
            )
    board.notes.extend(_unavailable(data))
    return board


def _money_point(label: str, value: Any, href: str = "") -> charts.Point:
    return charts.Point(label, value.amount, href)


def _sales(
    scope: queries.Scope,
    data: queries.Gathered,
    report: KpiReport,
    months: list[tuple[str, trend.MonthFigures]],
) -> Dashboard:
    j = report.as_json()
    cur = scope.currency
    board = Dashboard("sales", "Sales", scope)
    turnaround = j["quote_turnaround_days"]
    board.tiles = [
        Tile("pipeline", "Pipeline", j["pipeline"], cur, "#table-pipeline"),
        Tile("weighted_pipeline", "Weighted pipeline", j["weighted_pipeline"], cur, "#table-pipeline"),
        Tile("bookings", "Bookings", j["bookings"], cur, "#table-won"),
        Tile("win_rate", "Win rate", _pct(j["win_rate"]), "%"),
        Tile("avg_discount", "Average discount", _pct(j["avg_discount"]), "%"),
        Tile(
            "created_to_sent",
            "Quote created → sent (median)",
            turnaround["created_to_sent"]["median"],
            "days",
        ),
        Tile(
            "sent_to_accepted",
            "Quote sent → accepted (median)",
            turnaround["sent_to_accepted"]["median"],
            "days",
        ),
        Tile("sales_cycle", "Sales cycle (median)", j["sales_cycle_days"]["median"], "days"),
    ]
    board.charts.append(
        (
            "Bookings by month",
            charts.line_chart(
                f"Bookings by month ({cur})",
                [
                    charts.Series(
                        "bookings", [_money_point(label, r.bookings, "#table-won") for label, r in months]
                    )
                ],
                unit=f" {cur}",
            ),
        )
    )
    conversion = cash_conversion(
        queries.deals(scope.entity_id, scope.last, scope.owner_ids), scope.start, scope.end, data.rates
    )
    board.charts.append(
        (
            "Quote funnel (quotes sent in the range)",
            charts.hbars(
                "Quote funnel",
                [charts.Point(stage, Decimal(n), "#table-stuck") for stage, n in conversion.reached.items()],
            ),
        )
    )
    last = scope.last
    rates = data.rates
    open_rows, open_links, won_rows, won_links = [], [], [], []
    names = _opportunity_names([o.id for o in data.inputs.opportunities])
    for o in sorted(data.inputs.opportunities, key=lambda o: o.id):
        link = reverse("quotes:opportunity_detail", args=[o.id])
        is_open = o.created_on <= last and (o.closed_on is None or o.closed_on > last)
        if is_open:
            amount = rates.convert(o.amount, last).round()
            open_rows.append(
                [
                    names.get(o.id, str(o.id)),
                    o.created_on,
                    (o.probability * 100).quantize(Decimal("0.01")),
                    amount,
                ]
            )
            open_links.append(link)
        elif o.stage == Stage.WON and o.closed_on is not None and scope.start <= o.closed_on < scope.end:
            won_rows.append(
                [names.get(o.id, str(o.id)), o.closed_on, rates.convert(o.amount, o.closed_on).round()]
            )
            won_links.append(link)
    board.tables.append(
        Table("pipeline", "Open opportunities (the pipeline)", ["Opportunity", "Created", "Probability %", f"Amount ({cur})"],
              open_rows, open_links)
    )  # fmt: skip
    board.tables.append(
        Table(
            "won",
            "Won in the range (bookings)",
            ["Opportunity", "Won on", f"Amount ({cur})"],
            won_rows,
            won_links,
        )
    )
    board.tables.append(_kpi_table(j))
    return board


def _opportunity_names(ids: list[int]) -> dict[int, str]:
    from q2c.quotes.models import Opportunity

    return dict(Opportunity.objects.filter(pk__in=ids).values_list("pk", "name"))


def _finance(
    scope: queries.Scope,
    data: queries.Gathered,
    report: KpiReport,
    months: list[tuple[str, trend.MonthFigures]],
) -> Dashboard:
    j = report.as_json()
    cur = scope.currency
    board = Dashboard("finance", "Finance", scope)
    acc = j["billing_accuracy"]
    board.tiles = [
        Tile("billings", "Billings", j["billings"], cur),
        Tile("dso", "DSO", j["dso"], "days"),
        Tile("dso_countback", "DSO (count-back)", j["dso_countback"], "days"),
        Tile("cei", "Collection effectiveness", _pct(j["cei"]), "%"),
        Tile("collection_rate", "Collection rate", _pct(j["collection_rate"]), "%"),
        Tile("bad_debt_rate", "Bad-debt rate", _pct(j["bad_debt_rate"]), "%"),
        Tile(
            "disputes",
            "Disputes opened",
            None if data.sources.get("disputes") is None else str(j["disputes"]["opened"]),
        ),
        Tile("billing_accuracy", "Invoices without a credit note", _pct(acc["accuracy"]), "%"),
        Tile("recognized_revenue", "Recognised revenue", j["recognized_revenue"], cur),
        Tile("deferred_revenue", "Deferred revenue", j["deferred_revenue"], cur),
    ]
    board.charts.append(
        (
            f"AR aging at {scope.last.isoformat()}",
            charts.hbars(
                f"AR aging ({cur})",
                [charts.Point(b, report.ar_aging[b].round().amount, f"#aging-{b}") for b in BUCKETS],
                unit=f" {cur}",
            ),
        )
    )
    board.charts.append(
        (
            "Billings by month",
            charts.line_chart(
                f"Billings by month ({cur})",
                [charts.Series("billings", [_money_point(label, r.billings) for label, r in months])],
                unit=f" {cur}",
            ),
        )
    )
    dso_points = [
        charts.Point(label, r.dso.quantize(Decimal("0.01"))) for label, r in months if r.dso is not None
    ]
    board.charts.append(
        (
            "DSO by month",
            charts.line_chart("DSO by month (days)", [charts.Series("DSO", dso_points)], unit=" d"),
        )
    )
    # The invoices behind the aging bars, by bucket (each links to the invoice).
    balances = open_balances(data.inputs.receivables, scope.last, data.rates)
    invoices = {i.id: i for i in data.inputs.receivables.invoices}
    numbers = _invoice_numbers(list(balances))
    rows, links = [], []
    for inv_id, balance in sorted(balances.items(), key=lambda kv: (invoices[kv[0]].due_date, kv[0])):
        inv = invoices[inv_id]
        late = (scope.last - inv.due_date).days
        bucket = _bucket_of(late)
        rows.append(
            [
                numbers.get(inv_id, str(inv_id)),
                inv.issue_date,
                inv.due_date,
                max(late, 0),
                bucket,
                balance.round(),
            ]
        )
        links.append(reverse("billing:invoice", args=[inv_id]))
    board.tables.append(
        Table("open_invoices", f"Open invoices at {scope.last.isoformat()}",
              ["Invoice", "Issued", "Due", "Days past due", "Bucket", f"Open ({cur})"], rows, links)
    )  # fmt: skip
    board.tables.append(_kpi_table(j))
    return board


def _bucket_of(days_past_due: int) -> str:
    from q2c.analytics.metrics.receivables import _bucket

    return _bucket(days_past_due)


def _invoice_numbers(ids: list[int]) -> dict[int, str]:
    from q2c.invoicing.models import Invoice

    return dict(Invoice.objects.filter(pk__in=ids).values_list("pk", "number"))


def _executive(
    scope: queries.Scope,
    data: queries.Gathered,
    report: KpiReport,
    months: list[tuple[str, trend.MonthFigures]],
) -> Dashboard:
    j = report.as_json()
    cur = scope.currency
    board = Dashboard("executive", "Executive", scope)
    board.tiles = [
        Tile("mrr", "MRR", j["mrr"], cur),
        Tile("arr", "ARR", j["arr"], cur),
        Tile("nrr", "Net revenue retention", _pct(j["nrr"]), "%"),
        Tile("grr", "Gross revenue retention", _pct(j["grr"]), "%"),
        Tile("logo_churn", "Logo churn", _pct(j["logo_churn"]), "%"),
        Tile("bookings", "Bookings", j["bookings"], cur),
        Tile("billings", "Billings", j["billings"], cur),
        Tile("dso", "DSO", j["dso"], "days"),
    ]
    names = ("new", "expansion", "reactivation", "contraction", "churn")
    monthly = [(label, m.movements) for label, m in months]
    series = [
        charts.Series(
            n,
            [
                charts.Point(label, (getattr(m, n).amount if n in ("new", "expansion", "reactivation") else -getattr(m, n).amount).quantize(Decimal("0.01")))
                for label, m in monthly
            ],
        )
        for n in names
    ]  # fmt: skip
    board.charts.append(
        (
            "MRR movements by month",
            charts.stacked_bars(
                f"MRR movements ({cur})", [label for label, _m in monthly], series, unit=f" {cur}"
            ),
        )
    )
    board.charts.append(
        ("MRR", charts.line_chart(f"MRR at each month's end ({cur})", [charts.Series("MRR", [_money_point(label, r.mrr) for label, r in months])], unit=f" {cur}"))
    )  # fmt: skip
    conversion = cash_conversion(
        queries.deals(scope.entity_id, scope.last, scope.owner_ids), scope.start, scope.end, data.rates
    )
    board.charts.append(
        (
            "Cash conversion (quotes sent in the range)",
            charts.hbars(
                "Cash conversion",
                [charts.Point(stage, Decimal(n), "#table-stuck") for stage, n in conversion.reached.items()],
            ),
        )
    )
    step_rows = [
        [step, d.count, d.median_days.quantize(Decimal("0.01")) if d.median_days is not None else None,
         d.mean_days.quantize(Decimal("0.01")) if d.mean_days is not None else None]
        for step, d in conversion.steps.items()
    ]  # fmt: skip
    board.tables.append(
        Table("conversion", "Days between stages", ["Step", "Deals", "Median days", "Mean days"], step_rows)
    )
    stuck_rows, stuck_links = [], []
    waiting = {
        "sent": "awaiting the customer",
        "accepted": "not invoiced yet",
        "invoiced": "first invoice not paid",
    }
    for s in conversion.stuck:
        for deal in s.deals:
            stuck_rows.append(
                [
                    s.stage,
                    waiting[s.stage],
                    deal.label,
                    deal.sent_on,
                    data.rates.convert(deal.amount, deal.sent_on).round(),
                ]
            )
            stuck_links.append(reverse("quotes:quote_detail", args=[deal.quote_id]))
    board.tables.append(
        Table(
            "stuck",
            "Where deals are stuck",
            ["Stage", "Waiting for", "Quote", "Sent", f"TCV ({cur})"],
            stuck_rows,
            stuck_links,
            2,
        )
    )
    board.tables.append(
        Table(
            "mrr_movements",
            "MRR movements",
            ["Month", *names],
            [[label, *[getattr(m, n).round() for n in names]] for label, m in monthly],
        )
    )
    board.tables.append(_kpi_table(j))
    return board


def _kpi_table(j: dict[str, Any]) -> Table:
    """Every KPI of the report as (metric, value) rows; nested figures flattened with a dot."""
    rows: list[list[Any]] = []

    def add(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                add(f"{prefix}.{k}", v)
        else:
            rows.append([prefix, "" if value is None else str(value)])

    for key, value in j.items():
        if key not in ("from", "to", "currency", "entity", "sources"):
            add(key, value)
    return Table("kpis", "Every KPI of the range", ["Metric", "Value"], rows)
