"""Dunning and collections — the API router (mounted at ``/api/v1/dunning/`` in ``q2c/api.py``).
Thin: checks the role before looking anything up, calls services and queries. Who may call what
is written in docs/permissions.md (section dunning): finance acts, viewers read.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router
from ninja.responses import Status

from q2c.core import clock
from q2c.payments.dunning import queries, services
from q2c.payments.dunning.schemas import (
    DunningEntryOut,
    DunningFeeIn,
    DunningNoteIn,
    DunningNoteOut,
    DunningPolicyIn,
    DunningPolicyOut,
    DunningPromiseCloseIn,
    DunningPromiseIn,
    DunningPromiseOut,
    DunningRetryOut,
    DunningRetryRuleIn,
    DunningRetryRuleOut,
    DunningRunIn,
    DunningRunOut,
    DunningSegmentIn,
    DunningSegmentOut,
    DunningWorklistIn,
    DunningWorklistRowOut,
    entry_out,
    policy_out,
    promise_out,
    worklist_out,
)
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["payments_dunning"])

READERS = (Role.FINANCE, Role.VIEWER)
WRITERS = (Role.FINANCE,)


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or request.user
    return str(user.get_username())


def _page(data: dict[str, Any], shape: Any) -> dict[str, Any]:
    return {**data, "items": [shape(i) for i in data["items"]]}


@router.get(
    "/policies",
    response=list[DunningPolicyOut],
    operation_id="dunning_list_policies",
    summary="Dunning policies",
)
def list_policies(request: HttpRequest, entity_id: int | None = None) -> list[dict[str, Any]]:
    require(request, *READERS)
    return [policy_out(p, steps) for p, steps in queries.policies(entity_id)]


@router.put("/policies", response=DunningPolicyOut, operation_id="dunning_save_policy",
            summary="Create or replace the policy of a customer segment")  # fmt: skip
def save_policy(request: HttpRequest, payload: DunningPolicyIn) -> dict[str, Any]:
    require(request, *WRITERS)
    policy = services.save_policy(
        payload.entity_id, payload.segment, name=payload.name, steps=[s.dict() for s in payload.steps],
        interest_rate=payload.interest_rate, fee_tax_category=payload.fee_tax_category, active=payload.active,
        actor=_actor(request),
    )  # fmt: skip
    return policy_out(*queries.policy(policy.pk))


@router.get(
    "/policies/{policy_id}",
    response=DunningPolicyOut,
    operation_id="dunning_get_policy",
    summary="A dunning policy",
)
def get_policy(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return policy_out(*queries.policy(policy_id))


@router.put("/accounts/{account_id}/segment", response=DunningSegmentOut, operation_id="dunning_set_segment",
            summary="Put a customer in a dunning segment")  # fmt: skip
def set_segment(request: HttpRequest, account_id: int, payload: DunningSegmentIn) -> dict[str, Any]:
    require(request, *WRITERS)
    row = services.set_segment(account_id, payload.segment, actor=_actor(request))
    return {"account_id": row.account_id, "segment": row.segment}


@router.get("/worklist", response=list[DunningWorklistRowOut], operation_id="dunning_worklist",
            summary="Overdue accounts ranked by amount and age")  # fmt: skip
def worklist(request: HttpRequest, filters: Query[DunningWorklistIn]) -> list[dict[str, Any]]:
    require(request, *READERS)
    rows = queries.worklist(filters.on or clock.today(), entity_id=filters.entity_id, order=filters.order)
    return [worklist_out(r) for r in rows]


@router.get("/entries", response=Page[DunningEntryOut], operation_id="dunning_list_entries",
            summary="The dunning log (steps carried out or skipped, with the document sent)")  # fmt: skip
def list_entries(
    request: HttpRequest,
    paging: Query[PageParams],
    account_id: int | None = None,
    invoice_id: int | None = None,
) -> dict[str, Any]:
    require(request, *READERS)
    return _page(paginate(queries.entries(account_id=account_id, invoice_id=invoice_id), paging), entry_out)


@router.post("/invoices/{invoice_id}/fee", response={201: DunningEntryOut}, operation_id="dunning_charge_fee",
             summary="Charge a late fee and/or interest on an overdue invoice (as an invoice)")  # fmt: skip
def charge_fee(request: HttpRequest, invoice_id: int, payload: DunningFeeIn) -> Status[dict[str, Any]]:
    require(request, *WRITERS)
    entry = services.charge_fee(
        invoice_id, fee=payload.fee, interest_until=payload.interest_until, actor=_actor(request)
    )
    return Status(201, entry_out(entry))


@router.get(
    "/promises",
    response=Page[DunningPromiseOut],
    operation_id="dunning_list_promises",
    summary="Promises to pay",
)
def list_promises(
    request: HttpRequest, paging: Query[PageParams], account_id: int | None = None, status: str = ""
) -> dict[str, Any]:
    require(request, *READERS)
    return _page(paginate(queries.promises(account_id=account_id, status=status), paging), promise_out)


@router.post("/promises", response={201: DunningPromiseOut}, operation_id="dunning_record_promise",
             summary="Record a promise to pay (pauses dunning of its invoices up to the date)")  # fmt: skip
def record_promise(request: HttpRequest, payload: DunningPromiseIn) -> Status[dict[str, Any]]:
    require(request, *WRITERS)
    promise = services.record_promise(
        payload.account_id, promised_date=payload.promised_date, amount=payload.amount, currency=payload.currency,
        invoice_ids=payload.invoice_ids or None, notes=payload.notes, next_action=payload.next_action,
        actor=_actor(request),
    )  # fmt: skip
    return Status(201, promise_out(promise))


@router.post("/promises/{promise_id}/close", response=DunningPromiseOut, operation_id="dunning_close_promise",
             summary="Close an open promise to pay")  # fmt: skip
def close_promise(request: HttpRequest, promise_id: int, payload: DunningPromiseCloseIn) -> dict[str, Any]:
    require(request, *WRITERS)
    return promise_out(services.close_promise(promise_id, status=payload.status, actor=_actor(request)))


@router.get("/accounts/{account_id}/notes", response=list[DunningNoteOut], operation_id="dunning_list_notes",
            summary="A customer's collection notes")  # fmt: skip
def list_notes(request: HttpRequest, account_id: int) -> list[Any]:
    require(request, *READERS)
    queries.account(account_id)
    return list(queries.notes(account_id)[:200])


@router.post("/accounts/{account_id}/notes", response={201: DunningNoteOut}, operation_id="dunning_add_note",
             summary="Add a collection note and next action")  # fmt: skip
def add_note(request: HttpRequest, account_id: int, payload: DunningNoteIn) -> Status[Any]:
    require(request, *WRITERS)
    note = services.add_note(account_id, text=payload.text, next_action=payload.next_action,
                             next_action_on=payload.next_action_on, actor=_actor(request))  # fmt: skip
    return Status(201, note)


@router.post("/runs", response=DunningRunOut, operation_id="dunning_run_day",
             summary="Run the dunning job for a business date up to today (idempotent)")  # fmt: skip
def run_day(request: HttpRequest, payload: DunningRunIn) -> dict[str, Any]:
    require(request, *WRITERS)
    result = services.run_date(payload.business_date, actor=_actor(request))
    return {"business_date": payload.business_date, "result": result}


@router.get("/retry-rules", response=list[DunningRetryRuleOut], operation_id="dunning_list_retry_rules",
            summary="Payment-retry rules by failure reason and segment")  # fmt: skip
def list_retry_rules(request: HttpRequest, entity_id: int | None = None) -> list[Any]:
    require(request, *READERS)
    return list(queries.retry_rules(entity_id))


@router.put("/retry-rules", response=DunningRetryRuleOut, operation_id="dunning_save_retry_rule",
            summary="Set what a payment failure reason leads to")  # fmt: skip
def save_retry_rule(request: HttpRequest, payload: DunningRetryRuleIn) -> Any:
    require(request, *WRITERS)
    return services.save_retry_rule(
        payload.entity_id, segment=payload.segment, method=payload.method, reason=payload.reason,
        action=payload.action, retry_days=payload.retry_days, actor=_actor(request),
    )  # fmt: skip


@router.get("/retries", response=Page[DunningRetryOut], operation_id="dunning_list_retries",
            summary="Planned and done retries of failed payments")  # fmt: skip
def list_retries(
    request: HttpRequest, paging: Query[PageParams], account_id: int | None = None, status: str = ""
) -> dict[str, Any]:
    require(request, *READERS)
    return paginate(queries.retries(account_id=account_id, status=status), paging)
