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
arrive in — or, for a subscription on anniversary periods (``anchor_day`` > 1), in the period
from that day of a month to the same day of the next. The pairs (subscription, month) that
received events are marked pending.

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
from q2c.billing.models import (
    Charge,
    Schedule,
    UsageClose,
    UsageEvent,
    UsageMetric,
    UsagePending,
    UsageTerms,
)
from q2c.billing.plan import PriceMissing
from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.core.money import Money, Rounding, allocate_minor
from q2c.core.periods import Period, add_months, days_in_month
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
    anchor: int = 1


def period_start_of(local: date, anchor: int | None) -> date:
    """The first day of the usage period holding the local date ``local``: the calendar month's
    first (``anchor`` 1 or None), else the latest anniversary on day ``anchor`` (clamped to the
    month's end: day 31 is 28 February) on or before it."""
    if not anchor or anchor <= 1:
        return local.replace(day=1)
    this = local.replace(day=min(anchor, days_in_month(local.year, local.month)))
    return this if local >= this else add_months(this, -1, anchor_day=anchor)


def usage_period(start: date, anchor: int | None) -> Period:
    """The usage period starting ``start``: to the next month's same (anchor) day."""
    return Period(start, add_months(start, 1, anchor_day=anchor if anchor and anchor > 1 else 1))


def period_label(period: Period) -> str:
    """``2027-03`` for a calendar month, ``2027-03-15 – 2027-04-14`` for an anniversary period."""
    if period.start.day == 1 and period.end.day == 1:
        return f"{period.start:%Y-%m}"
    return f"{period.start} – {period.end - timedelta(days=1)}"


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
    fields = ("id", "entity_id", "account_id", "metric", "start", "end", "anchor_day")
    rows: list[tuple[Any, ...]] = []
    base = Schedule.objects.filter(kind=Schedule.Kind.USAGE)
    ids = sorted(sub_ids)
    for i in range(0, len(ids), 900):
        rows.extend(base.filter(pk__in=ids[i : i + 900]).values_list(*fields))
    accts = sorted(accounts)
    for i in range(0, len(accts), 900):
        rows.extend(base.filter(account_id__in=accts[i : i + 900]).values_list(*fields))
    zones = dict(LegalEntity.objects.filter(pk__in={r[1] for r in rows}).values_list("pk", "time_zone"))
    subs = {r[0]: _Sub(r[0], r[1], r[2], r[3], r[4], r[5], zones.get(r[1]) or "UTC", r[6] or 1) for r in rows}
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
            period = local.replace(day=1) if sub.anchor <= 1 else period_start_of(local, sub.anchor)
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
    return _price_fn(found.model, currency)


def _price_fn(model: Any, currency: str) -> PriceFn:
    from q2c.catalog.pricing import price_models

    def price(quantity: Decimal) -> tuple[Money, tuple[Any, ...]]:
        r = price_models.rate(model, quantity)
        amount, _ = price_models.clamp(model, r.amount) if quantity > 0 else (r.amount, None)
        return Money(amount, currency), r.breakdown

    return price


# --- terms: allowance, commitment, price book and prices per dimension value ----------------------

Dims = tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class Terms:
    """The terms one month of a usage subscription is rated under: the latest ``UsageTerms`` in
    force on the month's first day, else the schedule's own fields (``effective_from`` None)."""

    id: int
    currency: str
    included: Decimal | None
    minimum: Decimal | None
    price_book: str
    prices: tuple[dict[str, Any], ...] = ()
    effective_from: date | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "effective_from": self.effective_from,
            "included": None if self.included is None else str(self.included),
            "minimum": None if self.minimum is None else str(self.minimum),
            "price_book": self.price_book,
            # ``label``: the values it prices ("region=EU"; "*" for every other value)
            "prices": [{**p, "label": _match_text(p.get("dimension") or {})} for p in self.prices],
        }


def _schedule_terms(s: Schedule) -> Terms:
    return Terms(s.pk, s.currency, _dec(s.included), _dec(s.minimum), s.price_book or "")


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _terms_rows(schedule_ids: Iterable[int]) -> dict[int, list[UsageTerms]]:
    """The subscriptions' terms, oldest first: one read."""
    out: dict[int, list[UsageTerms]] = defaultdict(list)
    ids = sorted(set(schedule_ids))
    for i in range(0, len(ids), 900):
        for t in UsageTerms.objects.filter(schedule_id__in=ids[i : i + 900]).order_by("effective_from"):
            out[t.schedule_id].append(t)
    return out


