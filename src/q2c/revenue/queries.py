"""Revenue's read side: the reports (waterfall, deferred revenue roll-forward, disaggregation,
contract positions, remaining performance obligations), runs, and a contract's obligations.

Each report is a :class:`Report` — a title, column names and rows of plain values (amounts as
decimal text) — that the API answers as JSON, the pages render as a table and both export as CSV.
Reads in bulk (a few queries per report, none per row). Must not import higher apps.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Sum

from q2c.core import clock
from q2c.core.errors import NotFound, ValidationError
from q2c.core.money import Money
from q2c.core.periods import add_months
from q2c.revenue.models import (
    Decision,
    Obligation,
    RecognitionLine,
    RecognitionRun,
    RevenueContract,
)
from q2c.revenue.run import _convert, _due, billed

BY = ("contract", "product", "category")
MAX_MONTHS = 60


@dataclass
class Report:
    title: str
    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    currency: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"title": self.title, "currency": self.currency, "columns": self.columns, "rows": self.rows}

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(self.columns)
        for row in self.rows:
            # A cell a spreadsheet would read as a formula is quoted as text.
            writer.writerow([f"'{c}" if isinstance(c, str) and c[:1] in ("=", "+", "-", "@") and not _num(c) else c
                             for c in row])  # fmt: skip
        return out.getvalue()


def _num(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _fmt(minor: int, currency: str) -> str:
    return format(Money.from_minor(int(minor), currency or "EUR").amount, "f")


def _months(start: date, count: int) -> list[date]:
    if not 1 <= count <= MAX_MONTHS:
        raise ValidationError(
            f"months must be between 1 and {MAX_MONTHS}", code="revenue.invalid", field="months"
        )
    first = start.replace(day=1)
    return [add_months(first, i) for i in range(count)]


def _end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


def _currency(entity_id: int) -> str:
    from q2c.ledger.models import Book

    book = Book.objects.filter(entity_id=entity_id).first()
    if book is None:
        raise NotFound(
            f"entity {entity_id} has no ledger book", code="revenue.entity_not_found", field="entity_id"
        )
    return str(book.currency)


def _book_rates(currencies: set[str], currency: str, day: date) -> dict[str, Any]:
    """Each foreign contract currency's latest rate to the book's on or before ``day``, for what is
    not posted yet (scheduled revenue, remaining obligations): shown at that spot rate, as a
    disclosure translates them; ``invoicing.rate_missing`` (422) when a currency has no rate."""
    foreign = {c for c in currencies if c != currency}
    if not foreign:
        return {}
    from q2c.invoicing import fx

    found = fx.rates_for({(c, currency) for c in foreign}, day, max_age_days=3660)
    return {c: found[(c, currency)][0] for c in foreign}


def _in_book(minor: int, cur: str, currency: str, rates: dict[str, Any]) -> int:
    return minor if cur == currency or not minor else _convert(minor, rates[cur], cur, currency)


def _key(by: str, label: str, sku: str, category: str) -> str:
    if by not in BY:
        raise ValidationError(f"by must be one of {', '.join(BY)}", code="revenue.invalid", field="by")
    return {"contract": label, "product": sku or "—", "category": category}[by]


def waterfall(entity_id: int, start: date, months: int = 12, by: str = "contract") -> Report:
    """Revenue by month: recognised (posted runs) for months run, scheduled for the months after
    (usage: as it occurs, so nothing ahead), per contract, product or category — in the book's
    currency: posted lines as posted, the schedule of a contract in another currency at today's
    rate."""
    currency = _currency(entity_id)
    cols = _months(start, months)
    last_run = (
        RecognitionRun.objects.filter(entity_id=entity_id)
        .order_by("-period")
        .values_list("period", flat=True)
        .first()
    )
    grid: dict[str, dict[date, int]] = defaultdict(lambda: defaultdict(int))
    obs = {
        o[0]: o
        for o in Obligation.objects.filter(entity_id=entity_id).values_list(
            "id", "label", "sku", "category", "pattern", "schedule", "recognised_minor", "currency"
        )
    }
    for oid, period, amount in (
        RecognitionLine.objects.filter(entity_id=entity_id, period__gte=cols[0], period__lte=cols[-1])
        .values_list("obligation_id", "period")
        .annotate(s=Sum("amount_minor"))
    ):
        _, label, sku, category, *_ = obs[oid]
        grid[_key(by, label, sku, category)][period] += int(amount or 0)
    future = [m for m in cols if last_run is None or m > last_run]
    if future:
        rates = _book_rates({str(o[7]) for o in obs.values() if o[4] != "usage"}, currency, clock.today())
        for _, label, sku, category, pattern, schedule, posted, cur in obs.values():
            if pattern == "usage":
                continue
            before = posted
            start_at = future[0]
            # Months between the last run and the report's first future month are not shown.
            if (last_run is not None and add_months(last_run, 1) < start_at) or last_run is None:
                before = _due(schedule, (start_at - timedelta(days=1)).toordinal())
            for m in future:
                due = _due(schedule, _end(m).toordinal())
                if due != before:
                    grid[_key(by, label, sku, category)][m] += _in_book(due - before, str(cur), currency, rates)
                before = due
    report = Report(
        f"Revenue waterfall by {by}", [by] + [f"{m:%Y-%m}" for m in cols] + ["total"], currency=currency
    )
    for key in sorted(grid):
        row = [grid[key].get(m, 0) for m in cols]
        report.rows.append([key] + [_fmt(v, currency) for v in row] + [_fmt(sum(row), currency)])
    totals = [sum(grid[k].get(m, 0) for k in grid) for m in cols]
    report.rows.append(["total"] + [_fmt(v, currency) for v in totals] + [_fmt(sum(totals), currency)])
    report.rows.insert(
        0, ["(months)"] + ["recognised" if last_run and m <= last_run else "scheduled" for m in cols] + [""]
    )
    return report


def rollforward(entity_id: int, start: date, months: int = 12) -> Report:
    """Deferred revenue roll-forward per month, on the contracts' net position (excluding usage):
    opening + billings − recognised = closing; and the ledger's split of the closing position
    into deferred revenue (credit) and contract assets (debit) at the month end."""
    from q2c.ledger import queries as ledger_queries

    currency = _currency(entity_id)
    cols = _months(start, months)
    recognised = dict(
        RecognitionLine.objects.filter(entity_id=entity_id).exclude(obligation__pattern="usage")
        .values_list("period").annotate(s=Sum("amount_minor"))
    )  # fmt: skip
    report = Report(
        "Deferred revenue roll-forward",
        ["month", "opening", "billings", "recognised", "closing", "deferred revenue", "contract assets"],
        currency=currency,
    )
    rec_before = sum(int(v) for p, v in recognised.items() if p < cols[0])
    opening = sum(billed(entity_id, cols[0] - timedelta(days=1)).values()) - rec_before
    for m in cols:
        end = _end(m)
        billed_to = sum(billed(entity_id, end).values())
        rec = int(recognised.get(m, 0) or 0)
        rec_before += rec
        closing = billed_to - rec_before
        billings = closing - opening + rec
        tb = ledger_queries.trial_balance(entity_id, end).by_key()
        deferred = -(tb["deferred_revenue"].minor_units()) if "deferred_revenue" in tb else 0
        assets = tb["contract_assets"].minor_units() if "contract_assets" in tb else 0
        report.rows.append(
            [f"{m:%Y-%m}"] + [_fmt(v, currency) for v in (opening, billings, rec, closing, deferred, assets)]
        )
        opening = closing
    return report


def disaggregation(entity_id: int, start: date, months: int = 12) -> Report:
    """Revenue recognised by category and timing of transfer (ASC 606-10-55-89..91, IFRS 15.B89):
    point in time, over time, as used."""
    currency = _currency(entity_id)
    cols = _months(start, months)
    timing = {"point_in_time": "point in time", "milestones": "point in time", "usage": "as used"}
    grid: dict[tuple[str, str], dict[date, int]] = defaultdict(lambda: defaultdict(int))
    for category, pattern, period, amount in (
        RecognitionLine.objects.filter(entity_id=entity_id, period__gte=cols[0], period__lte=cols[-1])
        .values_list("obligation__category", "obligation__pattern", "period")
        .annotate(s=Sum("amount_minor"))
    ):
        grid[(category, timing.get(pattern, "over time"))][period] += int(amount or 0)
    report = Report("Revenue by category and timing", ["category", "timing"] + [f"{m:%Y-%m}" for m in cols] + ["total"],
                    currency=currency)  # fmt: skip
    for key in sorted(grid):
        row = [grid[key].get(m, 0) for m in cols]
        report.rows.append([*key] + [_fmt(v, currency) for v in row] + [_fmt(sum(row), currency)])
    return report


def position_rows(entity_id: int, through: date) -> dict[str, tuple[int, int]]:
    """Each accounting contract's (billed, recognised) through ``through``, excluding usage:
    billing by contract line (its key names the obligation, unknown keys go to the contract
    itself), recognition from the posted lines."""
    label_of: dict[tuple[int, str], str] = {}
    base: dict[int, str] = {}
    for cid, key, label, number in (
        Obligation.objects.filter(entity_id=entity_id)
        .exclude(pattern="usage")
        .values_list("contract__contract_id", "key", "label", "contract__number")
    ):
        label_of[(cid, key)] = label
        base[cid] = number
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for label in label_of.values():
        out.setdefault(label, [0, 0])
    for (cid, key), amount in billed(entity_id, through).items():
        billed_to = label_of.get((cid, key)) or base.get(cid)
        if billed_to is not None:
            out[billed_to][0] += amount
    for label, amount in (
        RecognitionLine.objects.filter(entity_id=entity_id, period__lte=through).exclude(obligation__pattern="usage")
        .values_list("obligation__label").annotate(s=Sum("amount_minor"))
    ):  # fmt: skip
        out[label][1] += int(amount or 0)
    return {label: (b, r) for label, (b, r) in out.items()}


def positions(entity_id: int, month: date) -> Report:
    """Each accounting contract's position at a month end: billed − recognised (excluding usage);
    a credit is deferred revenue, a debit a contract asset."""
    currency = _currency(entity_id)
    end = _end(month.replace(day=1))
    report = Report(f"Contract positions at {end}",
                    ["contract", "billed", "recognised", "position", "deferred revenue", "contract asset"],
                    currency=currency)  # fmt: skip
    for label, (b, r) in sorted(position_rows(entity_id, end).items()):
        p = b - r
        report.rows.append([
            label, _fmt(b, currency), _fmt(r, currency), _fmt(p, currency),
            _fmt(max(p, 0), currency), _fmt(max(-p, 0), currency),
        ])  # fmt: skip
    return report


def remaining(entity_id: int, month: date) -> Report:
    """Remaining performance obligations after a month end (ASC 606-10-50-13): allocated not yet
    recognised, excluding usage (variable consideration allocated wholly to usage — the optional
    exemption of 50-14A), with the part expected within 12 months; a contract in another currency
    at the month end's rate (the latest on or before it)."""
    currency = _currency(entity_id)
    end = _end(month.replace(day=1))
    in_year = _end(add_months(month.replace(day=1), 12)).toordinal()
    rows: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    obligations = list(
        Obligation.objects.filter(entity_id=entity_id)
        .exclude(pattern="usage")
        .values_list("label", "allocated_minor", "schedule", "currency")
    )
    rates = _book_rates({str(o[3]) for o in obligations}, currency, end)
    for label, allocated, schedule, cur in obligations:
        done = _due(schedule, end.toordinal())
        left = allocated - done
        if not left:
            continue
        within = _due(schedule, in_year) - done
        left, within = _in_book(left, str(cur), currency, rates), _in_book(within, str(cur), currency, rates)
        r = rows[label]
        r[0] += left
        r[1] += within
        r[2] += left - within
    report = Report(f"Remaining performance obligations after {end}",
                    ["contract", "remaining", "within 12 months", "later"], currency=currency)  # fmt: skip
    for label in sorted(rows):
        report.rows.append([label] + [_fmt(v, currency) for v in rows[label]])
    return report


