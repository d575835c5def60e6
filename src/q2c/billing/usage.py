"""Usage metering and rating: ingestion of metered events, the monthly usage close that rates
them into invoice lines, and the rating glue to the catalog's price models.

**Ingestion** (:func:`ingest`, behind ``POST /api/v1/billing/usage/events``, ``q2c usage
import`` and ``q2c bench usage``). A batch is a list of 1 to 10,000 events ``{id,
subscription_id | account_id, metric, quantity, timestamp, properties}``. A batch that is not a
list, is empty or too large is refused whole (``usage.malformed_batch``, ``usage.empty_batch``,
``usage.batch_too_large``). Otherwise each event is checked on its own (the pure
``engine.validate_batch`` plus: the metric is the one the subscription meters, the timestamp is
before the subscription's end, an account names exactly one usage subscription of the metric):
the valid events are stored in **one transaction** and the invalid ones come back with their
index, id, code and field — an event is either stored whole or not at all. Ids are unique per
selling entity: the insert skips ids stored before (``ON CONFLICT DO NOTHING`` on the unique
constraint), so a re-sent batch stores nothing twice, concurrently too. Each event is placed in
the calendar month its timestamp falls in, *in the entity's time zone*, whatever order events
arrive in. The pairs (subscription, month) that received events are marked pending.

**Usage close** (:func:`close_usage`, run by the bill run before it loads what is due): for each
pending (subscription, month) whose month has ended by the run's date, in one transaction: the
events not yet rated are tied to a new ``UsageClose``; the month's aggregate (per dimension, the
metric's aggregation) is rated through the charge's catalog price model with the subscription's
allowance, and the lines are stored as one-off charges (``billing.charges``) billed with the
account's invoice of the run — posted to unbilled receivables, since usage revenue is recognised
as it occurs. The first close of a month bills it (bill date: the month's end); a later one — late
events for a month already rated — bills the difference ``rate(all events) − rate(events rated
before)`` as an adjustment line referring to its month (bill date: the run's date). A minimum
commitment adds a true-up line lifting the month's usage to it (adjusted the same way).

**Rounding**: once per rated line, after the price model (``engine.rating``); the tier breakdown
printed on the invoice shares the rounded amount across the tiers by largest remainder, so the
tiers add up to the line.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, localcontext
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from q2c.billing.engine import rating
from q2c.billing.engine import usage as engine
from q2c.billing.models import Charge, Schedule, UsageClose, UsageEvent, UsageMetric, UsagePending
from q2c.billing.plan import PriceMissing
from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.core.money import Money, Rounding, allocate_minor
from q2c.core.periods import Period, add_months
from q2c.invoicing.services.common import db_date, db_datetime
from q2c.parties.models import LegalEntity

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
#: Request bodies of the batch endpoint: 10,000 events of up to ~800 bytes each.
MAX_BODY_BYTES = 8 * 1024 * 1024
MAX_BATCH = engine.MAX_BATCH


class UsageRefused(ValidationError):
    default_code = "usage.invalid"


@dataclass
class IngestResult:
    """What a batch did: events stored, re-sent ones ignored, per-event errors."""

    received: int
    accepted: int
    duplicates: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "received": self.received,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": len(self.errors),
            "errors": self.errors,
        }


@dataclass(frozen=True, slots=True)
class _Sub:
    id: int
    entity_id: int
    account_id: int
    metric: str
    start: date
    end: date | None
    tz: str


def _subscriptions(batch: Sequence[Any]) -> tuple[dict[int, _Sub], dict[tuple[int, str], list[int]]]:
    """The usage subscriptions a batch names (by id, or by account and metric): one read each."""
    sub_ids: set[int] = set()
    accounts: set[int] = set()
    for raw in batch:
        if isinstance(raw, Mapping):
            sid = raw.get("subscription_id")
            if isinstance(sid, int) and not isinstance(sid, bool):
                sub_ids.add(sid)
            elif sid is None:
                aid = raw.get("account_id")
                if isinstance(aid, int) and not isinstance(aid, bool):
                    accounts.add(aid)
    fields = ("id", "entity_id", "account_id", "metric", "start", "end")
    rows: list[tuple[Any, ...]] = []
    base = Schedule.objects.filter(kind=Schedule.Kind.USAGE)
    ids = sorted(sub_ids)
    for i in range(0, len(ids), 900):
        rows.extend(base.filter(pk__in=ids[i : i + 900]).values_list(*fields))
    accts = sorted(accounts)
    for i in range(0, len(accts), 900):
        rows.extend(base.filter(account_id__in=accts[i : i + 900]).values_list(*fields))
    zones = dict(LegalEntity.objects.filter(pk__in={r[1] for r in rows}).values_list("pk", "time_zone"))
    subs = {r[0]: _Sub(r[0], r[1], r[2], r[3], r[4], r[5], zones.get(r[1]) or "UTC") for r in rows}
    by_account: dict[tuple[int, str], list[int]] = defaultdict(list)
    for s in subs.values():
        if s.account_id in accounts:
            by_account[(s.account_id, s.metric)].append(s.id)
    return subs, by_account


def _resolve_accounts(
    batch: Sequence[Any], subs: Mapping[int, _Sub], by_account: Mapping[tuple[int, str], list[int]]
) -> tuple[list[Any], list[dict[str, Any]]]:
    """Events naming an account instead of a subscription get the account's subscription of the
    metric (the one whose term holds the timestamp when there are several)."""
    out: list[Any] = []
    errors: list[dict[str, Any]] = []
    for index, raw in enumerate(batch):
        if not isinstance(raw, Mapping) or raw.get("subscription_id") is not None or "account_id" not in raw:
            out.append(raw)
            continue
        aid, metric = raw.get("account_id"), raw.get("metric")
        candidates = by_account.get((aid, metric), []) if isinstance(metric, str) else []  # type: ignore[arg-type]
        if len(candidates) > 1:
            try:
                local = engine._parse_timestamp(raw.get("timestamp"))
            except engine.UsageError:
                local = None
            if local is not None:
                candidates = [
                    c
                    for c in candidates
                    if subs[c].start <= local.astimezone(ZoneInfo(subs[c].tz)).date()
                    and (subs[c].end is None or local.astimezone(ZoneInfo(subs[c].tz)).date() < subs[c].end)  # type: ignore[operator]
                ]
        if len(candidates) != 1:
            eid = raw.get("id") if isinstance(raw.get("id"), str) else None
            code, message = (
                ("usage.unknown_customer", f"account {aid} has no usage subscription for metric '{metric}'")
                if not candidates
                else (
                    "usage.ambiguous_customer",
                    f"account {aid} has several subscriptions for '{metric}': name one",
                )
            )
            errors.append({"index": index, "id": eid, "code": code, "field": "account_id", "detail": message})
            out.append(None)
            continue
        out.append({**raw, "subscription_id": candidates[0]})
    return out, errors


def ingest(batch: Any, *, now: datetime | None = None) -> IngestResult:
    """Store a batch of usage events (see the module docstring); returns what it did.

    Errors: ``UsageError`` (422) for a batch refused whole; per-event problems come back in the
    result (``usage.unknown_subscription``, ``usage.unknown_customer``, ``usage.unknown_metric``,
    ``usage.negative_quantity``, ``usage.invalid_quantity``, ``usage.invalid_timestamp``,
    ``usage.naive_timestamp``, ``usage.future_timestamp``, ``usage.before_subscription``,
    ``usage.after_subscription``, ``usage.duplicate_in_batch``, ``usage.invalid_properties``, …).
    """
    if not isinstance(batch, list | tuple):
        raise engine.UsageError("a batch is a list of events", code="usage.malformed_batch", field="events")
    if not batch:
        raise engine.UsageError("the batch is empty", code="usage.empty_batch", field="events")
    if len(batch) > MAX_BATCH:
        raise engine.UsageError(
            f"a batch holds at most {MAX_BATCH} events ({len(batch)} sent)",
            code="usage.batch_too_large",
            field="events",
        )
    now = now or clock.now()
    subs, by_account = _subscriptions(batch)
    resolved, errors = _resolve_accounts(batch, subs, by_account)
    # Validate per time zone (the entity's): usually one group.
    groups: dict[str, list[int]] = defaultdict(list)
    first_tz = next(iter(subs.values())).tz if subs else "UTC"
    for index, raw in enumerate(resolved):
        if raw is None:
            continue
        sid = raw.get("subscription_id") if isinstance(raw, Mapping) else None
        sub = subs.get(sid) if isinstance(sid, int) and not isinstance(sid, bool) else None
        groups[sub.tz if sub else first_tz].append(index)
    metrics = {s.metric for s in subs.values()}
    # Memos: events repeat the same property sets and months.
    texts: dict[tuple[tuple[str, str], ...], str] = {}
    months: dict[date, str | None] = {}
    rows: list[tuple[Any, ...]] = []
    pending: set[tuple[int, date]] = set()
    received = db_datetime(now)
    for tz, indexes in groups.items():
        zone = ZoneInfo(tz)
        starts = {s.id: s.start for s in subs.values() if s.tz == tz}
        valid, problems = engine.validate_batch(
            [resolved[i] for i in indexes], metrics=metrics, subscriptions=starts, now=now, tz=tz
        )
        for p in problems:
            d = p.as_dict()
            d["index"] = indexes[p.index]
            errors.append(d)
        # validate_batch keeps the order of the batch: map the valid events back to their index.
        bad = {p.index for p in problems}
        positions = [indexes[i] for i in range(len(indexes)) if i not in bad]
        for index, ev in zip(positions, valid, strict=True):
            sub = subs[ev.subscription_id]
            if ev.metric != sub.metric:
                errors.append({"index": index, "id": ev.id, "code": "usage.unknown_metric", "field": "metric",
                               "detail": f"subscription {sub.id} meters '{sub.metric}', not '{ev.metric}'"})  # fmt: skip
                continue
            local = ev.timestamp.astimezone(zone).date()
            if sub.end is not None and local >= sub.end:
                errors.append({"index": index, "id": ev.id, "code": "usage.after_subscription", "field": "timestamp",
                               "detail": f"timestamp is after the subscription ended ({sub.end})"})  # fmt: skip
                continue
            period = local.replace(day=1)
            props = ""
            if ev.properties:
                key = tuple(sorted(ev.properties.items()))
                props = texts.get(key) or texts.setdefault(key, json.dumps(dict(key), separators=(",", ":")))
            month = months.get(period) or months.setdefault(period, db_date(period))
            rows.append((sub.entity_id, ev.id, sub.id, sub.account_id, ev.metric, str(ev.quantity),
                         (ev.timestamp - EPOCH) // _US, month, props, received))  # fmt: skip
            pending.add((sub.id, period))
    errors.sort(key=lambda e: e["index"])
    inserted = _store(rows, pending, received) if rows else 0
    return IngestResult(len(batch), inserted, len(rows) - inserted, errors)


_EVENT_COLUMNS = ("entity_id", "event_id", "subscription_id", "account_id", "metric", "quantity", "ts_us",
                  "period_start", "properties", "received_at")  # fmt: skip


def _store(rows: list[tuple[Any, ...]], pending: set[tuple[int, date]], received: Any) -> int:
    """Insert the events (ids stored before are skipped) and mark their months pending, in one
    transaction. Returns the events inserted."""
    qn = connection.ops.quote_name
    table = qn(UsageEvent._meta.db_table)
    cols = ", ".join(qn(c) for c in _EVENT_COLUMNS)
    marks = ", ".join(["%s"] * len(_EVENT_COLUMNS))
    sql = (
        f"INSERT INTO {table} ({cols}) VALUES ({marks}) "  # noqa: S608 (names are constants)
        f"ON CONFLICT ({qn('entity_id')}, {qn('event_id')}) DO NOTHING"
    )
    pend = qn("billing_usage_pending")
    # DO UPDATE (not DO NOTHING) locks the pending row: a usage close deleting it waits for this
    # transaction, then sees its events (see close_one).
    pend_sql = (
        f"INSERT INTO {pend} ({qn('subscription_id')}, {qn('period_start')}, {qn('touched_at')}) "  # noqa: S608
        f"VALUES (%s, %s, %s) ON CONFLICT ({qn('subscription_id')}, {qn('period_start')}) "
        f"DO UPDATE SET {qn('touched_at')} = excluded.{qn('touched_at')}"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # The event table's indexes grow large: a 64 MB page cache for this connection keeps
            # their pages in memory instead of re-reading them for every batch.
            cursor.execute("PRAGMA cache_size = -65536")
        # The months' pending marks first, in a fixed order: their row locks, held to the commit,
        # make a usage close of those months wait for these events (see close_one).
        cursor.executemany(pend_sql, [(sid, db_date(p), received) for sid, p in sorted(pending)])
        if connection.vendor == "postgresql":
            inserted = 0
            for i in range(0, len(rows), 1000):
                chunk = rows[i : i + 1000]
                values = ", ".join([f"({marks})"] * len(chunk))
                cursor.execute(
                    f"INSERT INTO {table} ({cols}) VALUES {values} "  # noqa: S608
                    f"ON CONFLICT ({qn('entity_id')}, {qn('event_id')}) DO NOTHING",
                    [v for row in chunk for v in row],
                )
                inserted += max(cursor.rowcount, 0)
        else:
            cursor.executemany(sql, rows)
            inserted = max(cursor.rowcount, 0)
    return inserted


# --- rating --------------------------------------------------------------------------------------

PriceFn = Callable[[Decimal], tuple[Money, tuple[Any, ...]]]


def catalog_price(currency: str, sku: str, charge: str, day: date, book: str = "") -> PriceFn:
    """The catalog's price model of ``sku``/``charge`` in the price book in force on ``day``
    (``book`` names one; default: the best active book of the currency), as a rating function.

    Errors: ``billing.price_missing`` (422) when the book has no price for the charge.
    """
    from q2c.catalog.pricing import price_models
    from q2c.catalog.services.snapshot import get_snapshot, resolve_price_book

    try:
        snap = get_snapshot(resolve_price_book(currency, book, "", "", day), day)
    except ValidationError as exc:
        raise PriceMissing(f"{sku}/{charge}: {exc.message}", field="price_book") from None
    product = snap.products.get(sku)
    found = next((c for c in product.charges if c.code == charge), None) if product else None
    if found is None or getattr(found, "model_error", None):
        raise PriceMissing(
            f"the price book {snap.price_book} has no usable price for {sku}/{charge}", field="charge"
        )
    model = found.model

    def price(quantity: Decimal) -> tuple[Money, tuple[Any, ...]]:
        r = price_models.rate(model, quantity)
        amount, _ = price_models.clamp(model, r.amount) if quantity > 0 else (r.amount, None)
        return Money(amount, currency), r.breakdown

    return price


def tiers_for(rated: rating.RatedUsage) -> list[dict[str, Any]]:
    """The printed tier breakdown of a rated line: per tier reached, its first and last unit, the
    units in it, the unit price and its share of the rounded amount (largest remainder)."""
    parts = [t for t in rated.breakdown if getattr(t, "units", 0) > 0 or getattr(t, "flat_fee", 0)]
    if not parts:
        return []
    total = rated.amount.minor_units()
    exact = [Decimal(t.amount) for t in parts]
    shares = [0] * len(parts) if all(x == 0 for x in exact) else allocate_minor(total, exact)
    exp = rated.amount.exponent
    return [
        {
            "lower": str(t.lower + 1 if t.lower == t.lower.to_integral_value() else t.lower),
            "upper": None if t.upper is None else str(t.upper),
            "quantity": str(t.units),
            "unit_price": str(t.unit_price),
            "amount": str(Decimal(share).scaleb(-exp)),
        }
        for t, share in zip(parts, shares, strict=True)
    ]


def _dim_key(dimensions: tuple[tuple[str, str | None], ...]) -> str:
    return ",".join(f"{k}={'' if v is None else v}" for k, v in dimensions)


def _metric(code: str) -> engine.Metric:
    row = UsageMetric.objects.filter(code=code).first()
    if row is None:
        return engine.Metric(code)
    return engine.Metric(
        code, engine.Aggregation(row.aggregation), row.property or None, tuple(row.group_by or ())
    )


def _events(schedule_id: int, period: date) -> Iterable[tuple[str, str, int, str, int]]:
    """(event id, quantity, ts_us, properties, row id) of one subscription's month, streamed."""
    qn = connection.ops.quote_name
    sql = (
        f"SELECT {qn('event_id')}, {qn('quantity')}, {qn('ts_us')}, {qn('properties')}, {qn('id')} "  # noqa: S608
        f"FROM {qn(UsageEvent._meta.db_table)} WHERE {qn('subscription_id')} = %s AND {qn('period_start')} = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [schedule_id, db_date(period)])
        while True:
            chunk = cursor.fetchmany(20_000)
            if not chunk:
                return
            yield from chunk


@dataclass
class PeriodRating:
    """A subscription's month rated: per dimension ``(quantity, RatedUsage)`` and the true-up."""

    lines: dict[tuple[tuple[str, str | None], ...], rating.RatedUsage]
    true_up: Money
    events: int

    def total(self, currency: str) -> Money:
        return sum((r.amount for r in self.lines.values()), Money.zero(currency)) + self.true_up


def rate_period(
    sched: Any,
    period: Period,
    metric: engine.Metric,
    tz: str,
    price: PriceFn,
    rows: Iterable[tuple[str, str, int, str, int]],
    *,
    rounding: Rounding = "half_up",
    until_us: int | None = None,
    keep: Callable[[int], bool] = lambda row_id: True,
) -> PeriodRating:
    """Aggregate and rate the events ``rows`` of one month (those ``keep`` accepts by row id and,
    with ``until_us``, those before that instant)."""
    sid = sched.id if hasattr(sched, "id") else sched.pk
    if metric.aggregation in _PLAIN and not metric.group_by:
        return _rate_plain(sched, metric, price, rows, rounding, until_us, keep)
    events = []
    for eid, qty, ts_us, props, close in rows:
        if not keep(close) or (until_us is not None and ts_us >= until_us):
            continue
        events.append(
            engine.UsageEvent(
                eid,
                sid,
                metric.code,
                Decimal(qty),
                EPOCH + timedelta(microseconds=ts_us),
                json.loads(props) if props else {},
            )
        )
    periods = engine.UsagePeriods(tz, [period])
    result = engine.aggregate(events, {metric.code: metric}, periods)
    included = Decimal(sched.included or 0)
    lines = {
        agg.dimensions: rating.rate(agg.value, price, included=included, rounding=rounding)
        for agg in result.aggregates
    }
    currency = sched.currency
    usage_total = sum((r.amount for r in lines.values()), Money.zero(currency))
    true_up = Money.zero(currency)
    if sched.minimum is not None and events:
        true_up = rating.commitment_true_up([usage_total], Money(Decimal(sched.minimum), currency)).round(
            rounding
        )
    return PeriodRating(lines, true_up, len(events))


_PLAIN = (engine.Aggregation.SUM, engine.Aggregation.COUNT, engine.Aggregation.MAX)


def _rate_plain(
    sched: Any, metric: engine.Metric, price: PriceFn, rows: Iterable[tuple[str, str, int, str, int]],
    rounding: Rounding, until_us: int | None, keep: Callable[[int], bool],
) -> PeriodRating:  # fmt: skip
    """The fast path of :func:`rate_period` for sum, count and max without dimensions: events of
    one month (stored once per id, so no duplicates) folded straight from the rows — the same
    figures as ``engine.aggregate``, without building an event object per row."""
    values = [
        qty for _, qty, ts_us, _, close in rows if keep(close) and (until_us is None or ts_us < until_us)
    ]
    if not values:
        return PeriodRating({}, Money.zero(sched.currency), 0)
    if metric.aggregation is engine.Aggregation.COUNT:
        value = Decimal(len(values))
    elif metric.aggregation is engine.Aggregation.MAX:
        value = max(map(Decimal, values))
    else:
        with localcontext() as ctx:
            ctx.prec = 60  # as the engine: a month's sum stays exact
            value = sum(map(Decimal, values), Decimal(0))
    rated = rating.rate(value, price, included=Decimal(sched.included or 0), rounding=rounding)
    true_up = Money.zero(sched.currency)
    if sched.minimum is not None:
        true_up = rating.commitment_true_up(
            [rated.amount], Money(Decimal(sched.minimum), sched.currency)
        ).round(rounding)
    return PeriodRating({(): rated}, true_up, len(values))


def _rounding(entity_id: int) -> Rounding:
    mode = LegalEntity.objects.filter(pk=entity_id).values_list("rounding_mode", flat=True).first()
    return "half_even" if mode == "half_even" else "half_up"


@dataclass
class CloseResult:
    closes: int = 0
    charges: int = 0
    events: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def _pending(before: date) -> list[tuple[int, date]]:
    return [
        (sid, p if isinstance(p, date) else date.fromisoformat(str(p)))
        for sid, p in UsagePending.objects.filter(period_start__lt=before)
        .order_by("period_start", "subscription_id")
        .values_list("subscription_id", "period_start")
    ]


def pending_currencies(as_of: date) -> set[tuple[int, str]]:
    """(entity, currency) of the subscriptions a usage close on ``as_of`` would rate."""
    ids = {sid for sid, _ in _pending(as_of.replace(day=1))}
    return set(Schedule.objects.filter(pk__in=ids).values_list("entity_id", "currency").distinct())


def close_usage(as_of: date, *, actor: str = "") -> CloseResult:
    """Rate every pending month that has ended by ``as_of`` (see the module docstring)."""
    result = CloseResult()
    pairs = _pending(as_of.replace(day=1))
    if not pairs:
        return result
    scheds = {s.pk: s for s in Schedule.objects.filter(pk__in={sid for sid, _ in pairs})}
    zones = dict(
        LegalEntity.objects.filter(pk__in={s.entity_id for s in scheds.values()}).values_list(
            "pk", "time_zone"
        )
    )
    prices: dict[tuple[Any, ...], PriceFn] = {}
    metrics: dict[str, engine.Metric] = {}
    roundings: dict[int, Rounding] = {}
    for sid, period_start in pairs:
        s = scheds.get(sid)
        if s is None:
            continue
        try:
            if s.metric not in metrics:
                metrics[s.metric] = _metric(s.metric)
            if s.entity_id not in roundings:
                roundings[s.entity_id] = _rounding(s.entity_id)
            key = (s.currency, s.sku, s.charge, period_start, s.price_book)
            if key not in prices:
                prices[key] = catalog_price(s.currency, s.sku, s.charge, period_start, s.price_book)
            done = close_one(s, period_start, as_of, metrics[s.metric], zones.get(s.entity_id) or "UTC",
                             prices[key], roundings[s.entity_id], actor=actor)  # fmt: skip
        except ValidationError as exc:
            result.errors.append({"account_id": s.account_id, "account": s.contract_number or str(s.account_id),
                                  "code": exc.code, "field": exc.field or "", "message": exc.message})  # fmt: skip
            continue
        if done is not None:
            result.closes += 1
            result.charges += done[0]
            result.events += done[1]
    return result


def close_one(
    s: Schedule, period_start: date, as_of: date, metric: engine.Metric, tz: str, price: PriceFn,
    rounding: Rounding, *, actor: str = "",
) -> tuple[int, int] | None:  # fmt: skip
    """Rate one subscription's month in one transaction; returns (charges, events) or None."""
    period = Period(period_start, add_months(period_start, 1))
    now = clock.now()
    with transaction.atomic():
        # Deleting the pending mark first waits for every ingestion still writing this month: an
        # ingestion takes the mark's row lock before it inserts its events and holds it to its
        # commit. So the read below sees all of them, and events inserted later get higher row ids
        # (they wait for this transaction to take the mark again): a close covers the month's
        # events with ids up to its ``last_event_id``, the next close those above it. No event
        # row is rewritten.
        UsagePending.objects.filter(subscription_id=s.pk, period_start=period_start).delete()
        last = UsageClose.objects.filter(schedule=s, period_start=period_start).order_by("-seq").first()
        seq = 0 if last is None else last.seq + 1
        before_max = 0 if last is None else last.last_event_id
        rows = list(_events(s.pk, period_start))
        marked = sum(1 for r in rows if r[4] > before_max)
        if not marked:
            return None
        close = UsageClose.objects.create(schedule=s, period_start=period_start, period_end=period.end, seq=seq,
                                          as_of=as_of, currency=s.currency, created_at=now,
                                          last_event_id=max(r[4] for r in rows))  # fmt: skip
        now_rating = rate_period(s, period, metric, tz, price, rows, rounding=rounding)
        before = (
            rate_period(
                s, period, metric, tz, price, rows, rounding=rounding, keep=lambda rid: rid <= before_max
            )
            if seq
            else PeriodRating({}, Money.zero(s.currency), 0)
        )
        charges = _lines(s, close, period, now_rating, before, as_of, actor)
        Charge.objects.bulk_create(charges)
        close.events = marked
        close.amount_minor = sum(c.amount_minor for c in charges)
        close.save(update_fields=["events", "amount_minor"])
    return len(charges), marked


def _lines(
    s: Schedule, close: UsageClose, period: Period, now_r: PeriodRating, before: PeriodRating, as_of: date,
    actor: str,
) -> list[Charge]:  # fmt: skip
    """The charges of a close: per dimension the rated amount (first close) or its change (later
    closes), and the true-up (or its change)."""
    out: list[Charge] = []
    late = close.seq > 0
    month = f"{period.start:%Y-%m}"
    created = clock.now()
    bill_on = as_of if late else period.end
    for dims in sorted(set(now_r.lines) | set(before.lines), key=_dim_key):
        r_now = now_r.lines.get(dims)
        r_before = before.lines.get(dims)
        amount_now = r_now.amount if r_now else Money.zero(s.currency)
        amount_before = r_before.amount if r_before else Money.zero(s.currency)
        delta = amount_now - amount_before
        if delta.amount == 0:
            continue
        dim_text = _dim_key(dims)
        label = f"{s.description}, usage {month}" + (f" ({dim_text})" if dim_text else "")
        q_now = r_now.quantity if r_now else Decimal(0)
        q_before = r_before.quantity if r_before else Decimal(0)
        if late:
            label = f"{label} — late usage adjustment"
            detail = (
                f"late events for {month} [{period.start}, {period.end}): {q_before} → {q_now} {s.metric}"
            )
            qty = abs(q_now - q_before) or Decimal(1)
            tiers: list[dict[str, Any]] = []
        else:
            detail = f"{q_now} {s.metric} in [{period.start}, {period.end})"
            if r_now and r_now.included:
                detail += f", {r_now.included} included"
            qty = (r_now.billable if r_now else Decimal(0)) or Decimal(1)
            tiers = tiers_for(r_now) if r_now else []
        out.append(
            _charge(
                s, close, period, label, detail, qty, delta, tiers, dim_text, q_now, bill_on, created, actor
            )
        )
    true_delta = now_r.true_up - before.true_up
    if true_delta.amount != 0:
        label = f"{s.description}, minimum commitment {month} — true-up" + (" adjustment" if late else "")
        detail = f"minimum {s.minimum} {s.currency} for [{period.start}, {period.end})"
        out.append(_charge(s, close, period, label, detail, Decimal(1), true_delta, [], "#minimum", None, bill_on,
                           created, actor))  # fmt: skip
    return out


def _charge(
    s: Schedule, close: UsageClose, period: Period, label: str, detail: str, qty: Decimal, amount: Money,
    tiers: list[dict[str, Any]], dim: str, cumulative: Decimal | None, bill_on: date, created: datetime, actor: str,
) -> Charge:  # fmt: skip
    ref = f"usage:{s.pk}:{period.start:%Y-%m}:{close.seq}:{dim}"
    if len(ref) > 120:
        ref = (
            f"usage:{s.pk}:{period.start:%Y-%m}:{close.seq}:" + hashlib.sha256(dim.encode()).hexdigest()[:40]
        )
    return Charge(
        entity_id=s.entity_id, account_id=s.account_id, kind="usage_adjustment" if close.seq else "usage",
        currency=s.currency, description=label[:300], detail=detail[:2000], quantity=qty,
        unit_price=amount.amount / qty, amount_minor=amount.minor_units(), tax_category=s.tax_category,
        revenue_category=s.revenue_category or "usage", posting="unbilled", item_id=s.sku, unit_code=s.unit_code,
        service_start=period.start, service_end=period.end, contract_id=s.contract_id,
        contract_number=s.contract_number, reference=ref, bill_on=bill_on, tiers=tiers, usage_close_id=close.pk,
        subscription_id=s.pk, dimension=dim[:200], cumulative=cumulative, actor=actor, created_at=created,
    )  # fmt: skip


# --- month-end accrual ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UnbilledUsage:
    """Usage of one subscription's month that has occurred by ``as_of`` but is not invoiced by then.

    ``occurred`` is the month's events up to the end of ``as_of`` (entity's time zone) rated as
    the bill run would (allowance, tiers, true-up); ``invoiced`` what invoices dated on or before
    ``as_of`` billed for the month; ``amount = occurred − invoiced`` — the unbilled receivable.
    """

    entity_id: int
    account_id: int
    subscription_id: int
    contract_id: int
    contract_number: str
    sku: str
    metric: str
    revenue_category: str
    period_start: date
    period_end: date
    quantity: Decimal
    occurred: Money
    invoiced: Money
    amount: Money


def unbilled_usage(as_of: date, *, entity_id: int | None = None) -> list[UnbilledUsage]:
    """Usage occurred but not yet invoiced at the end of ``as_of`` (see :class:`UnbilledUsage`),
    one row per subscription and month with a non-zero amount, in the subscriptions' currencies.

    Errors: ``billing.price_missing`` when a subscription's charge has no price.
    """
    pairs: set[tuple[int, date]] = {(sid, p) for sid, p in _pending(as_of + timedelta(days=1))}
    open_charges = Charge.objects.filter(subscription_id__isnull=False, service_start__lte=as_of).exclude(
        billed_on__lte=as_of
    )
    for sid, start in open_charges.values_list("subscription_id", "service_start").distinct():
        if sid is not None and start is not None:
            pairs.add((sid, start))
    if not pairs:
        return []
    scheds = Schedule.objects.filter(pk__in={sid for sid, _ in pairs}, kind=Schedule.Kind.USAGE)
    if entity_id is not None:
        scheds = scheds.filter(entity_id=entity_id)
    by_id = {s.pk: s for s in scheds}
    zones = dict(
        LegalEntity.objects.filter(pk__in={s.entity_id for s in by_id.values()}).values_list(
            "pk", "time_zone"
        )
    )
    invoiced: dict[tuple[int, date], int] = defaultdict(int)
    for sid, start, minor in Charge.objects.filter(
        subscription_id__in=list(by_id), billed_on__lte=as_of, invoice_id__isnull=False
    ).values_list("subscription_id", "service_start", "amount_minor"):
        if sid is not None and start is not None:
            invoiced[(sid, start)] += minor
    out: list[UnbilledUsage] = []
    metrics: dict[str, engine.Metric] = {}
    for sid, start in sorted(pairs, key=lambda x: (x[1], x[0])):
        s = by_id.get(sid)
        if s is None:
            continue
        tz = zones.get(s.entity_id) or "UTC"
        period = Period(start, add_months(start, 1))
        until = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(tz))
        if s.metric not in metrics:
            metrics[s.metric] = _metric(s.metric)
        price = catalog_price(s.currency, s.sku, s.charge, start, s.price_book)
        rated = rate_period(s, period, metrics[s.metric], tz, price, _events(s.pk, start),
                            rounding=_rounding(s.entity_id), until_us=(until.astimezone(UTC) - EPOCH) // _US)  # fmt: skip
        occurred = rated.total(s.currency) if rated.events else Money.zero(s.currency)
        billed = Money.from_minor(invoiced.get((sid, start), 0), s.currency)
        if occurred == billed:
            continue
        out.append(
            UnbilledUsage(
                s.entity_id,
                s.account_id,
                s.pk,
                s.contract_id,
                s.contract_number,
                s.sku,
                s.metric,
                s.revenue_category or "usage",
                period.start,
                period.end,
                sum((r.quantity for r in rated.lines.values()), Decimal(0)),
                occurred,
                billed,
                occurred - billed,
            )
        )
    return out


# --- explorer ------------------------------------------------------------------------------------


def explorer(schedule_id: int, *, months: int = 12) -> dict[str, Any]:
    """A usage subscription and its latest ``months`` months with events: event counts (unrated,
    late — rated by a close after the month's first), the aggregates per dimension, the amount
    rated now, the lines billed (charges, with their invoices) and what could not be rated.

    Errors: ``billing.not_found`` (404).
    """
    from django.db.models import Count

    from q2c.billing import errors
    from q2c.invoicing.models import Invoice
    from q2c.parties.models import Account

    s = Schedule.objects.filter(pk=schedule_id, kind=Schedule.Kind.USAGE).first()
    if s is None:
        raise errors.BillingNotFound(f"no usage subscription {schedule_id}", field="schedule_id")
    metric = _metric(s.metric)
    tz = LegalEntity.objects.filter(pk=s.entity_id).values_list("time_zone", flat=True).first() or "UTC"
    counts: dict[date, dict[str, int]] = defaultdict(lambda: {"events": 0, "unrated": 0, "late": 0})
    first: dict[date, int] = {}
    latest: dict[date, int] = {}
    for p, seq, last_id in UsageClose.objects.filter(schedule=s).values_list(
        "period_start", "seq", "last_event_id"
    ):
        if seq == 0:
            first[p] = last_id
        latest[p] = max(latest.get(p, 0), last_id)
    evs = UsageEvent.objects.filter(subscription_id=s.pk)
    for period, n in evs.values_list("period_start").annotate(n=Count("id")).order_by():
        counts[period]["events"] = n
    for start in sorted(counts, reverse=True)[:months]:
        counts[start]["unrated"] = evs.filter(period_start=start, id__gt=latest.get(start, 0)).count()
        if start in first:
            counts[start]["late"] = evs.filter(
                period_start=start, id__gt=first[start], id__lte=latest[start]
            ).count()
    charges = list(Charge.objects.filter(subscription_id=s.pk).order_by("service_start", "id"))
    numbers = dict(
        Invoice.objects.filter(pk__in={c.invoice_id for c in charges if c.invoice_id}).values_list(
            "pk", "number"
        )
    )
    out_months = []
    for start in sorted(counts, reverse=True)[:months]:
        period = Period(start, add_months(start, 1))
        rated: str | None = None
        true_up: str | None = None
        problem = ""
        aggregates: list[dict[str, Any]] = []
        try:
            price = catalog_price(s.currency, s.sku, s.charge, start, s.price_book)
            r = rate_period(
                s, period, metric, tz, price, _events(s.pk, start), rounding=_rounding(s.entity_id)
            )
            rated = str(r.total(s.currency).amount)
            true_up = str(r.true_up.amount) if s.minimum is not None else None
            aggregates = [
                {"dimension": _dim_key(d), "quantity": str(x.quantity), "included": str(x.included),
                 "billable": str(x.billable), "amount": str(x.amount.amount)}
                for d, x in sorted(r.lines.items(), key=lambda kv: _dim_key(kv[0]))
            ]  # fmt: skip
        except ValidationError as exc:
            problem = exc.message
        mine = [c for c in charges if c.service_start == start]
        out_months.append(
            {
                "period_start": start, "period_end": period.end, "events": counts[start]["events"],
                "unrated_events": counts[start]["unrated"], "late_events": counts[start]["late"],
                "aggregates": aggregates, "rated": rated, "true_up": true_up,
                "billed": str(Money.from_minor(sum(c.amount_minor for c in mine if c.invoice_id), s.currency).amount),
                "lines": [
                    {"charge_id": c.pk, "kind": c.kind, "description": c.description, "dimension": c.dimension,
                     "quantity": str(c.quantity), "amount": str(Money.from_minor(c.amount_minor, c.currency).amount),
                     "currency": c.currency, "bill_on": c.bill_on, "invoice_id": c.invoice_id,
                     "invoice_number": numbers.get(c.invoice_id or 0, ""), "tiers": list(c.tiers or [])}
                    for c in mine
                ],
                "problem": problem,
            }
        )  # fmt: skip
    account = Account.objects.filter(pk=s.account_id).values_list("name", flat=True).first() or ""
    return {
        "id": s.pk, "account_id": s.account_id, "account": account, "contract_number": s.contract_number,
        "sku": s.sku, "metric": s.metric, "aggregation": str(metric.aggregation), "currency": s.currency,
        "included": str(s.included or 0), "minimum": None if s.minimum is None else str(s.minimum),
        "start": s.start, "end": s.end, "months": out_months,
    }  # fmt: skip


# --- files (q2c usage import) -------------------------------------------------------------------------

#: A file's lines are read this long at most (a longer one is an error of that line).
MAX_LINE = 64 * 1024


def _csv_event(row: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    props: dict[str, str] = {}
    for key, value in row.items():
        if key is None or value is None:
            continue
        key = key.strip()
        if key in ("subscription_id", "account_id"):
            text = value.strip()
            if text:
                out[key] = int(text) if text.isdigit() and len(text) < 19 else text
        elif key == "properties":
            if value.strip():
                out["properties"] = json.loads(value)
        elif key.startswith("prop."):
            if value != "":
                props[key[5:]] = value
        elif key in ("id", "metric", "quantity", "timestamp"):
            out[key] = value.strip()
    if props:
        out["properties"] = {**(out.get("properties") or {}), **props}
    return out


def read_file(path: str) -> Iterable[tuple[int, Any]]:
    """``(line number, event or None)`` for each record of a CSV (header: ``id``,
    ``subscription_id`` or ``account_id``, ``metric``, ``quantity``, ``timestamp``, optional
    ``properties`` as JSON or ``prop.<name>`` columns) or JSON Lines file (one event object per
    line); ``None`` for a record that cannot be read (reported as ``usage.malformed_event``).

    Errors: ``usage.unreadable_file`` (not UTF-8, unknown extension, no header).
    """
    import csv

    lower = path.lower()
    try:
        handle = open(path, encoding="utf-8", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise UsageRefused(
            f"cannot read {path}: {exc.strerror}", code="usage.unreadable_file", field="file"
        ) from None
    with handle:
        try:
            if lower.endswith((".jsonl", ".ndjson", ".json")):
                for number, line in enumerate(handle, start=1):
                    if not line.strip():
                        continue
                    try:
                        yield number, json.loads(line) if len(line) <= MAX_LINE else None
                    except ValueError:
                        yield number, None
            elif lower.endswith(".csv"):
                csv.field_size_limit(MAX_LINE)
                reader = csv.DictReader(handle)
                if not reader.fieldnames or "id" not in [f.strip() for f in reader.fieldnames]:
                    raise UsageRefused("the CSV needs a header with an id column", code="usage.unreadable_file",
                                       field="file")  # fmt: skip
                while True:
                    try:
                        row = next(reader)
                    except StopIteration:
                        break
                    except csv.Error:
                        yield reader.line_num, None
                        continue
                    try:
                        yield reader.line_num, _csv_event(row)
                    except (ValueError, TypeError):
                        yield reader.line_num, None
            else:
                raise UsageRefused(
                    "the file must be .csv or .jsonl", code="usage.unreadable_file", field="file"
                )
        except UnicodeDecodeError:
            raise UsageRefused(
                f"{path} is not UTF-8 text", code="usage.unreadable_file", field="file"
            ) from None


@dataclass
class ImportResult:
    lines: int = 0
    accepted: int = 0
    duplicates: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def import_file(path: str, *, batch: int = MAX_BATCH) -> ImportResult:
    """Ingest a usage file in batches of ``batch`` records (each batch one transaction, as over the
    API); errors name the file's line. Importing the same file again stores nothing twice."""
    batch = max(1, min(batch, MAX_BATCH))
    result = ImportResult()
    chunk: list[tuple[int, Any]] = []

    def flush() -> None:
        good = [(n, ev) for n, ev in chunk if ev is not None]
        for n, ev in chunk:
            if ev is None:
                result.errors.append({"line": n, "id": None, "code": "usage.malformed_event", "field": None,
                                      "detail": "the record cannot be read"})  # fmt: skip
        if good:
            done = ingest([ev for _, ev in good])
            result.accepted += done.accepted
            result.duplicates += done.duplicates
            for e in done.errors:
                result.errors.append(
                    {"line": good[e["index"]][0], **{k: v for k, v in e.items() if k != "index"}}
                )
        chunk.clear()

    for number, ev in read_file(path):
        result.lines += 1
        chunk.append((number, ev))
        if len(chunk) >= batch:
            flush()
    flush()
    result.errors.sort(key=lambda e: e["line"])
    return result


def unrated_events(subscription_id: int | None = None) -> int:
    """Events no usage close has rated yet (those above their month's latest close)."""
    from django.db.models import Max

    events = UsageEvent.objects.all()
    closes = UsageClose.objects.all()
    if subscription_id is not None:
        events = events.filter(subscription_id=subscription_id)
        closes = closes.filter(schedule_id=subscription_id)
    latest = {
        (sid, p): m
        for sid, p, m in closes.values_list("schedule_id", "period_start")
        .annotate(m=Max("last_event_id"))
        .order_by()
    }
    pairs = events.values_list("subscription_id", "period_start").distinct().order_by()
    return sum(
        events.filter(subscription_id=sid, period_start=p, id__gt=latest.get((sid, p), 0)).count()
        for sid, p in pairs
    )
