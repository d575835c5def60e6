"""API shapes of the ledger (django-ninja schemas). Amounts travel as decimal strings with their
currency (``{"amount": "12.30", "currency": "EUR"}``), never as JSON numbers.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema

from q2c.platform.schemas import MoneyOut, money_out

money = money_out


class BookIn(Schema):
    entity_id: int = Field(..., gt=0)
    currency: str = Field(..., min_length=3, max_length=3)
    name: str = Field("", max_length=200)
    rounding: str = Field("half_up", pattern="^(half_up|half_even)$")


class BookOut(Schema):
    entity_id: int
    name: str
    currency: str
    rounding: str
    opened_at: datetime


class AccountIn(Schema):
    code: str = Field(..., min_length=1, max_length=20)
    name: str = Field(..., min_length=1, max_length=120)
    type: str = Field(..., description="asset, liability, equity, revenue or expense")
    key: str | None = Field(None, max_length=80, description="optional stable key other apps find it by")


class AccountOut(Schema):
    id: int
    code: str
    name: str
    type: str
    normal_side: str
    key: str | None
    is_active: bool


class TrialBalanceRowOut(Schema):
    account_id: int
    code: str
    name: str
    type: str
    key: str | None
    debits: MoneyOut
    credits: MoneyOut
    debit_balance: MoneyOut | None
    credit_balance: MoneyOut | None


class TrialBalanceOut(Schema):
    entity_id: int
    currency: str
    as_of: date | None
    rows: list[TrialBalanceRowOut]
    total_debit: MoneyOut
    total_credit: MoneyOut


class LedgerLineOut(Schema):
    entry_id: int
    number: str
    date: date
    description: str
    source: str
    debit: MoneyOut
    credit: MoneyOut
    balance: MoneyOut
    original: MoneyOut | None
    rate: str | None
    memo: str


class GeneralLedgerOut(Schema):
    account: AccountOut
    date_from: date | None
    date_to: date | None
    opening: MoneyOut
    lines: list[LedgerLineOut]
    total_debit: MoneyOut
    total_credit: MoneyOut
    closing: MoneyOut


class EntryLineOut(Schema):
    line_no: int
    account_id: int
    account_code: str
    account_name: str
    debit: MoneyOut
    credit: MoneyOut
    original: MoneyOut | None
    rate: str | None
    memo: str


class SourceOut(Schema):
    app: str
    type: str
    id: str


class EntryOut(Schema):
    id: int
    entity_id: int
    number: str
    date: date
    period: str
    description: str
    source: SourceOut
    purpose: str
    currency: str
    total: MoneyOut
    reverses_id: int | None
    reverses_number: str | None
    reversed_by_id: int | None
    reversed_by_number: str | None
    posted_at: datetime
    posted_by: str
    lines: list[EntryLineOut]


class EntryPage(Schema):
    items: list[EntryOut]
    page: int
    page_size: int
    total: int
    pages: int


class LineIn(Schema):
    account: int | str = Field(..., description="account id, or its key (e.g. 'ar')")
    debit: str | None = Field(None, description="amount in the entity currency, e.g. '120.00'")
    credit: str | None = None
    original_amount: str | None = Field(None, description="amount in the source currency")
    original_currency: str | None = Field(None, min_length=3, max_length=3)
    rate: str | None = Field(None, description="entity-currency units per original unit")
    memo: str = Field("", max_length=255)


class ManualEntryIn(Schema):
    date: date
    description: str = Field(..., min_length=1, max_length=255)
    reference: str = Field(
        ..., min_length=1, max_length=64, description="your reference; posting the same one twice is refused"
    )
    lines: list[LineIn] = Field(..., min_length=2, max_length=500)


class ReverseIn(Schema):
    on: date | None = Field(
        None, description="date of the reversal (default: the original's, if its period is open)"
    )
    description: str | None = Field(None, max_length=255)


class PeriodOut(Schema):
    key: str
    start: date
    end: date
    status: str
    closed_at: datetime | None
    closed_by: str
    reopen_count: int


class ReopenIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


def entry_out(view: Any) -> dict[str, Any]:
    return {
        "id": view.id,
        "entity_id": view.entity_id,
        "number": view.number,
        "date": view.date,
        "period": view.period,
        "description": view.description,
        "source": {"app": view.source_app, "type": view.source_type, "id": view.source_id},
        "purpose": view.purpose,
        "currency": view.currency,
        "total": money(view.total),
        "reverses_id": view.reverses_id,
        "reverses_number": view.reverses_number,
        "reversed_by_id": view.reversed_by_id,
        "reversed_by_number": view.reversed_by_number,
        "posted_at": view.posted_at,
        "posted_by": view.posted_by,
        "lines": [
            {
                "line_no": ln.line_no,
                "account_id": ln.account_id,
                "account_code": ln.account_code,
                "account_name": ln.account_name,
                "debit": money(ln.debit),
                "credit": money(ln.credit),
                "original": money(ln.original),
                "rate": None if ln.rate is None else str(ln.rate),
                "memo": ln.memo,
            }
            for ln in view.lines
        ],
    }
