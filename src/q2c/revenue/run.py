"""The recognition run, contract positions and the ledger's view of them — revenue's hot path.

:func:`recognise` (``q2c revenue run --period YYYY-MM``, the daily job, period close) recognises
every obligation of an entity through the last day of a month and posts **one** balanced entry
dated that day (Dr deferred revenue and contract assets, Dr unbilled receivables for usage, Cr
revenue per category): the detail — one line per obligation — is in ``RecognitionLine``.

* Each obligation's amount = its cumulative schedule at the month end (stored by the engine, so a
  re-estimate or a catch-up lands in the month it is made) − what was posted before. A rerun of
  the same month posts only what is new (usage invoiced after the month end, a late delivery):
  runs are idempotent, never double-post, and go forward only.
* Usage is recognised as used: the usage source gives the cumulative usage amount per contract
  line through the month end (:func:`metered_usage`: invoiced usage plus billing's month-end
  unbilled usage; :func:`set_usage_source` installs another). Usage recognised but not invoiced
  is an unbilled receivable; the invoice clears it.
* Contract positions per accounting contract: billed (invoice lines to deferred revenue, less
  credit notes) − recognised, excluding usage. A credit position is deferred revenue, a debit one
  a contract asset; the run keeps the ledger's split equal to the positions (``ContractAsset``:
  the contract-asset part of each contract), and billing's split (:func:`contract_split`,
  installed with ``invoicing.posting.set_contract_split``) clears a contract asset first.

Plain data in the loop: three reads in bulk (obligations, billing, usage), bulk inserts, one
``executemany`` for the obligations' posted totals, one ledger entry. Must not import higher apps.
"""

from __future__ import annotations

import bisect
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import F, Sum

from q2c.core import clock
from q2c.core.errors import Conflict, InvalidTransition, ValidationError
from q2c.core.money import Money
from q2c.core.periods import add_months
from q2c.ledger import chart
from q2c.ledger import services as ledger
from q2c.ledger.categories import RevenueCategory
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from q2c.platform import events
from q2c.platform.events import DomainEvent
from q2c.revenue.models import (
    ContractAsset,
    ContractAssetMove,
    Obligation,
    RecognitionLine,
    RecognitionRun,
    RevenueContract,
    RevenuePeriod,
)

#: ``source(entity_id, through) -> {(contract_id, line_key): cumulative usage minor units}`` —
#: usage that occurred through ``through`` (inclusive), valued at its rated amount.
UsageSource = Callable[[int, date], Mapping[tuple[int, str], int]]


def invoiced_usage(entity_id: int, through: date) -> dict[tuple[int, str], int]:
    """Usage as invoiced: invoice usage lines whose service period started on or before
    ``through``, whatever their issue date (usage is billed in arrears)."""
    from q2c.invoicing.models import InvoiceLine

    rows = (
        InvoiceLine.objects.filter(
            invoice__entity_id=entity_id,
            posting="unbilled",
            contract_id__isnull=False,
            service_start__lte=through,
        )
        .exclude(invoice__status__in=("draft", "void"))
        .values_list("contract_id", "contract_line_key")
        .annotate(total=Sum("net_base_minor"))
    )
    return {(int(c), str(k)): int(t or 0) for c, k, t in rows}


def metered_usage(entity_id: int, through: date) -> dict[tuple[int, str], int]:
    """Usage as it occurs: what invoices dated on or before ``through`` billed for usage, plus
    billing's month-end unbilled usage at ``through`` (``billing.queries.unbilled_usage``: rated
    as the bill run would, occurred but not yet invoiced). Cumulative per (contract, line key);
    billing names usage by contract and SKU, mapped here to the contract's usage line."""
    from q2c.billing import queries as billing_queries
    from q2c.invoicing.models import InvoiceLine

    keys: dict[tuple[int, str], str] = {}
    for cid, key, sku in Obligation.objects.filter(entity_id=entity_id, pattern="usage").values_list(
        "contract__contract_id", "key", "sku"
    ):
        keys.setdefault((int(cid), str(sku)), str(key))
    out: dict[tuple[int, str], int] = defaultdict(int)
    rows = (
        InvoiceLine.objects.filter(
            invoice__entity_id=entity_id, posting="unbilled", contract_id__isnull=False,
            invoice__issue_date__lte=through,
        )
        .exclude(invoice__status__in=("draft", "void"))
        .values_list("contract_id", "contract_line_key", "item_id")
        .annotate(total=Sum("net_base_minor"))
    )  # fmt: skip
    for c, k, sku, t in rows:
        key = str(k) if k else keys.get((int(c), str(sku)), "")
        out[(int(c), key)] += int(t or 0)
    for row in billing_queries.unbilled_usage(through, entity_id=entity_id):
        usage_key = keys.get((int(row.contract_id), str(row.sku))) if row.contract_id else None
        if usage_key is not None:
            out[(int(row.contract_id), usage_key)] += row.amount.minor_units()
    return dict(out)


