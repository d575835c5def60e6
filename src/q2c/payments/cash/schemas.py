"""Request and response shapes of the cash-application API. Amounts are decimal text in the
line's currency; dates ``YYYY-MM-DD``.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import StrictInt, StrictStr


class CashAccountOut(Schema):
    bank_account_id: int
    entity_id: int
    iban: str
    label: str
    currency: str
    fee_tolerance: str
    auto_threshold: int
    csv_mapping: dict[str, Any] | None


class CashAccountIn(Schema):
    fee_tolerance: StrictStr | None = Field(
        None, examples=["20.00"], description="short payments up to this are a bank fee"
    )
    auto_threshold: StrictInt | None = Field(None, examples=[90], description="50–99")
    csv_mapping: dict[str, Any] | None = Field(
        None, description="the column mapping of the account's CSV exports"
    )
    clear_mapping: bool = False


class CashImportOut(Schema):
    format: str
    statements: int
    entries: int
    transaction_details: int
    totals: dict[str, dict[str, str]]
    duplicates: int
    warnings: list[dict[str, Any]]
    saved: bool
    file_id: int | None = None
    saved_statements: int | None = None
    saved_lines: int | None = None
    matching: dict[str, Any] | None = None


class CashFileOut(Schema):
    id: int
    entity_id: int
    sha256: str
    format: str
    file_name: str
    statements: int
    lines: int
    saved_lines: int
    duplicates: int
    warnings: list[dict[str, Any]]
    created_at: datetime
    created_by: str


class CashRunIn(Schema):
    entity_id: int | None = None
    rematch: bool = Field(False, description="also retry proposed and unidentified lines")


class CashRunSummaryOut(Schema):
    runs: list[int]
    lines: int
    applied: int
    proposed: int
    unidentified: int
    not_receivable: int
    returned: int = 0
    timings: dict[str, float] = {}


class CashRunOut(Schema):
    id: int
    entity_id: int
    started_at: datetime
    finished_at: datetime | None
    lines: int
    applied: int
    proposed: int
    unidentified: int
    not_receivable: int
    created_by: str


class CashLineFilterIn(Schema):
    state: str | None = Field(
        None,
        description="open (the workbench queue) or new, applied, proposed, unidentified, not_receivable, not_ours, pending",
    )
    search: str = Field("", max_length=100, description="in the remittance text, payer name or IBAN")


class CashLineOut(Schema):
    id: int
    bank_account_id: int
    statement_id: int
    state: str
    currency: str
    amount: str
    booking_date: date | None
    value_date: date | None
    booking_status: str
    reversal: bool
    remittance: str
    references: list[str]
    payer_name: str
    payer_iban: str
    end_to_end_id: str
    bank_reference: str
    confidence: int | None
    reasons: list[dict[str, Any]]
    customer_id: int | None
    unapplied: str
    resolved_by: str
    resolved_at: datetime | None


class CashProposalOut(Schema):
    customer_id: int | None
    customer: str
    confidence: int
    currency: str
    fee: str
    unapplied: str
    applications: list[dict[str, Any]]
    reasons: list[dict[str, Any]]


class CashLineDetailOut(CashLineOut):
    proposal: CashProposalOut | None
    alternatives: list[CashProposalOut]
    applications: list[dict[str, Any]]


class CashAcceptIn(Schema):
    alternative: StrictInt | None = Field(
        None, description="accept the n-th alternative (from 0) instead of the proposal"
    )
    note: str = Field("", max_length=500)


class CashAllocationIn(Schema):
    invoice_id: StrictInt = Field(..., examples=[1])
    amount: StrictStr = Field(..., examples=["166.41"])
    fee: StrictStr = Field("0", examples=["0"])


class CashApplyIn(Schema):
    allocations: list[CashAllocationIn] = Field(..., min_length=1, max_length=50)
    note: str = Field("", max_length=500)


class CashNotOursIn(Schema):
    note: str = Field(..., min_length=1, max_length=500, examples=["tax office refund"])


class CashOpenInvoiceOut(Schema):
    invoice_id: int
    number: str
    customer_id: int
    customer: str
    due_date: date | None
    open: str
    currency: str