def terms_for(s: Schedule, period_start: date, rows: Sequence[UsageTerms] | None = None) -> Terms:
    """The terms of ``s`` in force for the month starting ``period_start`` (``rows``: its
    ``UsageTerms``, read when not given)."""
    if rows is None:
        rows = _terms_rows([s.pk]).get(s.pk, [])
    found = None
    for t in rows:
        if t.effective_from <= period_start:
            found = t
    if found is None:
        return _schedule_terms(s)
    return Terms(s.pk, s.currency, _dec(found.included), _dec(found.minimum), found.price_book,
                 tuple(found.prices or ()), found.effective_from)  # fmt: skip


def _match_text(dimension: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(dimension.items())) or "*"


@dataclass(frozen=True)
class Pricing:
    """How a month's lines are priced: per dimension value the subscription's override whose
    ``dimension`` holds the most of the line's property values (all of them must match), else
    ``default`` (the ``{}`` override when there is one, else the catalog's price model)."""

    default: PriceFn
    default_label: str
    overrides: tuple[tuple[frozenset[tuple[str, str]], str, PriceFn], ...] = ()

    def __call__(self, quantity: Decimal) -> tuple[Money, tuple[Any, ...]]:
        return self.default(quantity)

    def for_dims(self, dims: Dims) -> tuple[PriceFn, str]:
        have = {(k, v) for k, v in dims if v is not None}
        for pairs, label, fn in self.overrides:
            if pairs <= have:
                return fn, label
        return self.default, self.default_label


def pricing_for(
    s: Schedule, terms: Terms, period_start: date, cache: dict[tuple[Any, ...], PriceFn] | None = None
) -> Pricing:
    """The :class:`Pricing` of one month under ``terms``.

    Errors: ``billing.price_missing`` when a value has no override and the catalog no price."""
    overrides: list[tuple[frozenset[tuple[str, str]], str, PriceFn]] = []
    catch_all: PriceFn | None = None
    for p in terms.prices:
        dimension = {str(k): str(v) for k, v in (p.get("dimension") or {}).items()}
        fn = _price_fn(_model_of(p), s.currency)
        if dimension:
            overrides.append((frozenset(dimension.items()), _match_text(dimension), fn))
        else:
            catch_all = fn
    overrides.sort(key=lambda o: -len(o[0]))
    if catch_all is not None:
        return Pricing(catch_all, "*", tuple(overrides))
    key = (s.currency, s.sku, s.charge, period_start, terms.price_book)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = catalog_price(s.currency, s.sku, s.charge, period_start, terms.price_book)
    return Pricing(cache[key], "", tuple(overrides))


def _model_of(p: Mapping[str, Any]) -> Any:
    """The catalog ``PriceModel`` of a stored override (cleaned by :func:`set_usage_terms`)."""
    from q2c.catalog.pricing.types import PriceModel, PriceModelKind, Tier

    def d(name: str) -> Decimal | None:
        v = p.get(name)
        return None if v is None else Decimal(str(v))

    return PriceModel(
        kind=PriceModelKind(p["model"]),
        price=d("price") or Decimal(0),
        block_size=d("block_size") or Decimal(1),
        tiers=tuple(
            Tier(
                Decimal(t["lower"]),
                _dec(t.get("upper")),
                Decimal(t["unit_price"]),
                Decimal(t.get("flat_fee") or 0),
            )
            for t in p.get("tiers") or ()
        ),
        minimum=d("minimum"),
        maximum=d("maximum"),
    )


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
    #: per dimension, the override that priced it ('' = the catalog's price, '*' = the default)
    prices: dict[tuple[tuple[str, str | None], ...], str] = field(default_factory=dict)

    def total(self, currency: str) -> Money:
        return sum((r.amount for r in self.lines.values()), Money.zero(currency)) + self.true_up