_usage_source: UsageSource = metered_usage


def set_usage_source(source: UsageSource | None) -> None:
    """Install where usage comes from (None: :func:`metered_usage`)."""
    global _usage_source
    _usage_source = source or metered_usage


def billed(entity_id: int, through: date) -> dict[tuple[int, str], int]:
    """Net billed to contracts' liability per (contract, line key) through ``through``, in the
    entity's currency: issued invoices' deferred lines less credit notes' lines."""
    from q2c.invoicing.models import CreditNoteLine, InvoiceLine

    out: dict[tuple[int, str], int] = defaultdict(int)
    rows = (
        InvoiceLine.objects.filter(
            invoice__entity_id=entity_id, posting="deferred", contract_id__isnull=False,
            invoice__issue_date__lte=through,
        )
        .exclude(invoice__status__in=("draft", "void"))
        .values_list("contract_id", "contract_line_key")
        .annotate(total=Sum("net_base_minor"))
    )  # fmt: skip
    for c, k, t in rows:
        out[(int(c), str(k))] += int(t or 0)
    credits = (
        CreditNoteLine.objects.filter(
            credit_note__entity_id=entity_id, posting="deferred", contract_id__isnull=False,
            credit_note__issue_date__lte=through,
        )
        .values_list("contract_id", "invoice_line__contract_line_key")
        .annotate(total=Sum("net_base_minor"))
    )  # fmt: skip
    for c, k, t in credits:
        out[(int(c), str(k))] -= int(t or 0)
    return dict(out)


def _due(schedule: list[list[int]], through_ord: int) -> int:
    """The cumulative figure at the last schedule month end on or before ``through_ord``."""
    if not schedule:
        return 0
    i = bisect.bisect_right([s[0] for s in schedule], through_ord)
    return schedule[i - 1][1] if i else 0


def _month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


def _refuse(entity_id: int, first: date) -> None:
    from q2c.ledger.models import Period

    if RevenuePeriod.objects.filter(entity_id=entity_id, start=first, status="closed").exists() or (
        Period.objects.filter(entity_id=entity_id, start=first, status="closed").exists()
    ):
        raise InvalidTransition(
            f"period {first:%Y-%m} is closed: nothing can be recognised into it",
            code="revenue.period_closed",
            field="period",
        )
    later = RecognitionRun.objects.filter(entity_id=entity_id, period__gt=first).order_by("-period").first()
    if later is not None:
        raise Conflict(
            f"recognition has already run for {later.period:%Y-%m}; runs go forward only",
            code="revenue.run_out_of_order",
            field="period",
        )


def _book_currency(entity_id: int) -> str:
    from q2c.ledger.models import Book

    book = Book.objects.filter(entity_id=entity_id).first()
    if book is None:
        from q2c.ledger.errors import NoBook

        raise NoBook(f"entity {entity_id} has no ledger book", field="entity_id")
    return str(book.currency)


