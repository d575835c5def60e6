"""The event log and the in-process bus.

``record(event)`` appends a domain event with a gapless sequence number inside the caller's
transaction, then calls every handler registered for its type, synchronously, in that same
transaction: a failing handler aborts the whole use case. Handlers are registered from
``q2c/wiring.py`` (the composition root), so a lower app can announce an event that a higher app
reacts to without importing it. Event types that move money are declared with
``moves_money=True``; a system check fails when such a type has no handler.

Side effects outside the database (email, webhooks, PDFs) are not handlers: they are tasks
enqueued with :func:`after_commit`.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from django.db import connection, transaction

from q2c.core import clock
from q2c.core.money import Money
from q2c.platform import numbering
from q2c.platform.models import Event

EVENT_SEQUENCE = "event"
Handler = Callable[["DomainEvent"], object]  # a return value is ignored


@dataclass(frozen=True)
class DomainEvent:
    type: str
    aggregate_type: str
    aggregate_id: str | int
    payload: Mapping[str, Any] = field(default_factory=dict)
    entity_id: int | None = None
    actor: str = ""
    occurred_at: datetime | None = None
    seq: int | None = None


class EventBus:
    def __init__(self) -> None:
        self._handlers: dict[str, list[Handler]] = defaultdict(list)
        self._declared: dict[str, bool] = {}

    def declare(self, event_type: str, *, moves_money: bool = False) -> None:
        self._declared[event_type] = moves_money

    def subscribe(self, event_type: str, handler: Handler) -> None:
        if handler not in self._handlers[event_type]:
            self._handlers[event_type].append(handler)

    def handlers(self, event_type: str) -> list[Handler]:
        return list(self._handlers.get(event_type, ()))

    def money_types_without_handler(self) -> list[str]:
        return sorted(t for t, money in self._declared.items() if money and not self._handlers.get(t))

    def clear(self) -> None:
        self._handlers.clear()


bus = EventBus()


_PLAIN = frozenset({str, int, bool, float, type(None)})


def jsonable(value: Any) -> Any:
    """Payload values as JSON: Money → {"amount": "12.30", "currency": "EUR"}, Decimal → str."""
    kind = type(value)
    if kind in _PLAIN:  # the bulk of a batch event's payload: exact types first, no ABC checks
        return value
    if kind is dict:
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list:
        return [jsonable(v) for v in value]
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return value


def record(event: DomainEvent) -> DomainEvent:
    """Append one event and run its handlers, inside the caller's transaction."""
    return record_many([event])[0]


def payload_text(payload: Mapping[str, Any]) -> str:
    """A payload already made :func:`jsonable` as JSON text, written once (orjson; the standard
    encoder for what orjson does not take, such as str-based enums or integers beyond 64 bits).
    Anything neither would write back as the same JSON is refused (TypeError/ValueError)."""
    try:
        return orjson.dumps(payload, option=_STRICT).decode()
    except TypeError:
        return json.dumps(payload)


# orjson would write dataclasses, datetimes and subclasses of str/int/dict on its own; the
# standard encoder refuses or writes them otherwise, so they go the standard way.
_STRICT = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS


def _as_json(value: Any) -> Any:
    """What :func:`jsonable` makes of the values orjson does not write itself."""
    if isinstance(value, Money):
        return {"amount": str(value.amount), "currency": value.currency}
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def payload_json(payload: Mapping[str, Any]) -> str:
    """``payload_text(jsonable(payload))`` in one pass: orjson writes dates, datetimes (ISO, as
    ``isoformat``), tuples and plain values itself and asks :func:`_as_json` for Money, Decimal,
    mappings and sets. Anything else (dataclasses, str or int subclasses, integers beyond 64 bits,
    keys other than text) takes the two-step way, with its refusals."""
    try:
        return orjson.dumps(payload, default=_as_json, option=_NATIVE).decode()
    except TypeError:
        return payload_text(jsonable(dict(payload)))


_NATIVE = orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS


def record_many(events: Iterable[DomainEvent]) -> list[DomainEvent]:
    """Append events in one batch (one counter step, one INSERT), then run their handlers."""
    items = list(events)
    if not items:
        return []
    with transaction.atomic():
        seqs = numbering.take_block(0, EVENT_SEQUENCE, len(items))
        now = clock.now()
        stamp = connection.ops.adapt_datetimefield_value(now)
        rows = []
        stamped = []
        for seq, ev in zip(seqs, items, strict=True):
            occurred = ev.occurred_at or now
            # Serialised once, here (a bank run's batch event carries ~100,000 items); the JSON
            # column takes the text as it is.
            payload = payload_json(ev.payload)
            rows.append(
                (seq, ev.type, ev.aggregate_type, str(ev.aggregate_id), ev.entity_id, ev.actor,
                 stamp if occurred is now else connection.ops.adapt_datetimefield_value(occurred), stamp, payload)
            )  # fmt: skip
            stamped.append(
                DomainEvent(
                    type=ev.type,
                    aggregate_type=ev.aggregate_type,
                    aggregate_id=ev.aggregate_id,
                    payload=ev.payload,
                    entity_id=ev.entity_id,
                    actor=ev.actor,
                    occurred_at=occurred,
                    seq=seq,
                )
            )
        with connection.cursor() as cursor:
            cursor.executemany(_INSERT_SQL[connection.vendor == "postgresql"], rows)
        for ev in stamped:
            for handler in bus.handlers(ev.type):
                handler(ev)
    return stamped


# Fixed identifiers (the Event model's table and columns); the values are parameters.
_INSERT_SQL = {
    pg: f"INSERT INTO \"{Event._meta.db_table}\" (seq, type, aggregate_type, aggregate_id, entity_id, actor, "  # noqa: S608
    f"occurred_at, recorded_at, payload) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {'%s::jsonb' if pg else '%s'})"
    for pg in (False, True)
}


def after_commit(func: Callable[[], Any]) -> None:
    """Run ``func`` once the current transaction commits (never if it rolls back)."""
    transaction.on_commit(func)


def enqueue_after_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Enqueue a django-tasks task once the current transaction commits."""
    transaction.on_commit(lambda: task.enqueue(*args, **kwargs))
