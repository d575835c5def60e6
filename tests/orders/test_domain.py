"""The pure rules of orders, without a database: every state table walked move by move, exact
quantities, first-come-first-served sharing of scarce stock, and what a line's quantities and an
order's lines say their status is. Expected values are worked out by hand in each test."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.core.errors import InvalidTransition, ValidationError
from q2c.core.statemachine import all_moves, terminal_states
from q2c.orders import domain
from q2c.orders.domain import (
    LINE_TRANSITIONS,
    ORDER_TRANSITIONS,
    SHIPMENT_TRANSITIONS,
    TASK_TRANSITIONS,
    GoodsProgress,
    LineKind,
    LineStatus,
    NewOrder,
    NewOrderLine,
    OrderStatus,
    OrderType,
    ShipmentStatus,
    TaskKind,
    TaskStatus,
)

D = Decimal

# --------------------------------------------------------------------------- the state tables


@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(OrderStatus, ORDER_TRANSITIONS)))
def test_every_order_move_is_allowed_exactly_when_the_table_lists_it(current, target, allowed):
    if allowed:
        assert domain.move_order(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as caught:
            domain.move_order(current, target)
        assert caught.value.code == "order.invalid_transition"
        assert caught.value.status == 409


@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(LineStatus, LINE_TRANSITIONS)))
def test_every_line_move_is_allowed_exactly_when_the_table_lists_it(current, target, allowed):
    if allowed:
        assert domain.move_line(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as caught:
            domain.move_line(current, target)
        assert caught.value.code == "order_line.invalid_transition"


@pytest.mark.parametrize(
    ("current", "target", "allowed"), list(all_moves(ShipmentStatus, SHIPMENT_TRANSITIONS))
)
def test_every_shipment_move_is_allowed_exactly_when_the_table_lists_it(current, target, allowed):
    if allowed:
        assert domain.move_shipment(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as caught:
            domain.move_shipment(current, target)
        assert caught.value.code == "shipment.invalid_transition"


@pytest.mark.parametrize(("current", "target", "allowed"), list(all_moves(TaskStatus, TASK_TRANSITIONS)))
def test_every_provisioning_move_is_allowed_exactly_when_the_table_lists_it(current, target, allowed):
    if allowed:
        assert domain.move_task(current, target) is target
    else:
        with pytest.raises(InvalidTransition) as caught:
            domain.move_task(current, target)
        assert caught.value.code == "provisioning_task.invalid_transition"


def test_the_order_table_is_the_one_the_issue_describes():
    # open → in_fulfilment → fulfilled / partially_fulfilled → closed, or cancelled (issue 9).
    assert ORDER_TRANSITIONS[OrderStatus.OPEN] == {OrderStatus.IN_FULFILMENT, OrderStatus.CANCELLED}
    assert ORDER_TRANSITIONS[OrderStatus.IN_FULFILMENT] == {
        OrderStatus.FULFILLED,
        OrderStatus.PARTIALLY_FULFILLED,
    }
    assert ORDER_TRANSITIONS[OrderStatus.FULFILLED] == {OrderStatus.CLOSED}
    assert ORDER_TRANSITIONS[OrderStatus.PARTIALLY_FULFILLED] == {OrderStatus.CLOSED}
    assert terminal_states(OrderStatus, ORDER_TRANSITIONS) == {OrderStatus.CLOSED, OrderStatus.CANCELLED}


def test_repeating_a_move_is_refused_like_any_other_move_the_table_lacks():
    # Activating twice, shipping twice, delivering twice: each is X → X.
    for move, state in (
        (domain.move_task, TaskStatus.ACTIVE),
        (domain.move_shipment, ShipmentStatus.SHIPPED),
        (domain.move_shipment, ShipmentStatus.DELIVERED),
        (domain.move_order, OrderStatus.CLOSED),
    ):
        with pytest.raises(InvalidTransition):
            move(state, state)  # type: ignore[operator]


def test_delivering_a_shipment_that_was_only_picked_is_not_a_move_of_the_table():
    with pytest.raises(InvalidTransition):
        domain.move_shipment(ShipmentStatus.PICKED, ShipmentStatus.DELIVERED)


# --------------------------------------------------------------------------- quantities


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("2", D("2")), (3, D("3")), ("2.500", D("2.5")), ("0.000001", D("0.000001")), (D("1E+1"), D("10"))],
)
def test_quantities_are_exact_and_kept_in_a_plain_normal_form(raw, expected):
    result = domain.quantity(raw)
    assert result == expected
    assert "E" not in str(result)


@pytest.mark.parametrize(
    ("raw", "kwargs", "code"),
    [
        ("0.0000001", {}, "orders.too_many_decimals"),
        ("1.5", {"divisible": False}, "orders.indivisible"),
        ("-1", {}, "orders.invalid_quantity"),
        ("0", {}, "orders.invalid_quantity"),
        ("two", {}, "orders.invalid_quantity"),
        ("NaN", {}, "orders.invalid_quantity"),
        ("1e15", {}, "orders.invalid_quantity"),
    ],
)
def test_a_bad_quantity_is_refused_with_a_code_and_its_field(raw, kwargs, code):
    with pytest.raises(ValidationError) as caught:
        domain.quantity(raw, field="lines[0].quantity", **kwargs)
    assert caught.value.code == code
    assert caught.value.field == "lines[0].quantity"


def test_a_float_quantity_is_refused_because_it_is_not_exact():
    with pytest.raises(ValidationError) as caught:
        domain.quantity(0.1)
    assert caught.value.code == "orders.invalid_quantity"


def test_reductions_may_be_negative_and_usage_may_be_zero_when_asked():
    assert domain.quantity("-10", positive=False) == D("-10")
    assert domain.quantity("0", allow_zero=True) == D("0")


@given(st.decimals(min_value=D("-999999999"), max_value=D("999999999"), places=6, allow_nan=False))
def test_millionths_round_trip_exactly(value):
    assert domain.from_units(domain.to_units(value)) == value


# --------------------------------------------------------------------------- sharing scarce stock


def test_scarce_stock_goes_to_the_oldest_waiting_line_first_and_the_next_gets_the_rest():
    # 5 units arrive; lines wait for 3, 4 and 2 (oldest first): 3 + 2 of 4, nothing for the third.
    assert domain.fill(D("5"), [("a", D("3")), ("b", D("4")), ("c", D("2"))]) == [
        ("a", D("3")),
        ("b", D("2")),
    ]


def test_nothing_available_fills_nothing():
    assert domain.fill(D("0"), [("a", D("1"))]) == []


@given(
    st.decimals(min_value=D("0"), max_value=D("1000"), places=0),
    st.lists(st.decimals(min_value=D("1"), max_value=D("100"), places=0), max_size=20),
)
def test_filling_never_gives_more_than_available_nor_more_than_a_line_waits_for(available, wants):
    queue = list(enumerate(wants))
    granted = domain.fill(available, queue)
    assert sum((q for _, q in granted), D(0)) == min(available, sum(wants, D(0)))
    for key, q in granted:
        assert 0 < q <= wants[key]
    # First come, first served: only the last line served may be served in part.
    keys = [k for k, _ in granted]
    assert keys == list(range(len(keys)))
    assert all(q == wants[k] for k, q in granted[:-1])


# --------------------------------------------------------------------------- statuses


@pytest.mark.parametrize(
    ("progress", "expected"),
    [
        (GoodsProgress(D(2), backordered=D(1), reserved=D(1)), LineStatus.OPEN),
        (GoodsProgress(D(2), picked=D(2)), LineStatus.OPEN),
        (GoodsProgress(D(2), backordered=D(1), shipped=D(1)), LineStatus.IN_FULFILMENT),
        (GoodsProgress(D(2), shipped=D(2), delivered=D(1)), LineStatus.IN_FULFILMENT),
        (GoodsProgress(D(2), shipped=D(2), delivered=D(2)), LineStatus.FULFILLED),
        (GoodsProgress(D(3), shipped=D(2), delivered=D(2), cancelled=D(1)), LineStatus.PARTIALLY_FULFILLED),
        (GoodsProgress(D(2), cancelled=D(2)), LineStatus.CANCELLED),
        (GoodsProgress(D(-1)), LineStatus.FULFILLED),
    ],
)
def test_a_goods_line_status_follows_from_its_quantities(progress, expected):
    assert progress.consistent() or progress.quantity < 0
    assert domain.goods_status(progress) is expected


@pytest.mark.parametrize(
    ("kind", "task_kind", "task", "expected"),
    [
        (LineKind.SUBSCRIPTION, TaskKind.ACTIVATE, TaskStatus.PENDING, LineStatus.OPEN),
        (LineKind.SUBSCRIPTION, TaskKind.ACTIVATE, TaskStatus.ACTIVE, LineStatus.FULFILLED),
        (LineKind.USAGE, TaskKind.ACTIVATE, TaskStatus.ACTIVE, LineStatus.FULFILLED),
        (LineKind.SERVICE, TaskKind.ACTIVATE, TaskStatus.ACTIVE, LineStatus.IN_FULFILMENT),
        (LineKind.SERVICE, TaskKind.ACTIVATE, TaskStatus.COMPLETED, LineStatus.FULFILLED),
        (LineKind.SUBSCRIPTION, TaskKind.DEACTIVATE, TaskStatus.COMPLETED, LineStatus.FULFILLED),
        (LineKind.SERVICE, TaskKind.ACTIVATE, TaskStatus.CANCELLED, LineStatus.CANCELLED),
    ],
)
def test_a_provisioned_line_status_follows_from_its_task(kind, task_kind, task, expected):
    assert domain.provisioned_status(kind, task_kind, task) is expected


@pytest.mark.parametrize(
    ("current", "lines", "expected"),
    [
        (OrderStatus.OPEN, [LineStatus.OPEN, LineStatus.OPEN], OrderStatus.OPEN),
        (OrderStatus.OPEN, [LineStatus.FULFILLED, LineStatus.OPEN], OrderStatus.IN_FULFILMENT),
        (OrderStatus.IN_FULFILMENT, [LineStatus.FULFILLED, LineStatus.FULFILLED], OrderStatus.FULFILLED),
        (
            OrderStatus.IN_FULFILMENT,
            [LineStatus.FULFILLED, LineStatus.CANCELLED],
            OrderStatus.PARTIALLY_FULFILLED,
        ),
        (OrderStatus.IN_FULFILMENT, [LineStatus.PARTIALLY_FULFILLED], OrderStatus.PARTIALLY_FULFILLED),
        (OrderStatus.OPEN, [LineStatus.CANCELLED, LineStatus.CANCELLED], OrderStatus.CANCELLED),
        (OrderStatus.OPEN, [LineStatus.CANCELLED, LineStatus.OPEN], OrderStatus.OPEN),
        (OrderStatus.CLOSED, [LineStatus.FULFILLED], OrderStatus.CLOSED),
        (OrderStatus.OPEN, [], OrderStatus.FULFILLED),
    ],
)
def test_an_order_status_follows_from_its_lines(current, lines, expected):
    assert domain.order_target(current, lines) is expected


def test_an_open_order_finished_in_one_step_passes_through_in_fulfilment():
    assert domain.order_path(OrderStatus.OPEN, OrderStatus.FULFILLED) == [
        OrderStatus.IN_FULFILMENT,
        OrderStatus.FULFILLED,
    ]
    assert domain.order_path(OrderStatus.OPEN, OrderStatus.OPEN) == []


def test_a_line_kind_comes_from_the_catalog_type_else_from_its_charge():
    assert domain.kind_for("good", "one_time") is LineKind.GOOD
    assert domain.kind_for(None, "recurring") is LineKind.SUBSCRIPTION
    assert domain.kind_for(None, "usage") is LineKind.USAGE
    assert domain.kind_for(None, "one_time") is LineKind.SERVICE
    assert domain.kind_for("bundle", "recurring") is LineKind.SUBSCRIPTION


# --------------------------------------------------------------------------- the order input


def test_an_order_input_is_checked_field_by_field():
    order = NewOrder(
        entity_id=1,
        account_id=1,
        type=OrderType.NEW,
        lines=[
            NewOrderLine(sku="EDGE", kind=LineKind.GOOD, quantity=D("-2")),
            NewOrderLine(sku="", kind="gadget", quantity=D("1")),  # type: ignore[arg-type]
            NewOrderLine(sku="SEAT", kind=LineKind.SUBSCRIPTION, quantity=D("1.5"), divisible=False),
        ],
    )
    problems = {(p["field"], p["code"]) for p in domain.check_new_order(order)}
    assert problems == {
        ("lines[0].quantity", "orders.invalid_quantity"),  # reductions only in amendments and cancellations
        ("lines[1].sku", "orders.invalid_sku"),
        ("lines[1].kind", "orders.invalid_kind"),
        ("lines[2].quantity", "orders.indivisible"),
    }


def test_an_order_without_lines_is_refused_unless_allowed():
    order = NewOrder(entity_id=1, account_id=1, type=OrderType.AMENDMENT, lines=[])
    assert [p["code"] for p in domain.check_new_order(order)] == ["orders.no_lines"]
    assert domain.check_new_order(order, allow_empty=True) == []