def recognise(entity_id: int, month: date, *, actor: str = "") -> dict[str, Any]:
    """Recognise and post entity ``entity_id``'s revenue through the last day of ``month``.

    Returns ``{"period", "through", "attempt", "recognised", "usage", "lines", "entry",
    "contracts"}`` (amounts as decimal text). Errors: ``revenue.period_closed`` (409),
    ``revenue.run_out_of_order`` (409), the ledger's (no book …). Nothing is written on error.
    """
    first = month.replace(day=1)
    through = _month_end(first)
    t_ord = through.toordinal()
    with transaction.atomic():
        currency = _book_currency(entity_id)
        RevenuePeriod.objects.get_or_create(entity_id=entity_id, start=first)
        # One run of an entity at a time: the period row is the lock.
        RevenuePeriod.objects.select_for_update().filter(entity_id=entity_id, start=first).get()
        _refuse(entity_id, first)
        obligations = _obligations(entity_id)
        usage = _usage_source(entity_id, through) if any(o[5] == "usage" for o in obligations) else {}
        # Contracts in another currency than the book's: what is due in the contract's currency is
        # posted converted at the month end's rate; what the book holds for each is the sum of its
        # recognition lines (in the book's currency).
        foreign = {str(o[8]) for o in obligations if o[8] != currency and o[5] != "usage"}
        rates = _rates(foreign, currency, through)
        base_posted = (
            _base_posted(entity_id, currency)
            if Obligation.objects.filter(entity_id=entity_id).exclude(currency=currency).exists()
            else {}
        )
        amounts: list[tuple[int, int]] = []  # (obligation id, amount)
        updates: list[tuple[int, int]] = []  # (new cumulative, obligation id)
        by_category: dict[str, int] = defaultdict(int)
        usage_total = 0
        recognised_by_contract: dict[int, int] = defaultdict(int)  # non-usage, this run
        label_of: dict[tuple[int, str], str] = {}
        base_label: dict[int, str] = {}
        posted_by_label: dict[str, int] = defaultdict(int)
        contract_of_label: dict[str, int] = {}
        for oid, cid, key, label, category, pattern, schedule, posted, cur, number in obligations:
            base_label[cid] = number
            if pattern == "usage":
                due = usage.get((cid, key), 0)
            else:
                label_of[(cid, key)] = label
                contract_of_label[label] = cid
                due = _due(schedule, t_ord)
            amount = due - posted
            if cur != currency and pattern != "usage":  # usage comes valued in the book's currency
                done = base_posted.get(oid, 0)
                base = _convert(amount, rates[str(cur)], str(cur), currency) if amount else 0
                posted_by_label[label] += done + base
                if not amount:
                    continue
                amounts.append((oid, base))
                updates.append((due, oid))
                by_category[category] += base
                recognised_by_contract[cid] += base
                continue
            if pattern != "usage":
                posted_by_label[label] += due
            if not amount:
                continue
            amounts.append((oid, amount))
            updates.append((due, oid))
            by_category[category] += amount
            if pattern == "usage":
                usage_total += amount
            else:
                recognised_by_contract[cid] += amount
        # Positions per accounting contract (billed − recognised, excluding usage); the obligations
        # fully recognised before this run were not read above: their totals in one aggregate.
        for oid, cid, key, label, number, done, cur in (
            Obligation.objects.filter(entity_id=entity_id, recognised_minor=F("allocated_minor"))
            .exclude(pattern="usage").exclude(contract__status="error")
            .values_list("id", "contract__contract_id", "key", "label", "contract__number", "recognised_minor",
                         "currency")
        ):  # fmt: skip
            if cur != currency:
                done = base_posted.get(oid, 0)
            posted_by_label[label] += int(done or 0)
            label_of.setdefault((cid, key), label)
            contract_of_label.setdefault(label, cid)
            base_label.setdefault(cid, number)
        billing = billed(entity_id, through)
        billed_by_label: dict[str, int] = defaultdict(int)
        for (cid, key), amount in billing.items():
            label = label_of.get((cid, key)) or base_label.get(cid)
            if label is None:
                continue  # a contract revenue does not follow (no obligations): plain deferred revenue
            billed_by_label[label] += amount
        target_asset: dict[int, int] = defaultdict(int)
        for label, cid in contract_of_label.items():
            pos = billed_by_label.get(label, 0) - posted_by_label.get(label, 0)
            if pos < 0:
                target_asset[cid] += -pos
        # The asset the ledger carries at the month end (moves dated on or before it), not today's:
        # billing after the month end (the next month's invoice) may already have cleared it, and a
        # rerun must not reclassify the month again.
        at_end = {
            int(c): int(a or 0)
            for c, a in ContractAssetMove.objects.filter(entity_id=entity_id, day__lte=through)
            .values("contract_id").annotate(a=Sum("amount_minor")).values_list("contract_id", "a")
        }  # fmt: skip
        current = dict(
            ContractAsset.objects.filter(entity_id=entity_id).values_list("contract_id", "asset_minor")
        )
        asset_delta = 0
        asset_rows: list[tuple[int, int]] = []
        moves: list[tuple[int, int]] = []
        for cid in set(target_asset) | {c for c, a in at_end.items() if a}:
            delta = target_asset.get(cid, 0) - at_end.get(cid, 0)
            if delta:
                asset_delta += delta
                moves.append((cid, delta))
                asset_rows.append((cid, current.get(cid, 0) + delta))
        recognised_total = sum(recognised_by_contract.values())
        attempt = RecognitionRun.objects.filter(entity_id=entity_id, period=first).count() + 1
        run = RecognitionRun.objects.create(
            entity_id=entity_id, period=first, through=through, attempt=attempt, currency=currency,
            recognised_minor=recognised_total + usage_total, usage_minor=usage_total,
            lines=len(amounts), actor=actor[:150], created_at=clock.now(),
        )  # fmt: skip
        entry_number = ""
        posting: dict[str, int] = defaultdict(int)
        for category, amount in by_category.items():
            posting[_revenue_key(category)] -= amount
        posting[chart.UNBILLED_RECEIVABLES] += usage_total
        posting[chart.CONTRACT_ASSETS] += asset_delta
        posting[chart.DEFERRED_REVENUE] += recognised_total - asset_delta
        posting = {k: v for k, v in posting.items() if v}
        if posting:
            entry = ledger.post(_draft(entity_id, through, run, posting, currency), actor=actor)
            entry_number = str(entry.number)
            run.entry_number = entry_number
            run.save(update_fields=["entry_number"])
        if amounts:
            day = connection.ops.adapt_datefield_value(first)
            _executemany(
                f"INSERT INTO {RecognitionLine._meta.db_table} (run_id, obligation_id, entity_id, period, amount_minor) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s)",
                [(run.pk, oid, entity_id, day, a) for oid, a in amounts],
            )
            _executemany(
                f"UPDATE {Obligation._meta.db_table} SET recognised_minor = %s WHERE id = %s",  # noqa: S608
                updates,
            )
        _write_assets(entity_id, asset_rows)
        if moves:
            ContractAssetMove.objects.bulk_create(
                ContractAssetMove(contract_id=c, entity_id=entity_id, day=through, amount_minor=d)
                for c, d in moves
            )
        events.record(
            DomainEvent(
                "revenue.run.posted", "revenue.run", run.pk,
                {"period": f"{first:%Y-%m}", "through": through, "attempt": attempt,
                 "recognised": _fmt(recognised_total + usage_total, currency),
                 "usage": _fmt(usage_total, currency), "lines": len(amounts), "entry": entry_number},
                entity_id=entity_id, actor=actor,
            )
        )  # fmt: skip
    return {
        "entity_id": entity_id,
        "period": f"{first:%Y-%m}",
        "through": through.isoformat(),
        "attempt": attempt,
        "recognised": _fmt(recognised_total + usage_total, currency),
        "usage": _fmt(usage_total, currency),
        "lines": len(amounts),
        "entry": entry_number,
        "contracts": len(contract_of_label),
        "currency": currency,
    }