REPORTS = ("waterfall", "rollforward", "disaggregation", "positions", "rpo")


def report(kind: str, entity_id: int, start: date, months: int = 12, by: str = "contract") -> Report:
    if kind == "waterfall":
        return waterfall(entity_id, start, months, by)
    if kind == "rollforward":
        return rollforward(entity_id, start, months)
    if kind == "disaggregation":
        return disaggregation(entity_id, start, months)
    if kind == "positions":
        return positions(entity_id, start)
    if kind == "rpo":
        return remaining(entity_id, start)
    raise NotFound(f"no report '{kind}'", code="revenue.report_not_found", field="kind")


def runs(entity_id: int | None = None, limit: int = 50) -> list[RecognitionRun]:
    qs = RecognitionRun.objects.all().order_by("-period", "-attempt")
    if entity_id:
        qs = qs.filter(entity_id=entity_id)
    return list(qs[:limit])


def contract(contract_id: int) -> dict[str, Any]:
    rc = RevenueContract.objects.filter(contract_id=contract_id).first()
    if rc is None:
        raise NotFound(f"contract {contract_id} has no revenue record", code="revenue.contract_not_found",
                       field="contract_id")  # fmt: skip
    cur = rc.currency
    return {
        "contract_id": rc.contract_id,
        "number": rc.number,
        "entity_id": rc.entity_id,
        "currency": cur,
        "status": rc.status,
        "error": rc.error,
        "start_date": rc.start_date.isoformat(),
        "end_date": rc.end_date.isoformat(),
        "obligations": [
            {
                "id": o.key,
                "contract": o.label,
                "sku": o.sku,
                "description": o.description,
                "category": o.category,
                "pattern": o.pattern,
                "ssp": None if o.ssp_minor is None else _fmt(o.ssp_minor, cur),
                "ssp_basis": o.ssp_basis,
                "allocated": _fmt(o.allocated_minor, cur),
                "recognised": _fmt(o.recognised_minor, cur),
                "schedule": [
                    {"month": f"{date.fromordinal(d):%Y-%m}", "cumulative": _fmt(c, cur)}
                    for d, c in o.schedule
                ],
            }
            for o in Obligation.objects.filter(contract=rc).order_by("id")
        ],
        "modifications": [
            {
                "index": d.index,
                "date": d.on.isoformat(),
                "source": d.source,
                "treatment": d.treatment,
                "decided_by": d.decided_by,
                "reason": d.reason,
                "note": d.note,
                "new_contract": d.new_contract,
                "consideration": _fmt(d.consideration_minor, cur),
            }
            for d in Decision.objects.filter(contract=rc)
        ],
        "document": rc.document,
    }