def rate_period(
    sched: Any,
    period: Period,
    metric: engine.Metric,
    tz: str,
    price: PriceFn | Pricing,
    rows: Iterable[tuple[str, str, int, str, int]],
    *,
    rounding: Rounding = "half_up",
    until_us: int | None = None,
    keep: Callable[[int], bool] = lambda row_id: True,
) -> PeriodRating:
    """Aggregate and rate the events ``rows`` of one month (those ``keep`` accepts by row id and,
    with ``until_us``, those before that instant). ``sched`` gives the allowance, the minimum and
    the currency (a :class:`Terms` or a ``Schedule``); ``price`` a :class:`Pricing` prices each
    dimension by its value."""
    sid = sched.id if hasattr(sched, "id") else sched.pk
    pricing = price if isinstance(price, Pricing) else Pricing(price, "")
    if metric.aggregation in _PLAIN and not metric.group_by:
        return _rate_plain(sched, metric, pricing, rows, rounding, until_us, keep)
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
    lines = {}
    labels = {}
    for agg in result.aggregates:
        fn, labels[agg.dimensions] = pricing.for_dims(agg.dimensions)
        lines[agg.dimensions] = rating.rate(agg.value, fn, included=included, rounding=rounding)
    currency = sched.currency
    usage_total = sum((r.amount for r in lines.values()), Money.zero(currency))
    true_up = Money.zero(currency)
    if sched.minimum is not None and events:
        true_up = rating.commitment_true_up([usage_total], Money(Decimal(sched.minimum), currency)).round(
            rounding
        )
    return PeriodRating(lines, true_up, len(events), labels)


_PLAIN = (engine.Aggregation.SUM, engine.Aggregation.COUNT, engine.Aggregation.MAX)


def _rate_plain(
    sched: Any, metric: engine.Metric, pricing: Pricing, rows: Iterable[tuple[str, str, int, str, int]],
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
    fn, label = pricing.for_dims(())
    rated = rating.rate(value, fn, included=Decimal(sched.included or 0), rounding=rounding)
    true_up = Money.zero(sched.currency)
    if sched.minimum is not None:
        true_up = rating.commitment_true_up(
            [rated.amount], Money(Decimal(sched.minimum), sched.currency)
        ).round(rounding)
    return PeriodRating({(): rated}, true_up, len(values), {(): label})


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


def _due(as_of: date) -> tuple[list[tuple[int, date]], dict[int, Schedule]]:
    """The pending (subscription, period) pairs whose period has ended by ``as_of`` and their
    schedules (a period ends on its next anniversary: the 1st for calendar months)."""
    pairs = _pending(as_of)
    scheds = {s.pk: s for s in Schedule.objects.filter(pk__in={sid for sid, _ in pairs})}
    due = [
        (sid, p) for sid, p in pairs if sid in scheds and usage_period(p, scheds[sid].anchor_day).end <= as_of
    ]
    return due, scheds


def pending_currencies(as_of: date) -> set[tuple[int, str]]:
    """(entity, currency) of the subscriptions a usage close on ``as_of`` would rate."""
    due, scheds = _due(as_of)
    return {(scheds[sid].entity_id, scheds[sid].currency) for sid, _ in due}


def close_usage(as_of: date, *, actor: str = "") -> CloseResult:
    """Rate every pending period that has ended by ``as_of`` (see the module docstring)."""
    result = CloseResult()
    pairs, scheds = _due(as_of)
    if not pairs:
        return result
    zones = dict(
        LegalEntity.objects.filter(pk__in={s.entity_id for s in scheds.values()}).values_list(
            "pk", "time_zone"
        )
    )
    prices: dict[tuple[Any, ...], PriceFn] = {}
    metrics: dict[str, engine.Metric] = {}
    roundings: dict[int, Rounding] = {}
    all_terms = _terms_rows(scheds)
    for sid, period_start in pairs:
        s = scheds.get(sid)
        if s is None:
            continue
        try:
            if s.metric not in metrics:
                metrics[s.metric] = _metric(s.metric)
            if s.entity_id not in roundings:
                roundings[s.entity_id] = _rounding(s.entity_id)
            terms = terms_for(s, period_start, all_terms.get(sid, []))
            pricing = pricing_for(s, terms, period_start, prices)
            done = close_one(s, period_start, as_of, metrics[s.metric], zones.get(s.entity_id) or "UTC",
                             pricing, roundings[s.entity_id], actor=actor, terms=terms)  # fmt: skip
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
    s: Schedule, period_start: date, as_of: date, metric: engine.Metric, tz: str, price: PriceFn | Pricing,
    rounding: Rounding, *, actor: str = "", terms: Terms | None = None,
) -> tuple[int, int] | None:  # fmt: skip
    """Rate one subscription's month in one transaction; returns (charges, events) or None."""
    period = usage_period(period_start, s.anchor_day)
    now = clock.now()
    with transaction.atomic():
        # The schedule's row lock orders this close with ``set_usage_terms``: terms for this
        # period either committed before (and are read here) or see this close and are refused.
        list(Schedule.objects.select_for_update().filter(pk=s.pk).values_list("pk", flat=True))
        fresh = terms_for(s, period_start)
        if terms is None or fresh != terms:
            terms, price = fresh, pricing_for(s, fresh, period_start)
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
        now_rating = rate_period(terms, period, metric, tz, price, rows, rounding=rounding)
        before = (
            rate_period(
                terms, period, metric, tz, price, rows, rounding=rounding, keep=lambda rid: rid <= before_max
            )
            if seq
            else PeriodRating({}, Money.zero(s.currency), 0)
        )
        charges = _lines(s, close, period, now_rating, before, as_of, actor, terms.minimum)
        Charge.objects.bulk_create(charges)
        close.events = marked
        close.amount_minor = sum(c.amount_minor for c in charges)
        close.save(update_fields=["events", "amount_minor"])
    return len(charges), marked


