"""The event log and bus: gapless sequence, synchronous handlers in the caller's transaction."""

import dataclasses
import enum
import json
import types
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.checks import run_checks
from django.db import transaction

from q2c.core import clock
from q2c.core.money import Money
from q2c.platform import events
from q2c.platform.events import DomainEvent, bus
from q2c.platform.models import Event


@pytest.fixture
def isolated_bus(monkeypatch):
    fresh = events.EventBus()
    monkeypatch.setattr(events, "bus", fresh)
    return fresh


@pytest.mark.django_db
def test_events_get_consecutive_sequence_numbers_and_the_business_time(isolated_bus):
    with clock.use(clock.SimulationClock(date(2027, 1, 10), default_tz="Europe/Berlin")):
        first = events.record(DomainEvent("QuoteSent", "quote", 1, {"total": Money("9000.00", "EUR")}))
        second = events.record(DomainEvent("QuoteAccepted", "quote", 1))
    assert (first.seq, second.seq) == (1, 2)
    row = Event.objects.get(seq=1)
    assert row.payload == {"total": {"amount": "9000.00", "currency": "EUR"}}
    # 09:00 in Berlin on 2027-01-10 is 08:00 UTC.
    assert row.occurred_at.isoformat() == "2027-01-10T08:00:00+00:00"


@pytest.mark.django_db
def test_handlers_run_in_the_callers_transaction_and_a_failure_aborts_it(isolated_bus):
    seen: list[str] = []
    isolated_bus.subscribe("Paid", lambda ev: seen.append(ev.payload["ref"]))

    def boom(ev):
        raise RuntimeError("ledger refused")

    events.record(DomainEvent("Paid", "invoice", 1, {"ref": "a"}))
    assert seen == ["a"]
    isolated_bus.subscribe("Paid", boom)
    with pytest.raises(RuntimeError), transaction.atomic():
        events.record(DomainEvent("Paid", "invoice", 2, {"ref": "b"}))
    assert Event.objects.filter(aggregate_id="2").count() == 0
    # The rolled-back event gave its number back: the next one is #2.
    isolated_bus._handlers["Paid"].remove(boom)
    assert events.record(DomainEvent("Paid", "invoice", 3, {"ref": "c"})).seq == 2


def test_payload_values_become_json():
    assert events.jsonable({"a": Decimal("1.50"), "d": date(2027, 2, 1), "l": (Money(1, "EUR"),)}) == {
        "a": "1.50",
        "d": "2027-02-01",
        "l": [{"amount": "1", "currency": "EUR"}],
    }


def test_a_money_moving_event_without_handler_fails_the_system_check(monkeypatch):
    fresh = events.EventBus()
    fresh.declare("InvoiceIssued", moves_money=True)
    fresh.declare("QuoteViewed")
    monkeypatch.setattr(events, "bus", fresh)
    errors = [m for m in run_checks() if m.id == "q2c.E001"]
    assert [e.msg for e in errors] == [
        "event type 'InvoiceIssued' moves money but no handler is registered for it"
    ]
    fresh.subscribe("InvoiceIssued", lambda ev: None)
    assert not [m for m in run_checks() if m.id == "q2c.E001"]


def test_the_real_bus_has_every_money_event_handled():
    assert bus.money_types_without_handler() == []


class Colour(enum.StrEnum):
    RED = "red"


def test_payload_text_is_the_json_of_the_payload_and_refuses_what_would_not_round_trip():
    assert (
        events.payload_text({"a": 1, "b": ["x", None, True], "é": "ü"})
        == '{"a":1,"b":["x",null,true],"é":"ü"}'
    )
    # A str-based enum is written as its value, as the standard encoder writes it; integers beyond
    # 64 bits, which orjson refuses, go through the standard encoder.
    assert json.loads(events.payload_text({"c": Colour.RED})) == {"c": "red"}
    assert events.payload_text({"n": 2**70}) == '{"n": 1180591620717411303424}'
    with pytest.raises(TypeError):
        events.payload_text({"o": object()})
    with pytest.raises(TypeError):
        events.payload_text({"d": date(2027, 1, 1)})  # jsonable turns dates into text first


@pytest.mark.django_db
def test_recorded_payloads_read_back_as_they_were_given(isolated_bus):
    payload = {"count": 2, "items": [{"id": 1, "name": "<b>Café</b>", "amount": Decimal("12.30")}, {"id": 2}],
               "day": date(2027, 3, 1), "colour": Colour.RED, "big": 2**70}  # fmt: skip
    with clock.use(clock.SimulationClock(date(2027, 3, 1), default_tz="Europe/Berlin")):
        events.record_many([DomainEvent("Batch", "invoice", 7, payload, entity_id=3, actor="clerk")])
    row = Event.objects.get(type="Batch")
    assert row.payload == {
        "count": 2,
        "items": [{"id": 1, "name": "<b>Café</b>", "amount": "12.30"}, {"id": 2}],
        "day": "2027-03-01",
        "colour": "red",
        "big": 2**70,
    }
    assert (row.aggregate_type, row.aggregate_id, row.entity_id, row.actor) == ("invoice", "7", 3, "clerk")
    assert row.occurred_at == row.recorded_at
    assert row.occurred_at.isoformat() == "2027-03-01T08:00:00+00:00"


@pytest.mark.parametrize(
    "payload",
    [
        {"m": Money("12.30", "EUR"), "d": Decimal("1.50"), "day": date(2027, 2, 1)},
        {"at": datetime(2027, 1, 10, 8, 0, 0, 123456, tzinfo=UTC)},
        {"naive": datetime(2027, 1, 10, 8, 0)},
        {"t": (1, "a", None), "s": frozenset({3}), "nested": {"x": [{"y": Money("1", "JPY")}]}},
        {"mapping": types.MappingProxyType({1: "one"})},
        {"int_keys": {1: "one"}},
        {"colour": Colour.RED, "big": 2**64, "neg": -(2**63)},
        {"f": 0.1, "b": False, "u": "Café <b>"},
    ],
)
def test_the_one_pass_payload_json_equals_the_two_step_one(payload):
    """payload_json is payload_text(jsonable(…)) — the same JSON value, whatever the route."""
    assert json.loads(events.payload_json(payload)) == json.loads(
        events.payload_text(events.jsonable(payload))
    )


def test_the_one_pass_payload_json_refuses_what_the_two_step_one_refuses():
    @dataclasses.dataclass
    class Thing:
        x: int

    for bad in ({"o": object()}, {"t": Thing(1)}):
        with pytest.raises(TypeError):
            events.payload_json(bad)
