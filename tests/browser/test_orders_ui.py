"""Finance fulfils an order made from a contract through the pages: ships one appliance of two
(the other is back-ordered), delivers it, receives stock (which releases the back-order at once),
ships and delivers the rest, activates the subscription and usage and completes onboarding. The
order ends fulfilled and its timeline tells the story (test-artifacts/orders-detail.png).

The live server runs in its own thread with the system clock, so the contract starts today.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def contract_order(transactional_db: Any) -> Any:
    from q2c.core import clock
    from q2c.orders import services as orders
    from q2c.orders.models import Order
    from q2c.parties import services as parties
    from tests.orders.builders import northwind_contract
    from tests.orders.conftest import ACME, NORTHWIND

    entity = parties.create_entity(actor="test", **ACME)
    account = parties.create_account(actor="test", **NORTHWIND)
    _catalog()
    orders.receive_stock("EDGE", "1", reference="PO-1")
    today = clock.today("Europe/Berlin")
    contract = northwind_contract(entity, account, signed_on=today, start_date=today)
    return Order.objects.get(contract_id=contract.pk)


def _catalog() -> None:
    from q2c.catalog import services
    from q2c.catalog.models import UnitOfMeasure

    for code in ("seat", "each", "device", "call"):
        if not UnitOfMeasure.objects.filter(code=code).exists():
            services.create_unit({"code": code, "name": code.capitalize(), "divisible": False})
    for sku, name, kind, unit in (
        ("SEAT", "Platform seat", "subscription", "seat"),
        ("ONB", "Onboarding", "service", "each"),
        ("EDGE", "Edge appliance", "good", "device"),
        ("API", "API calls", "usage", "call"),
    ):
        services.create_product({"sku": sku, "name": name, "type": kind, "unit": unit})


def _edge_row(page: Any) -> str:
    return page.locator("tr", has=page.locator('[data-line-status="EDGE"]')).inner_text()


def test_finance_ships_in_part_receives_stock_and_activates_services(
    page, login_as, screenshot, contract_order
):
    login_as("finance", "fiona")
    page.get_by_role("link", name="Orders", exact=True).click()
    page.get_by_role("link", name=contract_order.number).click()
    page.wait_for_url(f"**/orders/{contract_order.pk}/")
    assert page.locator("#order-status").inner_text() == "open"
    # 1 reserved, 1 back-ordered (the row's numbers: ordered, reserved, back-ordered, …).
    assert re.search(r"2 device\s+open\s+1\s+1\s+0\s+0\s+0\s+0", _edge_row(page))

    # Ship the one in stock.
    page.get_by_label(re.compile(r"^Pick for line 3 \(EDGE\)")).fill("1")
    page.get_by_role("button", name="Pick", exact=True).click()
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_label("Tracking number").fill("00340434161094042557")
    page.get_by_role("button", name=re.compile(r"^Ship ")).click()
    page.get_by_role("button", name=re.compile(r"^Record delivery of ")).click()
    assert page.locator("#order-status").inner_text() == "in fulfilment"

    # The board shows the back-order; a receipt releases it.
    page.get_by_role("link", name="Fulfilment board").click()
    backordered = page.get_by_role("table", name="Back-ordered lines")
    assert contract_order.number in backordered.inner_text()
    page.get_by_role("link", name="Receive stock").click()
    page.get_by_label("Product (SKU)").fill("EDGE")
    page.get_by_label("Quantity received").fill("3")
    page.get_by_label("Reference (delivery note, PO)").fill("PO-2")
    page.get_by_role("button", name="Receive").click()
    page.wait_for_url("**/orders/stock/")
    stock_row = page.get_by_role("row", name=re.compile(r"^EDGE")).inner_text()
    assert re.search(r"EDGE\s+MAIN\s+3\s+1\s+2\s+0", stock_row), stock_row  # 3 on hand, 1 reserved, 2 free
    page.get_by_role("link", name="Fulfilment board").click()
    assert "Nothing back-ordered." in page.get_by_role("table", name="Back-ordered lines").inner_text()

    # Ship and deliver the released unit.
    page.goto(f"/orders/{contract_order.pk}/")
    page.get_by_label(re.compile(r"^Pick for line 3 \(EDGE\)")).fill("1")
    page.get_by_role("button", name="Pick", exact=True).click()
    page.get_by_label("Carrier").fill("DHL")
    page.get_by_role("button", name=re.compile(r"^Ship ")).click()
    page.get_by_role("button", name=re.compile(r"^Record delivery of ")).click()

    # Services: the subscription and usage start, onboarding is done.
    page.get_by_role("button", name="Activate line 1 (SEAT)").click()
    page.get_by_role("button", name="Activate line 4 (API)").click()
    page.get_by_role("button", name="Complete line 2 (ONB)").click()

    assert page.locator("#order-status").inner_text() == "fulfilled"
    timeline = page.get_by_role("list", name="Timeline").inner_text()
    assert timeline.count("delivered on") == 2
    assert "released from back-order" in timeline
    assert "Line 1 SEAT activated" in timeline and "Line 2 ONB completed" in timeline
    path = screenshot(page, "orders-detail")
    assert path.exists() and path.stat().st_size > 0


def test_a_rule_broken_in_the_page_is_explained_and_changes_nothing(page, login_as, contract_order):
    login_as("finance", "fiona")
    page.goto(f"/orders/{contract_order.pk}/")
    page.get_by_label(re.compile(r"^Pick for line 3 \(EDGE\)")).fill("2")
    page.get_by_role("button", name="Pick", exact=True).click()
    alert = page.get_by_role("alert")
    assert "only 1 of EDGE" in alert.inner_text() and "orders.insufficient_stock" in alert.inner_text()
    assert "No shipments yet." in page.content()
