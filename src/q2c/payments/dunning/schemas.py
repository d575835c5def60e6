"""Request and response shapes of the dunning API. Dates are ``YYYY-MM-DD``; amounts decimal text
with their currency (``MoneyOut``). Every class is prefixed ``Dunning`` so OpenAPI names stay unique.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr

from q2c.platform.schemas import MoneyOut, money_out

Num = StrictStr | StrictInt


class DunningStepIn(Schema):
    key: str = Field(..., max_length=40, examples=["reminder"])
    offset_days: int = Field(..., description="days after the due date", examples=[7])
    action: str = Field(
        ...,
        examples=["reminder"],
        description="reminder, second_reminder, suspend_service, final_notice, collections",
    )
    fee: Num | None = Field(None, examples=["5.00"])
    currency: str | None = Field(None, examples=["EUR"])
    charge_interest: bool = False
    subject: str = Field("", max_length=200)
    body: str = Field("", max_length=5000)


class DunningPolicyIn(Schema):
    entity_id: int = Field(..., examples=[1])
    segment: str = Field(..., max_length=40, examples=["default"])
    name: str = Field(..., max_length=120, examples=["Standard"])
    steps: list[DunningStepIn] = Field(..., max_length=10)
    interest_rate: Num = Field("0", examples=["0.1127"])
    fee_tax_category: str = Field("service", examples=["service"])
    active: bool = True


class DunningStepOut(Schema):
    key: str
    offset_days: int
    action: str
    fee: MoneyOut | None
    charge_interest: bool
    subject: str
    body: str


class DunningPolicyOut(Schema):
    id: int
    entity_id: int
    segment: str
    name: str
    interest_rate: str
    fee_tax_category: str
    active: bool
    steps: list[DunningStepOut]


def policy_out(policy: Any, steps: list[Any]) -> dict[str, Any]:
    return {
        "id": policy.pk, "entity_id": policy.entity_id, "segment": policy.segment, "name": policy.name,
        "interest_rate": f"{policy.interest_rate:f}", "fee_tax_category": policy.fee_tax_category,
        "active": policy.active,
        "steps": [
            {"key": s.key, "offset_days": s.offset_days, "action": s.action,
             "fee": money_out(s.fee) if s.currency else None, "charge_interest": s.charge_interest,
             "subject": s.subject, "body": s.body}
            for s in steps
        ],
    }  # fmt: skip


class DunningSegmentIn(Schema):
    segment: str = Field(..., max_length=40, examples=["key-accounts"])


class DunningSegmentOut(Schema):
    account_id: int
    segment: str


class DunningEntryOut(Schema):
    id: int
    account_id: int
    invoice_id: int
    invoice_number: str
    step_key: str
    action: str
    status: str
    business_date: date
    days_overdue: int
    open_amount: MoneyOut
    fee: MoneyOut
    interest: MoneyOut
    charge_ids: list[int]
    email_to: str
    subject: str
    body: str
    document_sha256: str
    mail: str


def entry_out(e: Any) -> dict[str, Any]:
    return {
        "id": e.pk, "account_id": e.account_id, "invoice_id": e.invoice_id, "invoice_number": e.invoice_number,
        "step_key": e.step_key, "action": e.action, "status": e.status, "business_date": e.business_date,
        "days_overdue": e.days_overdue, "open_amount": money_out(e.open_amount), "fee": money_out(e.fee),
        "interest": money_out(e.interest), "charge_ids": list(e.charge_ids), "email_to": e.email_to,
        "subject": e.subject, "body": e.body, "document_sha256": e.document_sha256, "mail": e.mail,
    }  # fmt: skip


class DunningPromiseIn(Schema):
    account_id: int = Field(..., examples=[1])
    promised_date: date = Field(..., examples=["2027-04-30"])
    amount: Num = Field(..., examples=["1517.25"])
    currency: str | None = Field(None, examples=["EUR"])
    invoice_ids: list[int] = Field(default_factory=list, max_length=500)
    notes: str = Field("", max_length=4000)
    next_action: str = Field("", max_length=200)


class DunningPromiseCloseIn(Schema):
    status: str = Field("cancelled", examples=["cancelled"], description="cancelled, kept or broken")


class DunningPromiseOut(Schema):
    id: int
    account_id: int
    invoice_ids: list[int]
    promised_date: date
    amount: MoneyOut
    status: str
    notes: str
    recorded_on: date
    closed_on: date | None


def promise_out(p: Any) -> dict[str, Any]:
    return {
        "id": p.pk, "account_id": p.account_id, "invoice_ids": list(p.invoice_ids), "promised_date": p.promised_date,
        "amount": money_out(p.amount), "status": p.status, "notes": p.notes, "recorded_on": p.recorded_on,
        "closed_on": p.closed_on,
    }  # fmt: skip


class DunningNoteIn(Schema):
    text: str = Field("", max_length=4000, examples=["Called AP; invoice approved for the next payment run"])
    next_action: str = Field("", max_length=200, examples=["call again"])
    next_action_on: date | None = None


class DunningNoteOut(Schema):
    id: int
    account_id: int
    text: str
    next_action: str
    next_action_on: date | None
    created_on: date
    created_by: str


class DunningFeeIn(Schema):
    fee: Num | None = Field(None, examples=["5.00"])
    interest_until: date | None = None


class DunningWorklistRowOut(Schema):
    account_id: int
    account_name: str
    overdue: MoneyOut
    by_currency: list[MoneyOut]
    invoices: int
    disputed: int
    oldest_due: date
    days_overdue: int
    score: str
    last_step: str
    last_step_on: date | None
    promise_date: date | None
    promise_amount: MoneyOut | None
    next_action: str
    next_action_on: date | None


def worklist_out(r: Any) -> dict[str, Any]:
    return {
        "account_id": r.account_id, "account_name": r.account_name, "overdue": money_out(r.overdue),
        "by_currency": [money_out(m) for _, m in sorted(r.by_currency.items())], "invoices": r.invoices,
        "disputed": r.disputed, "oldest_due": r.oldest_due, "days_overdue": r.days_overdue,
        "score": f"{r.score:f}", "last_step": r.last_step, "last_step_on": r.last_step_on,
        "promise_date": r.promise_date, "promise_amount": money_out(r.promise_amount),
        "next_action": r.next_action, "next_action_on": r.next_action_on,
    }  # fmt: skip


class DunningWorklistIn(Schema):
    on: date | None = None
    entity_id: int | None = None
    order: str = Field("score", description="score (amount × age), amount or age")


class DunningRunIn(Schema):
    business_date: date = Field(..., examples=["2027-04-07"])


class DunningRunOut(Schema):
    business_date: date
    result: dict[str, int]


class DunningRetryRuleIn(Schema):
    entity_id: int = Field(..., examples=[1])
    segment: str = Field("default", max_length=40)
    method: str = Field(..., examples=["card"])
    reason: str = Field(..., max_length=40, examples=["insufficient_funds"])
    action: str = Field(..., examples=["retry"])
    retry_days: list[int] = Field(default_factory=list, max_length=5, examples=[[3, 7]])


class DunningRetryRuleOut(Schema):
    id: int
    entity_id: int
    segment: str
    method: str
    reason: str
    action: str
    retry_days: list[int]


class DunningRetryOut(Schema):
    id: int
    account_id: int
    payment_id: int
    method: str
    reason: str
    attempt: int
    action: str
    due_on: date
    status: str
    outcome: str
