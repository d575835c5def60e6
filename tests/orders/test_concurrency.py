"""Concurrent reservations of the last units: exactly as many win as there are units, the rest
wait as back-orders, and stock is never promised twice.

The thread test needs PostgreSQL (real row locks and concurrent transactions; SQLite runs one
writer at a time). The conditional update that backs the lock up is tested on any database by
replaying what a writer without the lock would do.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from q2c.orders import services
from q2c.orders.domain import MoveKind
from q2c.orders.models import OrderLine, StockLevel, StockMove
from q2c.orders.services import common

from .builders import line

D = Decimal


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_eight_orders_racing_for_three_units_reserve_three_and_back_order_five(new_order):
    from q2c.core import clock

    services.receive_stock("EDGE", "3")
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def buyer() -> None:
        try:
            with clock.use(clock.SimulationClock(date(2027, 2, 1))):
                start.wait()
                services.create_order(new_order(line("EDGE", "good", "1")))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=buyer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert not errors
    rows = list(OrderLine.objects.values_list("reserved", "backordered"))
    assert sorted(rows) == [(D(0), D(1))] * 5 + [(D(1), D(0))] * 3
    assert StockLevel.objects.values_list("on_hand", "reserved").get() == (D(3), D(3))
    assert StockMove.objects.filter(kind=MoveKind.RESERVATION).count() == 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_orders_racing_for_the_last_unit_one_wins(new_order):
    from q2c.core import clock

    services.receive_stock("EDGE", "1")
    for _ in range(5):  # several rounds: the race must be decided the same way every time
        start = threading.Barrier(2)
        errors: list[BaseException] = []

        def buyer() -> None:
            try:
                with clock.use(clock.SimulationClock(date(2027, 2, 1))):
                    start.wait()
                    services.create_order(new_order(line("EDGE", "good", "1")))
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)
            finally:
                connection.close()

        before = set(OrderLine.objects.values_list("id", flat=True))
        threads = [threading.Thread(target=buyer) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not errors
        new = OrderLine.objects.exclude(id__in=before)
        assert sorted(new.values_list("reserved", flat=True)) == [D(0), D(1)]
        services.receive_stock("EDGE", "1")  # the loser's unit; the next round races for a new one
        services.receive_stock("EDGE", "1")
    assert StockLevel.objects.get().reserved == StockLevel.objects.get().on_hand - 1


@pytest.mark.django_db
def test_the_conditional_update_refuses_a_reservation_a_stale_reader_would_make(new_order):
    """Two writers read the level before either reserves (what a missing lock would allow): the
    second reservation finds the unit gone and reserves nothing."""
    from q2c.core import clock

    clock.install(clock.SimulationClock(date(2027, 2, 1)))
    services.receive_stock("EDGE", "1")
    first = services.create_order(new_order(line("SEAT", "subscription", "1")))
    stale_a = StockLevel.objects.get()
    stale_b = StockLevel.objects.get()
    line_row = OrderLine.objects.get(order=first)

    took_a, move_a = common.reserve(stale_a, D(1), line=line_row, on=date(2027, 2, 1), actor="a")
    took_b, move_b = common.reserve(stale_b, D(1), line=line_row, on=date(2027, 2, 1), actor="b")

    assert (took_a, took_b) == (D(1), D(0))
    assert move_a is not None and move_b is None
    assert StockLevel.objects.values_list("on_hand", "reserved").get() == (D(1), D(1))


@pytest.mark.django_db
def test_the_database_itself_refuses_promising_more_than_is_on_hand(products):
    """The check constraint is the last line of defence behind the services."""
    from django.db import IntegrityError, transaction
    from django.db.models import F

    from q2c.core import clock

    clock.install(clock.SimulationClock(date(2027, 2, 1)))
    services.receive_stock("EDGE", "1")
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLevel.objects.update(reserved=F("on_hand") + 1000)