def _lines(
    s: Schedule, close: UsageClose, period: Period, now_r: PeriodRating, before: PeriodRating, as_of: date,
    actor: str, minimum: Decimal | None,
) -> list[Charge]:  # fmt: skip
    """The charges of a close: per dimension the rated amount (first close) or its change (later
    closes), and the true-up (or its change)."""
    out: list[Charge] = []
    late = close.seq > 0
    month = period_label(period)
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
            if now_r.prices.get(dims):
                detail += f", price for {now_r.prices[dims]}"
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
        detail = f"minimum {minimum} {s.currency} for [{period.start}, {period.end})"
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


#: Price models a usage override may use (a percent of other lines makes no sense for usage).
OVERRIDE_MODELS = ("flat", "per_unit", "tiered", "volume", "package")
_TERMS_FIELDS = ("effective_from", "included", "minimum", "price_book", "prices")
MAX_OVERRIDES = 100


class _Problems:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, field_name: str, code: str, message: str) -> None:
        self.items.append({"field": field_name, "code": code, "message": message})

    def decimal(self, value: Any, field_name: str, *, exponent: int | None = None) -> Decimal | None:
        """A decimal ≥ 0 given as text or an integer (no floats); None after a problem."""
        if isinstance(value, bool) or not isinstance(value, str | int):
            self.add(field_name, "usage.invalid_terms", f"{field_name}: give a number as text or an integer")
            return None
        try:
            number = Decimal(str(value).strip())
        except ArithmeticError:
            self.add(field_name, "usage.invalid_terms", f"{field_name}: '{value}' is not a number")
            return None
        if not number.is_finite() or number < 0 or number >= Decimal(10) ** 15:
            self.add(field_name, "usage.invalid_terms", f"{field_name} must be a number from 0 below 10^15")
            return None
        if exponent is not None and number != number.quantize(Decimal(1).scaleb(-exponent)):
            self.add(field_name, "usage.invalid_terms", f"{field_name} has more than {exponent} decimals")
            return None
        if number.as_tuple().exponent < -12:  # type: ignore[operator]
            self.add(field_name, "usage.invalid_terms", f"{field_name} has more than 12 decimals")
            return None
        return number


