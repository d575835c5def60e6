"""The read side of billing: bill runs with their shards, schedules with what they billed.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from q2c.billing import errors
from q2c.billing.models import Adjustment, BilledItem, BillRun, BillRunShard, Milestone, Schedule


def runs() -> QuerySet[BillRun]:
    return BillRun.objects.order_by("-as_of", "-id")


def run(run_id: int) -> BillRun:
    found = BillRun.objects.filter(pk=run_id).first()
    if found is None:
        raise errors.BillingNotFound(f"no bill run {run_id}", field="run_id")
    return found


def shards(run_id: int) -> list[BillRunShard]:
    return list(BillRunShard.objects.filter(run_id=run_id).order_by("shards", "shard"))


def schedules(
    *, account_id: int | None = None, contract_id: int | None = None, status: str = "", kind: str = ""
) -> QuerySet[Schedule]:
    qs = Schedule.objects.order_by("account_id", "id")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if contract_id:
        qs = qs.filter(contract_id=contract_id)
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    return qs


def schedule(schedule_id: int) -> Schedule:
    found = Schedule.objects.filter(pk=schedule_id).first()
    if found is None:
        raise errors.BillingNotFound(f"no schedule {schedule_id}", field="schedule_id")
    return found


def schedule_detail(schedule_id: int) -> dict[str, Any]:
    return {
        "items": list(BilledItem.objects.filter(schedule_id=schedule_id).order_by("period_start", "part")),
        "adjustments": list(Adjustment.objects.filter(schedule_id=schedule_id).order_by("effective", "part")),
        "milestones": list(Milestone.objects.filter(schedule_id=schedule_id).order_by("position")),
    }


def items_of_invoice(invoice_id: int) -> list[BilledItem]:
    return list(
        BilledItem.objects.filter(invoice_id=invoice_id).order_by("schedule_id", "period_start", "part")
    )


def unbilled_usage(as_of: Any, *, entity_id: int | None = None) -> list[Any]:
    """Usage occurred by the end of ``as_of`` and not invoiced by then, per subscription and month
    (``q2c.billing.usage.UnbilledUsage``): the month-end unbilled receivable of usage revenue."""
    from q2c.billing.usage import unbilled_usage as compute

    return compute(as_of, entity_id=entity_id)


def usage_explorer(schedule_id: int) -> dict[str, Any]:
    """A usage subscription's months (``q2c.billing.usage.explorer``)."""
    from q2c.billing.usage import explorer

    return explorer(schedule_id)


def usage_subscriptions(*, account_id: int | None = None) -> QuerySet[Schedule]:
    qs = Schedule.objects.filter(kind=Schedule.Kind.USAGE).order_by("account_id", "id")
    if account_id:
        qs = qs.filter(account_id=account_id)
    return qs
