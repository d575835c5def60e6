"""The snapshot cache across business days: a snapshot built for one day serves every day of its
validity window (no effective date of the book, its parents, the products or the promotions falls
inside it) and a new one is built on the day such a date starts or ends.

Dates follow the catalog's convention: ``valid_from``/``active_from`` is the first day,
``valid_to``/``active_to`` the first day no longer in force (exclusive)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from q2c.catalog import services
from q2c.catalog.models import PriceBook
from q2c.catalog.services import snapshot as snapshot_module

pytestmark = pytest.mark.django_db

JAN_31, FEB_1, MAR_1 = date(2027, 1, 31), date(2027, 2, 1), date(2027, 3, 1)


@pytest.fixture
def builds(monkeypatch: Any) -> list[date]:
    """The days ``get_snapshot`` built a snapshot for (each call of the builder)."""
    seen: list[date] = []
    real = snapshot_module._build

    def counting(book: PriceBook, as_of: date) -> Any:
        seen.append(as_of)
        return real(book, as_of)

    monkeypatch.setattr(snapshot_module, "_build", counting)
    return seen


def _product(sku: str, **dates: str) -> None:
    services.create_product({"sku": sku, "name": sku.title(), "type": "service", "unit": "each", **dates})
    services.create_charge({"sku": sku, "code": "FEE", "kind": "one_time"})


def _entry(book: str, sku: str, price: str, **dates: str) -> None:
    services.create_price_entry(
        {"price_book": book, "sku": sku, "charge": "FEE", "model": "per_unit", "price": price, **dates}
    )


def _price(snap: Any, sku: str) -> Decimal | None:
    charges = snap.products[sku].charges
    return charges[0].model.price if charges else None


def _book(code: str = "EUR-LIST", parent: str = "") -> PriceBook:
    services.create_price_book({"code": code, "name": code, "currency": "EUR", "parent": parent})
    return PriceBook.objects.get(code=code)


def test_a_catalog_without_dates_is_built_once_for_every_day(
    northwind_catalog: None, builds: list[date]
) -> None:
    book = PriceBook.objects.get(code="EUR-LIST")
    days = [date(2027, 1, 10), date(2027, 1, 11), date(2028, 6, 30), date(2020, 1, 1)]
    snaps = [services.get_snapshot(book, d) for d in days]
    assert builds == [date(2027, 1, 10)]
    # each is dated the day asked for, with the same content (SEAT at 30.00 in northwind.md)
    assert [s.as_of for s in snaps] == days
    assert all(_price(s, "SEAT") == Decimal("30.00") for s in snaps)
    assert all(s.products is snaps[0].products for s in snaps)


def test_a_catalog_write_still_rebuilds(northwind_catalog: None, builds: list[date]) -> None:
    book = PriceBook.objects.get(code="EUR-LIST")
    services.get_snapshot(book, JAN_31)
    _product("WIDGET")
    services.get_snapshot(book, JAN_31)
    assert builds == [JAN_31, JAN_31]


def test_a_price_entry_starting_splits_the_window(builds: list[date]) -> None:
    book = _book()
    _product("WIDGET")
    _entry("EUR-LIST", "WIDGET", "10.00", valid_from="2027-02-01")
    before = services.get_snapshot(book, JAN_31)
    assert _price(before, "WIDGET") is None  # not priced before Feb 1
    assert _price(services.get_snapshot(book, date(2026, 5, 5)), "WIDGET") is None
    assert builds == [JAN_31]  # window (-inf, Feb 1)
    assert _price(services.get_snapshot(book, FEB_1), "WIDGET") == Decimal("10.00")
    assert _price(services.get_snapshot(book, MAR_1), "WIDGET") == Decimal("10.00")
    assert builds == [JAN_31, FEB_1]  # window [Feb 1, +inf)


def test_a_price_entry_ending_splits_the_window(builds: list[date]) -> None:
    book = _book()
    _product("WIDGET")
    _entry("EUR-LIST", "WIDGET", "10.00", valid_to="2027-02-01")
    _entry("EUR-LIST", "WIDGET", "12.50", valid_from="2027-02-01")
    assert _price(services.get_snapshot(book, JAN_31), "WIDGET") == Decimal("10.00")
    assert _price(services.get_snapshot(book, FEB_1), "WIDGET") == Decimal("12.50")
    assert _price(services.get_snapshot(book, MAR_1), "WIDGET") == Decimal("12.50")
    assert _price(services.get_snapshot(book, date(2027, 1, 2)), "WIDGET") == Decimal("10.00")
    assert builds == [JAN_31, FEB_1]


def test_a_parent_books_entry_bounds_the_childs_window(builds: list[date]) -> None:
    _book("EUR-BASE")
    child = _book("EUR-PARTNER", parent="EUR-BASE")
    _product("WIDGET")
    _entry("EUR-BASE", "WIDGET", "10.00", valid_to="2027-02-01")
    assert _price(services.get_snapshot(child, JAN_31), "WIDGET") == Decimal("10.00")
    assert _price(services.get_snapshot(child, FEB_1), "WIDGET") is None  # inherited price ended
    assert builds == [JAN_31, FEB_1]


@pytest.mark.parametrize("field", ["active_from", "active_to"])
def test_a_product_starting_or_ending_splits_the_window(field: str, builds: list[date]) -> None:
    book = _book()
    _product("WIDGET", **{field: "2027-02-01"})
    _entry("EUR-LIST", "WIDGET", "10.00")
    assert services.get_snapshot(book, JAN_31).products["WIDGET"].active_on(JAN_31) is (field == "active_to")
    services.get_snapshot(book, date(2027, 1, 1))
    assert services.get_snapshot(book, FEB_1).products["WIDGET"].active_on(FEB_1) is (field == "active_from")
    services.get_snapshot(book, MAR_1)
    assert builds == [JAN_31, FEB_1]


@pytest.mark.parametrize("field", ["valid_from", "valid_to"])
def test_a_promotion_starting_or_ending_splits_the_window(field: str, builds: list[date]) -> None:
    book = _book()
    _product("WIDGET")
    services.create_promotion({"code": "SPRING", "name": "Spring", "percent": "10", field: "2027-02-01"})
    assert services.get_snapshot(book, JAN_31).promotions["SPRING"].valid_on(JAN_31) is (field == "valid_to")
    services.get_snapshot(book, date(2027, 1, 1))
    assert services.get_snapshot(book, FEB_1).promotions["SPRING"].valid_on(FEB_1) is (field == "valid_from")
    services.get_snapshot(book, MAR_1)
    assert builds == [JAN_31, FEB_1]


DAY0 = date(2027, 1, 1)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=20), min_size=4, max_size=4),
    query_days=st.lists(st.integers(min_value=0, max_value=24), min_size=1, max_size=12),
)
def test_the_cached_snapshot_equals_a_fresh_build_on_every_day(
    django_db_blocker: Any, cuts: list[int], query_days: list[int]
) -> None:
    """Entries in a parent and a child book, a product and a promotion with dates at random days
    of January 2027; whatever order the days are asked in, ``get_snapshot`` on day D equals
    ``build_snapshot`` on day D."""
    from django.db import transaction

    with django_db_blocker.unblock(), transaction.atomic():
        services.clear_cache()
        _book("EUR-BASE")
        child = _book("EUR-PARTNER", parent="EUR-BASE")
        _product("WIDGET")
        _product("GADGET", active_from=(DAY0 + timedelta(cuts[2])).isoformat())
        base_end = DAY0 + timedelta(cuts[0])
        _entry("EUR-BASE", "WIDGET", "10.00", valid_to=base_end.isoformat())
        _entry("EUR-BASE", "WIDGET", "11.00", valid_from=base_end.isoformat())
        _entry("EUR-PARTNER", "WIDGET", "9.00", valid_from=(DAY0 + timedelta(cuts[1])).isoformat())
        _entry("EUR-BASE", "GADGET", "5.00")
        services.create_promotion(
            {
                "code": "SPRING",
                "name": "Spring",
                "percent": "10",
                "valid_to": (DAY0 + timedelta(cuts[3])).isoformat(),
            }
        )
        for n in query_days:
            day = DAY0 + timedelta(n)
            assert services.get_snapshot(child, day) == snapshot_module.build_snapshot(child, day)
        transaction.set_rollback(True)
    services.clear_cache()
