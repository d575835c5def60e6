"""Use cases of orders themselves: create one (reserving stock, back-ordering the rest, opening
provisioning tasks), cancel an order or a line, close a finished order.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.orders import domain, events, locks
from q2c.orders.domain import (
    LineKind,
    LineStatus,
    NewOrder,
    OrderStatus,
    TaskKind,
    TaskStatus,
)
from q2c.orders.errors import LineNotFound, LinePicked, NothingToCancel, ProductNotFound
from q2c.orders.models import Order, OrderLine, ProvisioningTask, StockMove
from q2c.orders.services import common
from q2c.platform import numbering
from q2c.platform.events import DomainEvent

ORDER_SEQUENCE = "order"


def _entity_and_account(entity_id: int, account_id: int) -> tuple[Any, Any]:
    from q2c.parties.models import Account, LegalEntity

    problems = []
    entity = LegalEntity.objects.filter(pk=entity_id).first()
    if entity is None:
        problems.append(
            {"field": "entity_id", "code": "orders.unknown_entity", "message": f"no legal entity {entity_id}"}
        )
    account = Account.objects.filter(pk=account_id).first()
    if account is None:
        problems.append(
            {"field": "account_id", "code": "orders.unknown_account", "message": f"no account {account_id}"}
        )
    if problems:
        raise ValidationError(
            problems[0]["message"], code=problems[0]["code"], field=problems[0]["field"], details=problems
        )
    return entity, account


def _complete_lines(new: NewOrder) -> NewOrder:
    """Fill each goods line's product id from the catalog (by SKU) and its unit's divisibility."""
    ids = [ln.product_id for ln in new.lines if ln.product_id is not None]
    known = common.product_info(ids)
    lines = []
    problems = []
    for i, ln in enumerate(new.lines):
        info = known.get(ln.product_id) if ln.product_id is not None else common.product_by_sku(ln.sku)
        if info is None:
            if ln.kind == LineKind.GOOD:
                # Stock is kept per catalog product: a good must be one.
                problems.append(
                    {
                        "field": f"lines[{i}].sku",
                        "code": ProductNotFound.default_code,
                        "message": f"no catalog product '{ln.sku}'",
                    }
                )
            lines.append(ln)
            continue
        lines.append(
            replace(
                ln,
                product_id=info.get("id", ln.product_id),
                name=ln.name or info["name"],
                unit=ln.unit or info["unit"],
                # A line the caller already marked divisible (a contract line sold in fractions)
                # stays so; otherwise the catalog's unit decides.
                divisible=info["divisible"] or ln.divisible,
            )
        )
    if problems:
        raise ProductNotFound(problems[0]["message"], field=problems[0]["field"], details=problems)
    return replace(new, lines=lines)


def create_order(new: NewOrder, *, actor: Any = None, allow_empty: bool = False) -> Order:
    """Create an order: number it, reserve stock for its goods (back-ordering what is short),
    open a provisioning task for each service, subscription and usage line, record OrderCreated.

    ``new.source_key`` makes it idempotent: an order with that key is returned as it is.

    Errors: ``ValidationError`` (422) listing every bad field in ``details``; ``ProductNotFound``
    (404) for a good the catalog does not know; ``LocationNotFound`` (404).
    """
    if new.source_key:
        existing = Order.objects.filter(source_key=new.source_key).first()
        if existing is not None:
            return existing
    with transaction.atomic():
        entity, account = _entity_and_account(new.entity_id, new.account_id)
        new = _complete_lines(new)  # the catalog says which units are divisible
        problems = domain.check_new_order(new, allow_empty=allow_empty)
        if problems:
            first = problems[0]
            raise ValidationError(
                first["message"], code=first["code"], field=first["field"], details=problems
            )
        location = common.location_by_code(new.location_code)
        goods = [ln for ln in new.lines if ln.kind == LineKind.GOOD and Decimal(str(ln.quantity)) > 0]
        # Lock order: stock levels first (docs in locks.py).
        levels = locks.levels(
            location, [(int(ln.product_id), ln.sku) for ln in goods if ln.product_id is not None]
        )
        today = clock.today(entity.time_zone or None)
        number = numbering.take(entity.pk, ORDER_SEQUENCE, year=today.year)
        now = clock.now()
        order = Order.objects.create(
            entity=entity,
            account=account,
            number=numbering.NumberFormat(entity.order_prefix or "ORD").format(number, today.year),
            type=new.type,
            status=OrderStatus.OPEN,
            contract_id=new.contract_id,
            contract_number=new.contract_number,
            contract_version=new.contract_version,
            source_key=new.source_key or None,
            location=location,
            ordered_on=today,
            note=common.text(new.note, field="note", max_length=2000),
            created_at=now,
            created_by=common.actor_name(actor),
            updated_at=now,
        )
        rows = []
        for position, ln in enumerate(new.lines, start=1):
            q = domain.quantity(ln.quantity, positive=False, allow_zero=True)
            rows.append(
                OrderLine(
                    order=order,
                    position=position,
                    kind=ln.kind,
                    product_id=ln.product_id,
                    sku=ln.sku.strip(),
                    name=ln.name[:200],
                    unit=ln.unit[:20],
                    divisible=ln.divisible,
                    quantity=q,
                    contract_line_key=ln.contract_line_key[:40],
                    contract_line_id=ln.contract_line_id,
                    planned_date=ln.planned_date,
                    service_end=ln.service_end,
                    location=location if ln.kind == LineKind.GOOD else None,
                    status=LineStatus.OPEN,
                    backordered=q if ln.kind == LineKind.GOOD and q > 0 else domain.ZERO,
                )
            )
        OrderLine.objects.bulk_create(rows)
        rows = list(OrderLine.objects.filter(order=order).order_by("position"))
        later: list[DomainEvent] = []
        moves: list[StockMove] = []
        tasks: list[ProvisioningTask] = []
        for line, ln in zip(rows, new.lines, strict=True):
            if line.kind == LineKind.GOOD:
                if line.quantity > 0 and line.product_id is not None:
                    level = levels[int(line.product_id)]
                    took, moved = common.reserve(level, line.quantity, line=line, on=today, actor=actor)
                    line.reserved, line.backordered = took, line.quantity - took
                    if moved is not None:
                        moves.append(moved)
                        later.append(
                            common.line_event(
                                events.LINE_RESERVED,
                                order,
                                line,
                                actor,
                                quantity=took,
                                reserved=took,
                                backordered=line.backordered,
                                released_from_backorder=False,
                                location_id=location.pk,
                            )
                        )
                    if line.backordered > 0:
                        line.backordered_since = today
                        later.append(
                            common.line_event(
                                events.LINE_BACKORDERED,
                                order,
                                line,
                                actor,
                                quantity=line.backordered,
                                available=level.available,
                                location_id=location.pk,
                            )
                        )
                common.set_line_status(line, common.line_target(line, None))
            else:
                tasks.append(
                    ProvisioningTask(
                        line=line,
                        order=order,
                        kind=TaskKind.ACTIVATE if line.quantity >= 0 else TaskKind.DEACTIVATE,
                        status=TaskStatus.PENDING,
                        planned_on=ln.planned_date or today,
                        automatic=ln.automatic,
                        updated_at=now,
                    )
                )
        OrderLine.objects.bulk_update(rows, ["reserved", "backordered", "backordered_since", "status"])
        StockMove.objects.bulk_create(moves)
        ProvisioningTask.objects.bulk_create(tasks)
        planned = {t.line_id: t.planned_on for t in tasks}
        created = common.order_event(
            events.ORDER_CREATED,
            order,
            actor,
            ordered_on=today,
            location=location.code,
            source_key=order.source_key or "",
            lines=[
                {
                    **common.line_head(line),
                    "name": line.name,
                    "unit": line.unit,
                    "quantity": line.quantity,
                    "planned_date": planned.get(line.pk, line.planned_date),
                    "service_end": line.service_end,
                    "reserved": line.reserved,
                    "backordered": line.backordered,
                }
                for line in rows
            ],
        )
        common.record([created, *later, *common.refresh_order(order, actor=actor, lines=rows)])
        return order


def cancel_line(line_id: int, *, actor: Any = None, reason: str = "") -> OrderLine:
    """Cancel what is left of a line: a good's units not yet shipped (their reservation is
    released and goes to back-orders waiting for the product), or a service not yet started.

    Errors: ``LineNotFound`` (404); ``InvalidTransition`` (409) for a line already fulfilled,
    cancelled, or a service in progress; ``NothingToCancel`` (409) when every unit has shipped;
    ``LinePicked`` (409) while units sit in a picked shipment.
    """
    with transaction.atomic():
        head = (
            OrderLine.objects.filter(pk=line_id)
            .values("order_id", "location_id", "product_id", "sku", "kind")
            .first()
        )
        if head is None:
            raise LineNotFound(f"no order line {line_id}", field="line_id")
        level = None
        if (
            head["kind"] == LineKind.GOOD
            and head["product_id"] is not None
            and head["location_id"] is not None
        ):
            from q2c.orders.models import Location

            level = locks.level(Location.objects.get(pk=head["location_id"]), head["product_id"], head["sku"])
        order = locks.order(head["order_id"])
        line = OrderLine.objects.get(pk=line_id)
        out = _cancel(
            order, line, level, actor=actor, reason=common.text(reason, field="reason", max_length=500)
        )
        out += common.refresh_order(order, actor=actor)
        if level is not None:
            out += common.release_backorders(level, on=common.today(order), actor=actor)
        common.record(out)
        line.refresh_from_db()
        return line


def _cancel(order: Order, line: OrderLine, level: Any, *, actor: Any, reason: str) -> list[DomainEvent]:
    today = common.today(order)
    status = LineStatus(line.status)
    if line.kind == LineKind.GOOD:
        if status in domain.LINE_DONE:
            domain.move_line(status, LineStatus.CANCELLED)  # raises: fulfilled, cancelled …
        if line.picked > 0:
            raise LinePicked(
                f"{line.picked} of {line.sku} are in a picked shipment: cancel that shipment first",
                field="line_id",
            )
        remainder = line.backordered + line.reserved
        if remainder <= 0:
            raise NothingToCancel(
                f"every unit of {line.sku} has shipped: nothing is left to cancel", field="line_id"
            )
        if line.reserved > 0 and level is not None:
            common.release(
                level, line.reserved, line=line, on=today, actor=actor, note="line cancelled"
            ).save()
        line.cancelled += remainder
        line.reserved = domain.ZERO
        line.backordered = domain.ZERO
        line.backordered_since = None
        common.set_line_status(line, common.line_target(line, None))
        line.save(update_fields=["cancelled", "reserved", "backordered", "backordered_since", "status"])
        return [
            common.line_event(events.LINE_CANCELLED, order, line, actor, quantity=remainder, reason=reason)
        ]
    # A service, subscription or usage line can be cancelled only before it starts.
    domain.move_line(status, LineStatus.CANCELLED)
    task = ProvisioningTask.objects.get(line=line)
    task.status = domain.move_task(task.status, TaskStatus.CANCELLED)
    task.cancelled_on = today
    task.updated_at = clock.now()
    task.save(update_fields=["status", "cancelled_on", "updated_at"])
    common.set_line_status(line, common.line_target(line, task))
    line.save(update_fields=["status"])
    return [
        common.line_event(events.LINE_CANCELLED, order, line, actor, quantity=line.quantity, reason=reason)
    ]


def cancel_order(order_id: int, *, actor: Any = None, reason: str = "") -> Order:
    """Cancel an order on which nothing has happened yet: every line is cancelled, reservations
    are released (and go to back-orders waiting for the same products).

    Errors: ``OrderNotFound`` (404); ``InvalidTransition`` (409) unless the order is open;
    ``LinePicked`` (409) while a shipment is picked.
    """
    with transaction.atomic():
        head = Order.objects.filter(pk=order_id).values("location_id").first()
        if head is None:
            from q2c.orders.errors import OrderNotFound

            raise OrderNotFound(f"no order {order_id}", field="order_id")
        goods = list(
            OrderLine.objects.filter(order_id=order_id, kind=LineKind.GOOD, product_id__isnull=False)
            .values_list("product_id", "sku")
            .distinct()
        )
        from q2c.orders.models import Location

        location = Location.objects.get(pk=head["location_id"])
        levels = locks.levels(location, [(int(pid), sku) for pid, sku in goods if pid is not None])
        order = locks.order(order_id)
        domain.move_order(order.status, OrderStatus.CANCELLED)
        reason = common.text(reason, field="reason", max_length=500)
        out: list[DomainEvent] = []
        for line in OrderLine.objects.filter(order=order).order_by("position"):
            if line.status == LineStatus.CANCELLED:
                continue
            level = (
                levels.get(int(line.product_id)) if line.kind == LineKind.GOOD and line.product_id else None
            )
            out += _cancel(order, line, level, actor=actor, reason=reason)
        order.cancelled_on = common.today(order)
        order.cancel_reason = reason
        order.save(update_fields=["cancelled_on", "cancel_reason"])
        out += common.refresh_order(order, actor=actor)
        if order.status != OrderStatus.CANCELLED:  # pragma: no cover - every line was open
            domain.move_order(order.status, OrderStatus.CANCELLED)
        out.append(
            common.order_event(
                events.ORDER_CANCELLED, order, actor, reason=reason, cancelled_on=order.cancelled_on
            )
        )
        for level in levels.values():
            out += common.release_backorders(level, on=order.cancelled_on, actor=actor)
        common.record(out)
        return order


def close_order(order_id: int, *, actor: Any = None) -> Order:
    """Close a fulfilled or partially fulfilled order (nothing more will happen on it).

    Errors: ``OrderNotFound`` (404); ``InvalidTransition`` (409) from any other status.
    """
    with transaction.atomic():
        order = locks.order(order_id)
        target = domain.move_order(order.status, OrderStatus.CLOSED)
        previous = order.status
        order.status = target
        order.closed_on = common.today(order)
        order.updated_at = clock.now()
        order.save(update_fields=["status", "closed_on", "updated_at"])
        common.record(
            [
                common.order_event(
                    events.ORDER_STATUS_CHANGED, order, actor, status_from=previous, status_to=target
                ),
                common.order_event(events.ORDER_CLOSED, order, actor, closed_on=order.closed_on),
            ]
        )
        return order
