"""Use cases of services, subscriptions and usage: activate a line (it runs from that date),
complete a one-time service or a deactivation, and the daily job that carries out automatic
tasks whose planned date has come.

Must not import any q2c app above ``contracts``.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.orders import domain, events, locks
from q2c.orders.domain import LineKind, TaskKind, TaskStatus
from q2c.orders.errors import LineNotFound, WrongKind
from q2c.orders.models import Order, OrderLine, ProvisioningTask
from q2c.orders.services import common

log = logging.getLogger(__name__)


def _load(line_id: int) -> tuple[Order, OrderLine, ProvisioningTask]:
    head = OrderLine.objects.filter(pk=line_id).values("order_id").first()
    if head is None:
        raise LineNotFound(f"no order line {line_id}", field="line_id")
    order = locks.order(head["order_id"])
    line = OrderLine.objects.get(pk=line_id)
    task = ProvisioningTask.objects.filter(line=line).first()
    if task is None:
        raise WrongKind(
            f"line {line.position} ({line.sku}) is a {line.kind}: goods are shipped, not activated",
            field="line_id",
        )
    return order, line, task


def _earliest(order: Order, task: ProvisioningTask) -> tuple[date, str]:
    """A line may start on its planned date even when the order was made later (a backdated
    amendment), but not before both."""
    if task.planned_on and task.planned_on < order.ordered_on:
        return task.planned_on, "the planned date"
    return order.ordered_on, "the order date"


def activate(
    line_id: int, *, activated_on: date | None = None, actor: Any = None, note: str = ""
) -> OrderLine:
    """Start a service, subscription or usage line on ``activated_on`` (default today; not in the
    future, not before the order). Records LineActivated: subscriptions bill from this date.

    Errors: ``LineNotFound`` (404); ``WrongKind`` (422) for goods or a deactivation task;
    ``InvalidTransition`` (409) for a line already activated (activating twice), completed or
    cancelled; ``InvalidDate`` (422).
    """
    with transaction.atomic():
        order, line, task = _load(line_id)
        if task.kind != TaskKind.ACTIVATE:
            raise WrongKind(
                f"line {line.position} ({line.sku}) is a reduction: complete its deactivation instead",
                field="line_id",
            )
        target = domain.move_task(task.status, TaskStatus.ACTIVE)
        earliest, what = _earliest(order, task)
        day = common.business_date(
            activated_on, order=order, field="activated_on", not_before=earliest, not_before_what=what
        )
        task.status = target
        task.activated_on = day
        task.note = common.text(note, field="note", max_length=500) or task.note
        task.updated_at = clock.now()
        task.save(update_fields=["status", "activated_on", "note", "updated_at"])
        common.set_line_status(line, common.line_target(line, task))
        line.save(update_fields=["status"])
        out = [
            common.line_event(
                events.LINE_ACTIVATED,
                order,
                line,
                actor,
                quantity=line.quantity,
                activated_on=day,
                planned_on=task.planned_on,
                service_end=line.service_end,
                automatic=task.automatic,
            )
        ]
        out += common.refresh_order(order, actor=actor)
        common.record(out)
        return line


def complete(
    line_id: int, *, completed_on: date | None = None, actor: Any = None, note: str = ""
) -> OrderLine:
    """Complete a one-time service (records LineCompleted: its revenue is recognised at that
    point) or carry out a deactivation (records LineDeactivated). A service need not have been
    activated first.

    Errors: ``LineNotFound`` (404); ``WrongKind`` (422) for goods, subscriptions and usage (they
    run until their contract ends); ``InvalidTransition`` (409) for a task already completed or
    cancelled; ``InvalidDate`` (422) for a date in the future, before the order or before activation.
    """
    with transaction.atomic():
        order, line, task = _load(line_id)
        if task.kind == TaskKind.ACTIVATE and line.kind != LineKind.SERVICE:
            raise WrongKind(
                f"line {line.position} ({line.sku}) is a {line.kind}: it runs until the contract ends and is not completed",
                field="line_id",
            )
        target = domain.move_task(task.status, TaskStatus.COMPLETED)
        earliest, what = (
            (task.activated_on, "its activation") if task.activated_on else _earliest(order, task)
        )
        day = common.business_date(
            completed_on, order=order, field="completed_on", not_before=earliest, not_before_what=what
        )
        task.status = target
        task.completed_on = day
        task.note = common.text(note, field="note", max_length=500) or task.note
        task.updated_at = clock.now()
        task.save(update_fields=["status", "completed_on", "note", "updated_at"])
        common.set_line_status(line, common.line_target(line, task))
        line.save(update_fields=["status"])
        kind = events.LINE_COMPLETED if task.kind == TaskKind.ACTIVATE else events.LINE_DEACTIVATED
        day_key = "completed_on" if task.kind == TaskKind.ACTIVATE else "deactivated_on"
        out = [
            common.line_event(
                kind,
                order,
                line,
                actor,
                quantity=line.quantity,
                activated_on=task.activated_on,
                planned_on=task.planned_on,
                **{day_key: day},
            )
        ]
        out += common.refresh_order(order, actor=actor)
        common.record(out)
        return line


def run_due(business_date: date) -> dict[str, Any]:
    """The daily job: carry out every automatic task planned on or before ``business_date`` (an
    activation runs from its planned date; a deactivation is completed on it). Idempotent: a task
    done is no longer pending."""
    due = list(
        ProvisioningTask.objects.filter(
            automatic=True, status=TaskStatus.PENDING, planned_on__lte=business_date
        )
        .order_by("planned_on", "id")
        .values_list("line_id", "kind", "planned_on")
    )
    done, failed = 0, []
    for line_id, kind, planned in due:
        try:
            if kind == TaskKind.ACTIVATE:
                activate(line_id, activated_on=planned, actor="system")
            else:
                complete(line_id, completed_on=planned, actor="system")
        except DomainError as exc:
            # One task that cannot run (its line was cancelled meanwhile …) must not hold up the
            # others; it stays pending and shows on the fulfilment board.
            log.warning("provisioning task of line %s not carried out: %s", line_id, exc)
            failed.append({"line_id": line_id, "code": exc.code, "message": exc.message})
            continue
        done += 1
    return {"tasks": done, "failed": failed}