def _clean_override(
    raw: Any, i: int, group_by: Sequence[str], exponent: int, problems: _Problems
) -> dict[str, Any] | None:
    """One price override as stored (numbers as text), or None after recording its problems."""
    from q2c.catalog.pricing import price_models

    at = f"prices[{i}]"
    if not isinstance(raw, Mapping):
        problems.add(at, "usage.invalid_terms", f"{at} is an object {{dimension, model, ...}}")
        return None
    before = len(problems.items)
    unknown = sorted(set(raw) - {"dimension", "model", "price", "block_size", "tiers", "minimum", "maximum"})
    if unknown:
        problems.add(f"{at}.{unknown[0]}", "usage.invalid_terms", f"{at} has no field '{unknown[0]}'")
    dimension = raw.get("dimension") or {}
    dim: dict[str, str] = {}
    if not isinstance(dimension, Mapping):
        problems.add(f"{at}.dimension", "usage.invalid_terms", "dimension is an object {property: value}")
    else:
        for k, v in dimension.items():
            if k not in group_by:
                known = ", ".join(group_by) or "none: the metric has no dimensions"
                problems.add(f"{at}.dimension.{k}", "usage.unknown_dimension",
                             f"the metric is not split by '{k}' (its dimensions: {known})")  # fmt: skip
            elif isinstance(v, bool) or not isinstance(v, str | int) or not str(v) or len(str(v)) > 200:
                problems.add(f"{at}.dimension.{k}", "usage.invalid_terms",
                             f"the value of '{k}' is a text or an integer")  # fmt: skip
            else:
                dim[str(k)] = str(v)
    model = raw.get("model")
    if model not in OVERRIDE_MODELS:
        problems.add(f"{at}.model", "usage.invalid_terms", f"model is one of {', '.join(OVERRIDE_MODELS)}")
    out: dict[str, Any] = {"dimension": dim, "model": model}
    for name in ("price", "block_size", "minimum", "maximum"):
        if raw.get(name) is not None:
            exp = exponent if name in ("minimum", "maximum") else None
            value = problems.decimal(raw[name], f"{at}.{name}", exponent=exp)
            out[name] = None if value is None else str(value)
    tiers_raw = raw.get("tiers") or []
    tiers: list[dict[str, Any]] = []
    if not isinstance(tiers_raw, list) or len(tiers_raw) > 50:
        problems.add(
            f"{at}.tiers", "usage.invalid_terms", "tiers is a list of at most 50 {lower, upper, unit_price}"
        )
    else:
        for j, t in enumerate(tiers_raw):
            tat = f"{at}.tiers[{j}]"
            if not isinstance(t, Mapping):
                problems.add(tat, "usage.invalid_terms", f"{tat} is an object {{lower, upper, unit_price}}")
                continue
            row: dict[str, Any] = {}
            for name in ("lower", "upper", "unit_price", "flat_fee"):
                if t.get(name) is None:
                    if name in ("lower", "unit_price"):
                        problems.add(f"{tat}.{name}", "usage.invalid_terms", f"{tat}.{name} is required")
                    continue
                value = problems.decimal(t[name], f"{tat}.{name}")
                if value is not None:
                    row[name] = str(value)
            tiers.append(row)
    if model in ("tiered", "volume") and not tiers_raw:
        problems.add(f"{at}.tiers", "usage.invalid_terms", f"a {model} price needs tiers")
    elif model not in ("tiered", "volume") and tiers_raw:
        problems.add(f"{at}.tiers", "usage.invalid_terms", f"a {model} price has no tiers")
    if len(problems.items) > before:
        return None
    out["tiers"] = tiers
    for p in price_models.check_model(_model_of(out)):
        name = f"tiers[{p.position}].{p.field}" if p.code.startswith("pricing.tier") else p.field
        problems.add(f"{at}.{name}", p.code, p.message)
    return None if len(problems.items) > before else out


