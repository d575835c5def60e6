"""The billing API (mounted at ``/api/v1/billing/``): bill runs (start one, follow its progress and
results), schedules with what they billed, milestones, settings and one-time charge rules. Thin:
checks the role, calls ``services``/``queries``/``run``, shapes the answer. Who may call what is
written in docs/permissions.md (section billing).

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from q2c.billing import queries, run, services, tasks, usage
from q2c.billing.models import BillingSettings, ChargeRule
from q2c.billing.schemas import (
    AdjustmentOut,
    BilledItemOut,
    BillingSettingsIn,
    BillingSettingsOut,
    ChargeRuleIn,
    ChargeRuleOut,
    MilestoneDoneIn,
    MilestoneOut,
    MilestonesIn,
    RunIn,
    RunOut,
    RunQueuedOut,
    ScheduleDetailOut,
    ScheduleFilterIn,
    ScheduleOut,
    ShardOut,
    UsageIngestOut,
    UsageSubscriptionOut,
    UsageTermsOut,
    UsageUnbilledOut,
)
from q2c.core.money import to_decimal
from q2c.platform.api import body_limit
from q2c.platform.auth import api_auth, require
from q2c.platform.events import enqueue_after_commit
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["billing"])

READERS = (Role.FINANCE, Role.VIEWER)
WRITERS = (Role.FINANCE,)


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or request.user
    return str(user.get_username())


def _run_out(run_id: int) -> RunOut:
    row = queries.run(run_id)
    out = RunOut.from_orm(row)
    out.shards = [ShardOut.from_orm(s) for s in queries.shards(run_id)]
    return out


@router.get("/runs", response=Page[RunOut], operation_id="billing_list_runs", summary="Bill runs")
def list_runs(request: HttpRequest, paging: Query[PageParams]) -> dict[str, Any]:
    require(request, *READERS)
    return paginate(queries.runs(), paging)


@router.post(
    "/runs",
    response={202: RunQueuedOut},
    operation_id="billing_start_run",
    summary="Start (or resume) the bill run of a date",
)
def start_run(request: HttpRequest, payload: RunIn) -> Status[dict[str, Any]]:
    require(request, *WRITERS)
    # Bad input is refused now, with nothing written; the run itself goes to the worker.
    run.check(payload.as_of)
    enqueue_after_commit(tasks.run_bill_run, payload.as_of.isoformat(), payload.workers, _actor(request))
    return Status(
        202,
        {
            "as_of": payload.as_of,
            "status": "queued",
            "detail": "the run starts in the background; follow it at /api/v1/billing/runs",
        },
    )


@router.get(
    "/runs/{run_id}",
    response=RunOut,
    operation_id="billing_get_run",
    summary="A bill run: progress and results",
)
def get_run(request: HttpRequest, run_id: int) -> RunOut:
    require(request, *READERS)
    return _run_out(run_id)


@router.get(
    "/schedules",
    response=Page[ScheduleOut],
    operation_id="billing_list_schedules",
    summary="Billing schedules",
)
def list_schedules(
    request: HttpRequest, filters: Query[ScheduleFilterIn], paging: Query[PageParams]
) -> dict[str, Any]:
    require(request, *READERS)
    qs = queries.schedules(
        account_id=filters.account_id,
        contract_id=filters.contract_id,
        status=filters.status or "",
        kind=filters.kind or "",
    )
    return paginate(qs, paging)


@router.get(
    "/schedules/{schedule_id}",
    response=ScheduleDetailOut,
    operation_id="billing_get_schedule",
    summary="A schedule and what it billed",
)
def get_schedule(request: HttpRequest, schedule_id: int) -> ScheduleDetailOut:
    require(request, *READERS)
    out = ScheduleDetailOut.from_orm(queries.schedule(schedule_id))
    detail = queries.schedule_detail(schedule_id)
    out.items = [BilledItemOut.from_orm(i) for i in detail["items"]]
    out.adjustments = [AdjustmentOut.from_orm(a) for a in detail["adjustments"]]
    out.milestones = [MilestoneOut.from_orm(m) for m in detail["milestones"]]
    return out


@router.put(
    "/schedules/{schedule_id}/milestones",
    response=list[MilestoneOut],
    operation_id="billing_set_milestones",
    summary="Bill a one-time line in milestones",
)
def set_milestones(request: HttpRequest, schedule_id: int, payload: MilestonesIn) -> list[Any]:
    require(request, *WRITERS)
    parts = [(m.name, to_decimal(m.percent, field="percent")) for m in payload.milestones]
    return services.set_milestones(schedule_id, parts, actor=_actor(request))


@router.post(
    "/schedules/{schedule_id}/milestones/{position}/done",
    response=MilestoneOut,
    operation_id="billing_milestone_done",
    summary="Mark a milestone done",
)
def milestone_done(request: HttpRequest, schedule_id: int, position: int, payload: MilestoneDoneIn) -> Any:
    require(request, *WRITERS)
    return services.mark_milestone_done(schedule_id, position, payload.done_on, actor=_actor(request))


def _settings_out(entity_id: int) -> dict[str, Any]:
    s = BillingSettings.objects.filter(entity_id=entity_id).first() or BillingSettings(entity_id=entity_id)
    return {
        "entity_id": entity_id, "amendment_style": s.amendment_style, "proration_timing": s.proration_timing,
        "proration_mode": s.proration_mode, "consolidate": s.consolidate, "stub_basis": s.stub_basis,
        "batch_size": s.batch_size,
    }  # fmt: skip


@router.get(
    "/settings/{entity_id}",
    response=BillingSettingsOut,
    operation_id="billing_get_settings",
    summary="An entity's billing settings",
)
def get_settings(request: HttpRequest, entity_id: int) -> dict[str, Any]:
    require(request, *READERS)
    from q2c.parties.models import LegalEntity

    if not LegalEntity.objects.filter(pk=entity_id).exists():
        from q2c.billing.errors import BillingNotFound

        raise BillingNotFound(f"no legal entity {entity_id}", field="entity_id")
    return _settings_out(entity_id)


@router.put(
    "/settings/{entity_id}",
    response=BillingSettingsOut,
    operation_id="billing_save_settings",
    summary="Change an entity's billing settings",
)
def save_settings(request: HttpRequest, entity_id: int, payload: BillingSettingsIn) -> dict[str, Any]:
    require(request, *WRITERS)
    services.save_settings(entity_id, actor=_actor(request), **payload.dict(exclude_none=True))
    return _settings_out(entity_id)


@router.get(
    "/charge-rules",
    response=list[ChargeRuleOut],
    operation_id="billing_list_charge_rules",
    summary="When one-time charges are invoiced",
)
def list_charge_rules(request: HttpRequest) -> list[Any]:
    require(request, *READERS)
    return list(ChargeRule.objects.order_by("entity_id", "sku", "charge"))


@router.post(
    "/charge-rules",
    response={201: ChargeRuleOut},
    operation_id="billing_set_charge_rule",
    summary="Set when a product's one-time charge is invoiced",
)
def set_charge_rule(request: HttpRequest, payload: ChargeRuleIn) -> Status[Any]:
    require(request, *WRITERS)
    from q2c.parties.models import LegalEntity

    if not LegalEntity.objects.filter(pk=payload.entity_id).exists():
        from q2c.billing.errors import BillingNotFound

        raise BillingNotFound(f"no legal entity {payload.entity_id}", field="entity_id")
    return Status(
        201,
        services.set_charge_rule(
            payload.entity_id, payload.sku, payload.trigger, charge=payload.charge, actor=_actor(request)
        ),
    )


# --- usage -----------------------------------------------------------------------------------------

USAGE_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["events"],
                "properties": {
                    "events": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 10_000,
                        "items": {
                            "type": "object",
                            "required": ["id", "metric", "quantity", "timestamp"],
                            "properties": {
                                "id": {"type": "string", "maxLength": 200},
                                "subscription_id": {"type": "integer"},
                                "account_id": {"type": "integer"},
                                "metric": {"type": "string"},
                                "quantity": {"type": "string", "examples": ["350000"]},
                                "timestamp": {"type": "string", "format": "date-time"},
                                "properties": {"type": "object", "additionalProperties": {"type": "string"}},
                            },
                        },
                    }
                },
            }
        }
    },
    "required": True,
}


@router.post(
    "/usage/events",
    response=UsageIngestOut,
    operation_id="billing_ingest_usage",
    summary="Ingest a batch of usage events (1 to 10,000)",
    openapi_extra={"requestBody": USAGE_BODY},
)
@body_limit(usage.MAX_BODY_BYTES)
def ingest_usage(request: HttpRequest) -> dict[str, Any]:
    """Store the valid events of the batch in one transaction; invalid events come back one by one
    (index, id, code, field). Re-sent ids are counted as duplicates and stored once. A batch whose
    events are all invalid is refused (422, nothing written); a malformed body too."""
    require(request, *WRITERS)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise usage.UsageRefused(
            "the body is not JSON", code="usage.malformed_batch", field="events"
        ) from None
    events = body.get("events") if isinstance(body, dict) else body
    result = usage.ingest(events)
    if result.errors and not result.accepted and not result.duplicates:
        first = result.errors[0]
        raise usage.UsageRefused(
            f"no event of the batch is valid: event {first['index']}: {first['detail']}",
            code=first["code"],
            field=f"events[{first['index']}].{first['field'] or 'id'}",
            details=[
                {
                    "field": f"events[{e['index']}].{e['field'] or 'id'}",
                    "code": e["code"],
                    "message": e["detail"],
                    "index": e["index"],
                    "id": e["id"],
                }
                for e in result.errors[:100]
            ],
        )
    return result.as_dict()


@router.get(
    "/usage/subscriptions/{schedule_id}",
    response=UsageSubscriptionOut,
    operation_id="billing_usage_subscription",
    summary="A usage subscription's months: events, aggregates, rated amounts, lines and late events",
)
def usage_subscription(request: HttpRequest, schedule_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return queries.usage_explorer(schedule_id)


TERMS_BODY = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["effective_from"],
                "properties": {
                    "effective_from": {"type": "string", "format": "date", "examples": ["2030-01-01"]},
                    "included": {"type": ["string", "null"], "examples": ["50000"]},
                    "minimum": {"type": ["string", "null"], "examples": ["450.00"]},
                    "price_book": {"type": "string"},
                    "prices": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["model"],
                            "properties": {
                                "dimension": {"type": "object", "additionalProperties": {"type": "string"}},
                                "model": {"enum": list(usage.OVERRIDE_MODELS)},
                                "price": {"type": "string"},
                                "block_size": {"type": "string"},
                                "minimum": {"type": "string"},
                                "maximum": {"type": "string"},
                                "tiers": {"type": "array", "items": {"type": "object"}},
                            },
                        },
                    },
                },
            }
        }
    },
    "required": True,
}


@router.put(
    "/usage/subscriptions/{schedule_id}/terms",
    response=UsageTermsOut,
    operation_id="billing_set_usage_terms",
    summary="Set a usage subscription's allowance, minimum commitment, price book and prices per "
    "dimension value from a month on",
    openapi_extra={"requestBody": TERMS_BODY},
)
@body_limit(256 * 1024)
def set_usage_terms(request: HttpRequest, schedule_id: int) -> dict[str, Any]:
    """Terms in force from ``effective_from`` (a month's first day after the latest rated month);
    fields left out keep what was in force. 422 naming the field, nothing written, on bad input."""
    require(request, *WRITERS)
    try:
        body = json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        raise usage.UsageRefused("the body is not JSON", code="usage.invalid_terms", field="terms") from None
    return usage.set_usage_terms(schedule_id, body, actor=_actor(request)).as_dict()


@router.get(
    "/usage/unbilled",
    response=list[UsageUnbilledOut],
    operation_id="billing_unbilled_usage",
    summary="Usage occurred but not invoiced at the end of a date (the month-end accrual)",
)
def unbilled_usage(request: HttpRequest, as_of: date, entity_id: int | None = None) -> list[Any]:
    require(request, *READERS)
    return queries.unbilled_usage(as_of, entity_id=entity_id)