def _rates(currencies: Iterable[str], currency: str, through: date) -> dict[str, Any]:
    """The rate of each contract currency to the book's currency on ``through`` (the latest rate
    at most a week old, as invoicing converts); ``invoicing.rate_missing`` when there is none."""
    if not currencies:
        return {}
    from q2c.invoicing import fx

    found = fx.rates_for({(c, currency) for c in currencies}, through)
    return {c: found[(c, currency)][0] for c in currencies}


def _convert(minor: int, rate: Any, from_currency: str, to_currency: str) -> int:
    from q2c.core.money import currency_exponent
    from q2c.invoicing.domain import convert_minor

    return convert_minor(minor, rate, currency_exponent(from_currency), currency_exponent(to_currency))


def _base_posted(entity_id: int, currency: str) -> dict[int, int]:
    """What the book holds for each obligation in another currency: its recognition lines' sum."""
    rows = (
        RecognitionLine.objects.filter(entity_id=entity_id).exclude(obligation__currency=currency)
        .values("obligation_id").annotate(s=Sum("amount_minor")).values_list("obligation_id", "s")
    )  # fmt: skip
    return {int(o): int(s or 0) for o, s in rows}


def _fmt(minor: int, currency: str) -> str:
    return format(Money.from_minor(minor, currency).amount, "f")


