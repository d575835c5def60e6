"""Usage aggregation: metered events → one figure per subscription, metric, period and dimension.

Owns the pure side of usage metering:

* :func:`validate_batch` checks an ingestion batch event by event (unknown subscription or
  metric, negative or non-decimal quantity, naive or far-future timestamp, timestamp before the
  subscription, duplicated id within the batch) and returns the valid events and per-event errors;
* :func:`aggregate` folds events into aggregates — sum, max, count, unique count of a property,
  last value — per subscription, metric, billing period and dimension values (group by
  properties such as ``region``). The period an event belongs to is decided by its timestamp in
  the entity's time zone: a period ``[start, end)`` of business dates covers the instants from
  local midnight of ``start`` up to (excluding) local midnight of ``end``. Duplicate event ids are
  ignored (the first one wins). Events for a period already invoiced come back apart, as
  adjustments referring to their period, for the next invoice.

The result does not depend on the order of the events (``last`` breaks timestamp ties by event
id) nor on repeated copies of the same event.

Fast path: period boundaries are turned into UTC instants once per period list, each event is
placed by a binary search over them, and the aggregates are plain dict entries — no per-event
time-zone conversion, no per-event objects beyond what the caller passes in.

Plain Python over plain dataclasses: must not import Django, the ORM, or any q2c package other
than ``q2c.core``.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from q2c.core.errors import ValidationError
from q2c.core.money import InvalidAmount, to_decimal
from q2c.core.periods import Period, add_months

__all__ = [
    "MAX_BATCH",
    "Aggregation",
    "EventError",
    "Metric",
    "UsageAggregate",
    "UsageError",
    "UsageEvent",
    "UsagePeriods",
    "UsageResult",
    "aggregate",
    "validate_batch",
]

#: The largest ingestion batch (issue 11): one request, one transaction.
MAX_BATCH = 10_000
#: Quantities: at most 15 integer and 12 decimal digits; aggregation sums them at 60 significant
#: digits, so a period's sum stays exact.
_MAX_QUANTITY = Decimal(10) ** 15
_MAX_DECIMALS = 12
_MAX_ID = 200
_MAX_PROPERTIES = 50


class UsageError(ValidationError):
    default_code = "usage.invalid"


class Aggregation(StrEnum):
    SUM = "sum"
    MAX = "max"
    COUNT = "count"
    UNIQUE_COUNT = "unique_count"
    LAST = "last"


@dataclass(frozen=True, slots=True)
class Metric:
    """How a metric aggregates. ``property`` is what ``unique_count`` counts; ``group_by`` names
    the properties whose values split the aggregate into dimensions (priced separately)."""

    code: str
    aggregation: Aggregation = Aggregation.SUM
    property: str | None = None
    group_by: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "aggregation", Aggregation(self.aggregation))
        except ValueError:
            raise UsageError(f"unknown aggregation '{self.aggregation}'", field="aggregation") from None
        if self.aggregation is Aggregation.UNIQUE_COUNT and not self.property:
            raise UsageError("a unique count needs the property it counts", field="property")
        object.__setattr__(self, "group_by", tuple(self.group_by))


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """One metered event. ``timestamp`` is timezone-aware; ``quantity`` a Decimal ≥ 0."""

    id: str
    subscription_id: int
    metric: str
    quantity: Decimal
    timestamp: datetime
    properties: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventError:
    """Why one event of a batch (or of an aggregation) was not taken."""

    index: int
    id: str | None
    code: str
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "id": self.id,
            "code": self.code,
            "field": self.field,
            "detail": self.message,
        }


@dataclass(frozen=True, slots=True)
class UsageAggregate:
    """One aggregate: the figure a usage line is rated from.

    ``adjustment`` marks an aggregate of late events for a period already invoiced: it goes on the
    next invoice and refers to ``period``.
    """

    subscription_id: int
    metric: str
    period: Period
    dimensions: tuple[tuple[str, str | None], ...]
    value: Decimal
    events: int
    adjustment: bool = False


@dataclass(frozen=True, slots=True)
class UsageResult:
    aggregates: tuple[UsageAggregate, ...]
    adjustments: tuple[UsageAggregate, ...]
    duplicates: tuple[str, ...]
    rejected: tuple[EventError, ...]


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise UsageError(f"unknown time zone '{tz}'", code="usage.invalid_time_zone", field="tz") from None


def _local_midnight_utc(day: date, zone: ZoneInfo) -> datetime:
    # fold=0: where midnight is skipped or repeated by a DST change, this is the first instant of
    # the local day (zoneinfo reads a skipped time with the offset before the change).
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


class _Index:
    __slots__ = ("ends", "periods", "starts")

    def __init__(self, periods: Sequence[Period], zone: ZoneInfo) -> None:
        ordered = sorted(periods)
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise UsageError(
                    f"usage periods {a} and {b} overlap", code="usage.periods_overlap", field="periods"
                )
        self.periods = ordered
        self.starts = [_local_midnight_utc(p.start, zone) for p in ordered]
        self.ends = [_local_midnight_utc(p.end, zone) for p in ordered]


class UsagePeriods:
    """The billing periods usage is counted in, per subscription, in the entity's time zone.

    ``default`` applies to every subscription not listed in ``per_subscription`` (usage billed
    monthly on the 1st: the calendar months). Periods of one list must not overlap; gaps are
    allowed (an event in a gap is rejected, not dropped silently).
    """

    def __init__(
        self,
        tz: str,
        default: Sequence[Period] = (),
        per_subscription: Mapping[int, Sequence[Period]] | None = None,
    ) -> None:
        self.tz = tz
        self._zone = _zone(tz)
        self._default = _Index(default, self._zone)
        self._per = {sid: _Index(ps, self._zone) for sid, ps in (per_subscription or {}).items()}

    @classmethod
    def calendar_months(
        cls,
        tz: str,
        start: date,
        end: date,
        per_subscription: Mapping[int, Sequence[Period]] | None = None,
    ) -> UsagePeriods:
        """Calendar months from ``start``'s month up to (excluding) ``end``'s first day."""
        first = start.replace(day=1)
        out = []
        while first < end:
            nxt = add_months(first, 1)
            out.append(Period(first, nxt))
            first = nxt
        return cls(tz, out, per_subscription)

    def index_for(self, subscription_id: int) -> _Index:
        return self._per.get(subscription_id, self._default)

    def locate(self, subscription_id: int, timestamp: datetime) -> Period | None:
        """The period ``timestamp`` falls in for the subscription, or ``None``."""
        index = self.index_for(subscription_id)
        ts = timestamp.astimezone(UTC)
        i = bisect_right(index.starts, ts) - 1
        if i >= 0 and ts < index.ends[i]:
            return index.periods[i]
        return None


# --- aggregation ---------------------------------------------------------------------------------

_SUM, _MAX, _COUNT, _UNIQUE, _LAST = (
    Aggregation.SUM,
    Aggregation.MAX,
    Aggregation.COUNT,
    Aggregation.UNIQUE_COUNT,
    Aggregation.LAST,
)


def aggregate(
    events: Iterable[UsageEvent],
    metrics: Mapping[str, Metric],
    periods: UsagePeriods,
    *,
    invoiced: Collection[tuple[int, str, date]] = frozenset(),
) -> UsageResult:
    """Aggregate ``events`` per subscription, metric, period and dimensions.

    ``metrics`` maps metric codes to how they aggregate; ``invoiced`` holds
    ``(subscription_id, metric, period_start)`` of usage already invoiced — aggregates of events
    for those come back in ``adjustments``. Events with an unknown metric, a naive timestamp or no
    period for their subscription come back in ``rejected``; repeated ids in ``duplicates``.

    An adjustment aggregates only the late events given. For ``sum`` and ``count`` that is the
    quantity to add; for ``max``, ``unique_count`` and ``last`` — and for any tiered price — bill
    the difference instead: aggregate the period's previous and late events together and rate the
    difference with :func:`q2c.billing.engine.rating.rate_adjustment`.
    """
    seen: set[str] = set()
    duplicates: list[str] = []
    rejected: list[EventError] = []
    # key → [value, events]; value is a Decimal (sum, max), an int (count), a set (unique) or a
    # (timestamp, id, quantity) triple (last).
    acc: dict[tuple[int, str, int, tuple[Any, ...]], list[Any]] = {}
    indexes: dict[int, _Index] = {}
    index_for = periods.index_for

    # Sums are exact: 60 significant digits hold any period of quantities within the limits
    # validate_batch enforces (15 integer and 12 decimal digits) summed over billions of events.
    with localcontext() as ctx:
        ctx.prec = 60
        _fold(events, metrics, index_for, seen, duplicates, rejected, acc, indexes)
    return _result(acc, metrics, indexes, invoiced, duplicates, rejected)


def _fold(
    events: Iterable[UsageEvent],
    metrics: Mapping[str, Metric],
    index_for: Any,
    seen: set[str],
    duplicates: list[str],
    rejected: list[EventError],
    acc: dict[tuple[int, str, int, tuple[Any, ...]], list[Any]],
    indexes: dict[int, _Index],
) -> None:
    utc = UTC
    no_dims: tuple[Any, ...] = ()
    for position, ev in enumerate(events):
        eid = ev.id
        if eid in seen:
            duplicates.append(eid)
            continue
        seen.add(eid)
        spec = metrics.get(ev.metric)
        if spec is None:
            rejected.append(
                EventError(position, eid, "usage.unknown_metric", "metric", f"unknown metric '{ev.metric}'")
            )
            continue
        ts = ev.timestamp
        tzinfo = ts.tzinfo
        if tzinfo is not utc:
            if tzinfo is None or ts.utcoffset() is None:
                rejected.append(
                    EventError(
                        position, eid, "usage.naive_timestamp", "timestamp", "timestamp has no time zone"
                    )
                )
                continue
            ts = ts.astimezone(utc)
        sub = ev.subscription_id
        index = indexes.get(sub)
        if index is None:
            index = indexes[sub] = index_for(sub)
        i = bisect_right(index.starts, ts) - 1
        if i < 0 or ts >= index.ends[i]:
            rejected.append(
                EventError(
                    position,
                    eid,
                    "usage.outside_periods",
                    "timestamp",
                    "no billing period for this timestamp",
                )
            )
            continue
        group_by = spec.group_by
        props = ev.properties
        dims = tuple([props.get(g) for g in group_by]) if group_by else no_dims
        key = (sub, spec.code, i, dims)
        slot = acc.get(key)
        kind = spec.aggregation
        quantity = ev.quantity
        if kind is _SUM:
            if slot is None:
                acc[key] = [quantity, 1]
            else:
                slot[0] += quantity
                slot[1] += 1
        elif kind is _COUNT:
            if slot is None:
                acc[key] = [1, 1]
            else:
                slot[0] += 1
                slot[1] += 1
        elif kind is _MAX:
            if slot is None:
                acc[key] = [quantity, 1]
            else:
                if quantity > slot[0]:
                    slot[0] = quantity
                slot[1] += 1
        elif kind is _UNIQUE:
            value = props.get(spec.property)  # type: ignore[arg-type]
            if slot is None:
                slot = acc[key] = [set(), 0]
            if value is not None:
                slot[0].add(value)
            slot[1] += 1
        else:  # last value: the latest timestamp wins, ties broken by id for order independence
            if slot is None:
                acc[key] = [(ts, eid, quantity), 1]
            else:
                if (ts, eid) > slot[0][:2]:
                    slot[0] = (ts, eid, quantity)
                slot[1] += 1


def _result(
    acc: dict[tuple[int, str, int, tuple[Any, ...]], list[Any]],
    metrics: Mapping[str, Metric],
    indexes: dict[int, _Index],
    invoiced: Collection[tuple[int, str, date]],
    duplicates: list[str],
    rejected: list[EventError],
) -> UsageResult:
    aggregates: list[UsageAggregate] = []
    adjustments: list[UsageAggregate] = []
    invoiced_set = invoiced if isinstance(invoiced, set | frozenset) else frozenset(invoiced)
    for (sub, code, i, dims), (raw, count) in acc.items():
        period = indexes[sub].periods[i]
        kind = metrics[code].aggregation
        figure: Decimal
        if kind is _UNIQUE:
            figure = Decimal(len(raw))
        elif kind is _LAST:
            figure = raw[2]
        elif kind is _COUNT:
            figure = Decimal(raw)
        else:
            figure = raw
        late = (sub, code, period.start) in invoiced_set
        group_by = metrics[code].group_by
        item = UsageAggregate(
            subscription_id=sub,
            metric=code,
            period=period,
            dimensions=tuple(zip(group_by, dims, strict=True)),
            value=figure,
            events=count,
            adjustment=late,
        )
        (adjustments if late else aggregates).append(item)

    def order(a: UsageAggregate) -> tuple[Any, ...]:
        return (
            a.subscription_id,
            a.metric,
            a.period.start,
            tuple((k, v is None, v or "") for k, v in a.dimensions),
        )

    aggregates.sort(key=order)
    adjustments.sort(key=order)
    return UsageResult(tuple(aggregates), tuple(adjustments), tuple(duplicates), tuple(rejected))


# --- ingestion batches ---------------------------------------------------------------------------


def _parse_timestamp(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise UsageError(
                f"'{value}' is not an ISO 8601 timestamp", code="usage.invalid_timestamp"
            ) from None
    if not isinstance(value, datetime):
        raise UsageError("timestamp must be an ISO 8601 timestamp", code="usage.invalid_timestamp")
    if value.tzinfo is None or value.utcoffset() is None:
        raise UsageError("timestamp needs a time zone offset", code="usage.naive_timestamp")
    return value.astimezone(UTC)


_INT_LIMIT = 10**15


def _parse_quantity(value: Any) -> Decimal:
    if type(value) is int and 0 <= value < _INT_LIMIT:  # the common case, checked cheaply
        return Decimal(value)
    if isinstance(value, float):
        raise UsageError(
            "quantity must be a decimal string or an integer, not a float", code="usage.invalid_quantity"
        )
    try:
        quantity = to_decimal(value, field="quantity")
    except (TypeError, InvalidAmount):
        raise UsageError(f"'{value}' is not a quantity", code="usage.invalid_quantity") from None
    if quantity < 0:
        raise UsageError("quantity must not be negative", code="usage.negative_quantity")
    if quantity >= _MAX_QUANTITY:
        raise UsageError("quantity is too large", code="usage.invalid_quantity")
    exponent = quantity.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -_MAX_DECIMALS:
        raise UsageError(f"quantity has more than {_MAX_DECIMALS} decimals", code="usage.invalid_quantity")
    return quantity


def _parse_properties(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not (type(value) is dict or isinstance(value, Mapping)) or len(value) > _MAX_PROPERTIES:
        raise UsageError(
            f"properties must be an object of at most {_MAX_PROPERTIES} entries",
            code="usage.invalid_properties",
        )
    out: dict[str, str] = {}
    for k, v in value.items():
        if type(k) is str and type(v) is str:
            out[k] = v
            continue
        if not isinstance(k, str) or isinstance(v, float | dict | list) or v is None:
            raise UsageError(
                "property values must be strings, integers or booleans", code="usage.invalid_properties"
            )
        out[k] = str(v)
    return out


def validate_batch(
    batch: Any,
    *,
    metrics: Collection[str],
    subscriptions: Mapping[int, date | None],
    now: datetime,
    tz: str = "UTC",
    max_future: timedelta = timedelta(minutes=5),
    max_batch: int = MAX_BATCH,
) -> tuple[list[UsageEvent], list[EventError]]:
    """Check an ingestion batch: the valid events, and one error per invalid event.

    ``subscriptions`` maps the known subscription ids to their start date (or ``None``); an event
    dated (in the entity's time zone ``tz``) before its subscription's start is refused, as is
    one later than ``now + max_future``. A batch that is not a list, is empty or holds more than
    ``max_batch`` events raises :class:`UsageError` (nothing is taken). An id repeated within the
    batch is an error for each repetition; ids seen in earlier batches are the store's concern
    (a unique constraint; re-sent events are ignored there).
    """
    if not isinstance(batch, list | tuple):
        raise UsageError("a batch is a list of events", code="usage.malformed_batch", field="events")
    if not batch:
        raise UsageError("the batch is empty", code="usage.empty_batch", field="events")
    if len(batch) > max_batch:
        raise UsageError(
            f"a batch holds at most {max_batch} events ({len(batch)} sent)",
            code="usage.batch_too_large",
            field="events",
        )
    if now.tzinfo is None:
        raise UsageError("now must be timezone-aware", field="now")
    zone = _zone(tz)
    latest = now + max_future
    seen: set[str] = set()
    events: list[UsageEvent] = []
    errors: list[EventError] = []
    for index, raw in enumerate(batch):
        is_map = type(raw) is dict or isinstance(raw, Mapping)
        eid = raw.get("id") if is_map else None
        eid = eid if isinstance(eid, str) else None
        fld: str | None = None
        try:
            if not is_map:
                raise UsageError("an event is an object", code="usage.malformed_event")
            fld = "id"
            if eid is None or not eid.strip() or len(eid) > _MAX_ID:
                raise UsageError(
                    f"id must be a non-empty string of at most {_MAX_ID} characters", code="usage.invalid_id"
                )
            if eid in seen:
                raise UsageError(
                    f"id '{eid}' appears more than once in the batch", code="usage.duplicate_in_batch"
                )
            seen.add(eid)
            fld = "subscription_id"
            sub = raw.get("subscription_id")
            if not isinstance(sub, int) or isinstance(sub, bool) or sub not in subscriptions:
                raise UsageError(f"unknown subscription '{sub}'", code="usage.unknown_subscription")
            fld = "metric"
            metric = raw.get("metric")
            if not isinstance(metric, str) or metric not in metrics:
                raise UsageError(f"unknown metric '{metric}'", code="usage.unknown_metric")
            fld = "quantity"
            quantity = _parse_quantity(raw.get("quantity"))
            fld = "timestamp"
            ts = _parse_timestamp(raw.get("timestamp"))
            if ts > latest:
                raise UsageError("timestamp is in the future", code="usage.future_timestamp")
            begins = subscriptions[sub]
            if begins is not None and ts.astimezone(zone).date() < begins:
                raise UsageError(
                    f"timestamp is before the subscription starts ({begins})",
                    code="usage.before_subscription",
                )
            fld = "properties"
            props = _parse_properties(raw.get("properties"))
        except UsageError as exc:
            errors.append(EventError(index, eid, exc.code, fld, exc.message))
            continue
        events.append(UsageEvent(eid, sub, metric, quantity, ts, props))
    return events, errors