def set_usage_terms(schedule_id: int, raw: Any, *, actor: str = "") -> Terms:
    """Set a usage subscription's terms from a month on: ``effective_from`` (a month's first day,
    required), ``included`` (units per month), ``minimum`` (commitment per month), ``price_book``
    (blank: the best book of the currency) and ``prices`` (overrides per dimension value: each
    ``{"dimension": {"region": "EU"}, "model": "tiered", "tiers": [...]}``, or ``price``,
    ``block_size``, ``minimum``, ``maximum`` as a catalog price entry; ``"dimension": {}`` prices
    every other value). A field left out keeps what was in force that month; ``null`` clears it.
    Setting the same month again replaces its terms. Months already rated keep theirs: the month
    must come after the latest rated one. One transaction; nothing written on error.

    Errors: ``billing.not_found`` (404); 422 naming the field: ``usage.invalid_terms``,
    ``usage.not_a_period_start``, ``usage.outside_subscription``, ``usage.period_rated``,
    ``usage.unknown_dimension``, ``usage.duplicate_dimension``, ``usage.unknown_price_book``,
    ``pricing.tier_*``, ``billing.price_missing``.
    """
    from q2c.billing import errors
    from q2c.core.money import currency_exponent

    if not isinstance(raw, Mapping):
        raise UsageRefused("the terms are a JSON object", code="usage.invalid_terms", field="terms")
    problems = _Problems()
    unknown = sorted(set(raw) - set(_TERMS_FIELDS))
    if unknown:
        problems.add(unknown[0], "usage.invalid_terms", f"the terms have no field '{unknown[0]}'")
    with transaction.atomic():
        s = Schedule.objects.select_for_update().filter(pk=schedule_id, kind=Schedule.Kind.USAGE).first()
        if s is None:
            raise errors.BillingNotFound(f"no usage subscription {schedule_id}", field="schedule_id")
        exponent = currency_exponent(s.currency)
        start: date | None = None
        text = raw.get("effective_from")
        try:
            start = date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
        except ValueError:
            start = None
        if start is None:
            problems.add("effective_from", "usage.invalid_terms", "effective_from is a date YYYY-MM-DD")
        elif period_start_of(start, s.anchor_day) != start:
            problems.add("effective_from", "usage.not_a_period_start",
                         "effective_from is the first day of a usage period "
                         f"(this one starts {period_start_of(start, s.anchor_day)})")  # fmt: skip
            start = None
        elif start < period_start_of(s.start, s.anchor_day) or (s.end is not None and start >= s.end):
            problems.add("effective_from", "usage.outside_subscription",
                         f"effective_from is outside the subscription [{s.start}, {s.end or '…'})")  # fmt: skip
            start = None
        if start is not None:
            rated = (
                UsageClose.objects.filter(schedule=s, period_start__gte=start)
                .order_by("-period_start")
                .values_list("period_start", flat=True)
                .first()
            )
            if rated is not None:
                problems.add("effective_from", "usage.period_rated",
                             f"{rated:%Y-%m} is already rated: new terms start after it")  # fmt: skip
        current = terms_for(s, start or period_start_of(s.start, s.anchor_day))
        included = current.included
        if "included" in raw:
            included = None if raw["included"] is None else problems.decimal(raw["included"], "included")
        minimum = current.minimum
        if "minimum" in raw:
            minimum = (
                None
                if raw["minimum"] is None
                else problems.decimal(raw["minimum"], "minimum", exponent=exponent)
            )
        book = current.price_book
        if "price_book" in raw:
            book = raw["price_book"] or ""
            if not isinstance(book, str) or len(book) > 40:
                problems.add("price_book", "usage.invalid_terms", "price_book is a price book's code")
                book = ""
            elif book:
                from q2c.catalog.models import PriceBook

                if not PriceBook.objects.filter(code=book, currency=s.currency).exists():
                    problems.add("price_book", "usage.unknown_price_book",
                                 f"there is no price book '{book}' in {s.currency}")  # fmt: skip
        prices: list[dict[str, Any]] = [dict(p) for p in current.prices]
        if "prices" in raw:
            prices = []
            items = raw["prices"] if raw["prices"] is not None else []
            if not isinstance(items, list) or len(items) > MAX_OVERRIDES:
                problems.add("prices", "usage.invalid_terms", f"prices is a list of at most {MAX_OVERRIDES}")
                items = []
            group_by = _metric(s.metric).group_by
            seen: dict[str, int] = {}
            for i, item in enumerate(items):
                cleaned = _clean_override(item, i, group_by, exponent, problems)
                if cleaned is None:
                    continue
                key = _match_text(cleaned["dimension"])
                if key in seen:
                    problems.add(f"prices[{i}].dimension", "usage.duplicate_dimension",
                                 f"prices[{seen[key]}] already prices {key}")  # fmt: skip
                seen[key] = i
                prices.append(cleaned)
        terms = Terms(s.pk, s.currency, included, minimum, book, tuple(prices), start)
        if not problems.items and start is not None and not any(not p["dimension"] for p in prices):
            try:
                pricing_for(s, terms, start)
            except ValidationError as exc:
                problems.add("price_book" if book else "prices", exc.code,
                             f"{exc.message}: give a price book that prices it or a default price (dimension {{}})")  # fmt: skip
        if problems.items or start is None:
            first = problems.items[0]
            more = len(problems.items) - 1
            raise UsageRefused(
                first["message"] + (f" (and {more} more)" if more else ""),
                code=first["code"], field=first["field"], details=problems.items,
            )  # fmt: skip
        UsageTerms.objects.update_or_create(
            schedule=s, effective_from=start,
            defaults={"included": included, "minimum": minimum, "price_book": book, "prices": prices,
                      "actor": actor[:150], "created_at": clock.now()},
        )  # fmt: skip
    return terms


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
    # Only the months asked about (not every month ever invoiced to these subscriptions).
    for sid, start, minor in Charge.objects.filter(
        subscription_id__in=list(by_id), service_start__in={p for _, p in pairs}, billed_on__lte=as_of,
        invoice_id__isnull=False,
    ).values_list("subscription_id", "service_start", "amount_minor"):
        if sid is not None and start is not None:
            invoiced[(sid, start)] += minor
    out: list[UnbilledUsage] = []
    metrics: dict[str, engine.Metric] = {}
    roundings: dict[int, Rounding] = {}
    all_terms = _terms_rows(by_id)
    prices: dict[tuple[Any, ...], PriceFn] = {}
    for sid, start in sorted(pairs, key=lambda x: (x[1], x[0])):
        s = by_id.get(sid)
        if s is None:
            continue
        tz = zones.get(s.entity_id) or "UTC"
        period = usage_period(start, s.anchor_day)
        until = datetime.combine(as_of + timedelta(days=1), datetime.min.time(), tzinfo=ZoneInfo(tz))
        if s.metric not in metrics:
            metrics[s.metric] = _metric(s.metric)
        if s.entity_id not in roundings:
            roundings[s.entity_id] = _rounding(s.entity_id)
        terms = terms_for(s, start, all_terms.get(sid, []))
        price = pricing_for(s, terms, start, prices)
        rated = rate_period(terms, period, metrics[s.metric], tz, price, _events(s.pk, start),
                            rounding=roundings[s.entity_id], until_us=(until.astimezone(UTC) - EPOCH) // _US)  # fmt: skip
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
    terms_rows = _terms_rows([s.pk]).get(s.pk, [])
    prices: dict[tuple[Any, ...], PriceFn] = {}
    for start in sorted(counts, reverse=True)[:months]:
        period = usage_period(start, s.anchor_day)
        rated: str | None = None
        true_up: str | None = None
        problem = ""
        aggregates: list[dict[str, Any]] = []
        terms = terms_for(s, start, terms_rows)
        try:
            price = pricing_for(s, terms, start, prices)
            r = rate_period(
                terms, period, metric, tz, price, _events(s.pk, start), rounding=_rounding(s.entity_id)
            )
            rated = str(r.total(s.currency).amount)
            true_up = str(r.true_up.amount) if terms.minimum is not None else None
            aggregates = [
                {"dimension": _dim_key(d), "quantity": str(x.quantity), "included": str(x.included),
                 "billable": str(x.billable), "amount": str(x.amount.amount),
                 "price": r.prices.get(d, ""), "tiers": tiers_for(x)}
                for d, x in sorted(r.lines.items(), key=lambda kv: _dim_key(kv[0]))
            ]  # fmt: skip
        except ValidationError as exc:
            problem = exc.message
        mine = [c for c in charges if c.service_start == start]
        out_months.append(
            {
                "period_start": start, "period_end": period.end, "label": period_label(period),
                "events": counts[start]["events"],
                "unrated_events": counts[start]["unrated"], "late_events": counts[start]["late"],
                "aggregates": aggregates, "rated": rated, "true_up": true_up, "terms": terms.as_dict(),
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
        "terms": [_schedule_terms(s).as_dict()] + [terms_for(s, t.effective_from, terms_rows).as_dict()
                                                   for t in terms_rows],
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