def _revenue_key(category: str) -> str:
    try:
        return chart.revenue(RevenueCategory(category))
    except ValueError:
        return chart.revenue(RevenueCategory.OTHER)


def _draft(
    entity_id: int, day: date, run: RecognitionRun, posting: Mapping[str, int], currency: str
) -> EntryDraft:
    lines = []
    for key in sorted(posting):
        amount = posting[key]
        money = Money.from_minor(abs(amount), currency)
        lines.append(DraftLine.dr(key, money) if amount > 0 else DraftLine.cr(key, money))
    return EntryDraft(
        entity_id, day, f"Revenue recognition {day:%Y-%m} (run {run.attempt})",
        SourceRef("revenue", "run", run.pk), tuple(lines), purpose=f"recognition:{day:%Y-%m}",
    )  # fmt: skip


def _executemany(sql: str, rows: list[tuple[Any, ...]], chunk: int = 20_000) -> None:
    """Raw batched writes for the run's own tables (table names are ours, values are bound)."""
    with connection.cursor() as cursor:
        for i in range(0, len(rows), chunk):
            cursor.executemany(sql, rows[i : i + chunk])


def _obligations(entity_id: int) -> list[tuple[Any, ...]]:
    """(id, contract id, key, label, category, pattern, schedule, posted, currency, contract number) of every
    obligation of the entity, read with one statement (the schedule decoded here, not per field)."""
    o, c = Obligation._meta.db_table, RevenueContract._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT o.id, c.contract_id, o.key, o.label, o.category, o.pattern, o.schedule, o.recognised_minor, "  # noqa: S608
            f"o.currency, c.number FROM {o} o JOIN {c} c ON c.id = o.contract_id WHERE o.entity_id = %s AND c.status <> %s "
            # Fully recognised obligations have nothing more to post (usage never ends so).
            "AND (o.recognised_minor <> o.allocated_minor OR o.pattern = %s)",
            [entity_id, "error", "usage"],
        )
        rows = cursor.fetchall()
    loads = json.loads
    return [(*r[:6], loads(r[6]) if isinstance(r[6], str | bytes) else r[6], *r[7:]) for r in rows]


def _write_assets(entity_id: int, rows: Iterable[tuple[int, int]]) -> None:
    rows = list(rows)
    if not rows:
        return
    have = set(ContractAsset.objects.filter(entity_id=entity_id).values_list("contract_id", flat=True))
    table = ContractAsset._meta.db_table
    _executemany(
        f"INSERT INTO {table} (contract_id, entity_id, asset_minor) VALUES (%s, %s, %s)",  # noqa: S608
        [(c, entity_id, a) for c, a in rows if c not in have],
    )
    _executemany(
        f"UPDATE {table} SET asset_minor = %s WHERE contract_id = %s",  # noqa: S608
        [(a, c) for c, a in rows if c in have],
    )


def unposted(entity_id: int, through: date) -> int:
    """How many obligations have scheduled revenue through ``through`` not yet posted."""
    t_ord = through.toordinal()
    n = 0
    for schedule, posted in (
        Obligation.objects.filter(entity_id=entity_id).exclude(pattern="usage").exclude(contract__status="error")
        .values_list("schedule", "recognised_minor").iterator(chunk_size=5000)
    ):  # fmt: skip
        if _due(schedule, t_ord) != posted:
            n += 1
    return n


# --- billing's split (installed from q2c.wiring) -------------------------------------------------
def contract_split(entity_id: int, contract_id: int | None, signed_minor: int, on: date) -> dict[str, int]:
    """How a contract's billed net (credit negative) is shared: a billing first clears the
    contract's contract asset, the rest is deferred revenue; a credit (positive) goes to deferred
    revenue. Keeps ``ContractAsset`` in step, inside the issuing transaction."""
    if contract_id is None or signed_minor >= 0:
        return {chart.DEFERRED_REVENUE: signed_minor}
    row = (
        ContractAsset.objects.filter(contract_id=contract_id, asset_minor__gt=0)
        .values_list("asset_minor", flat=True)
        .first()
    )
    if not row:
        return {chart.DEFERRED_REVENUE: signed_minor}
    cleared = min(int(row), -signed_minor)
    ContractAsset.objects.filter(contract_id=contract_id).update(asset_minor=int(row) - cleared)
    ContractAssetMove.objects.create(
        contract_id=contract_id, entity_id=entity_id, day=on, amount_minor=-cleared
    )
    out = {chart.CONTRACT_ASSETS: -cleared}
    if -signed_minor > cleared:
        out[chart.DEFERRED_REVENUE] = signed_minor + cleared
    return out


# --- the ledger check ---------------------------------------------------------------------------
def positions_tie(as_of: date | None = None) -> list[str]:
    """Per entity: deferred revenue − contract assets in the ledger equals billed − recognised
    over all contracts (excluding usage), and unbilled receivables equal usage recognised − usage
    invoiced."""
    from q2c.invoicing.models import InvoiceLine
    from q2c.ledger import queries as ledger_queries
    from q2c.ledger.models import Book

    problems = []
    for book in Book.objects.all():
        through = as_of or date(9999, 12, 31)
        tb = ledger_queries.trial_balance(book.entity_id, as_of).by_key()

        def bal(key: str, tb: dict[str, Money] = tb) -> int:
            m = tb.get(key)
            return m.minor_units() if m is not None else 0

        net_ledger = -bal(chart.DEFERRED_REVENUE) - bal(chart.CONTRACT_ASSETS)
        billed_total = sum(billed(book.entity_id, through).values())
        lines = RecognitionLine.objects.filter(entity_id=book.entity_id, run__through__lte=through)
        rec = lines.exclude(obligation__pattern="usage").aggregate(s=Sum("amount_minor"))["s"] or 0
        used = lines.filter(obligation__pattern="usage").aggregate(s=Sum("amount_minor"))["s"] or 0
        if net_ledger != billed_total - rec:
            problems.append(
                f"entity {book.entity_id}: deferred revenue − contract assets is "
                f"{_fmt(net_ledger, book.currency)} in the ledger but billed − recognised is "
                f"{_fmt(billed_total - rec, book.currency)}"
            )
        usage_billed = (
            InvoiceLine.objects.filter(invoice__entity_id=book.entity_id, posting="unbilled",
                                       invoice__issue_date__lte=through)
            .exclude(invoice__status__in=("draft", "void"))
            .aggregate(s=Sum("net_base_minor"))["s"] or 0
        )  # fmt: skip
        if bal(chart.UNBILLED_RECEIVABLES) != used - usage_billed:
            problems.append(
                f"entity {book.entity_id}: unbilled receivables are "
                f"{_fmt(bal(chart.UNBILLED_RECEIVABLES), book.currency)} in the ledger but usage recognised − "
                f"invoiced is {_fmt(used - usage_billed, book.currency)}"
            )
        if as_of is None:
            assets = (
                ContractAsset.objects.filter(entity_id=book.entity_id).aggregate(s=Sum("asset_minor"))["s"]
                or 0
            )
            if bal(chart.CONTRACT_ASSETS) != assets:
                problems.append(
                    f"entity {book.entity_id}: contract assets are {_fmt(bal(chart.CONTRACT_ASSETS), book.currency)}"
                    f" in the ledger but {_fmt(assets, book.currency)} by contract"
                )
    return problems


# --- the daily job ------------------------------------------------------------------------------
def daily(today: date) -> dict[str, Any]:
    """Run by the scheduler each day: on a month's last day, recognise that month; in the days
    after, while the previous month is open, rerun it (usage invoiced in arrears, late facts)."""
    from q2c.ledger.models import Book

    out: dict[str, Any] = {"runs": []}
    for entity_id in Book.objects.values_list("entity_id", flat=True):
        months = []
        previous = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        if RevenuePeriod.objects.filter(entity_id=entity_id, start=previous).exclude(
            status="closed"
        ).exists() and not (RecognitionRun.objects.filter(entity_id=entity_id, period__gt=previous).exists()):
            months.append(previous)
        if today == _month_end(today.replace(day=1)):
            months.append(today.replace(day=1))
        for first in months:
            if not Obligation.objects.filter(entity_id=entity_id).exists():
                continue
            try:
                out["runs"].append(recognise(entity_id, first, actor="scheduler"))
            except (InvalidTransition, Conflict, ValidationError) as exc:  # closed, out of order, no rate
                out["runs"].append({"entity_id": entity_id, "period": f"{first:%Y-%m}", "skipped": exc.code})
    return out


def contracts_of(entity_id: int) -> list[RevenueContract]:
    return list(RevenueContract.objects.filter(entity_id=entity_id))
