"""The ledger's JSON API (``/api/v1/ledger/…``): books, chart, trial balance, general ledger,
journal, manual entries, reversals and period locks. Thin: each endpoint checks roles first, then
calls ``queries`` or ``services``. Roles (docs/permissions.md): reading needs finance or viewer;
writing needs finance; reopening a period and opening a book need admin (admins pass everywhere).

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field as NinjaField
from ninja import Query, Router, Schema
from ninja.responses import Status

from q2c.core.errors import ValidationError
from q2c.core.money import Money, to_decimal
from q2c.ledger import queries, services
from q2c.ledger.domain import DraftLine, parse_month
from q2c.ledger.schemas import (
    AccountIn,
    AccountOut,
    BookIn,
    BookOut,
    EntryOut,
    EntryPage,
    GeneralLedgerOut,
    LineIn,
    ManualEntryIn,
    PeriodOut,
    ReopenIn,
    ReverseIn,
    TrialBalanceOut,
    entry_out,
    money,
)
from q2c.platform.auth import api_auth, require
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["ledger"])

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    return user.get_username() if user is not None and hasattr(user, "get_username") else ""


def _account_out(a: Any) -> dict[str, Any]:
    return {
        "id": a.pk,
        "code": a.code,
        "name": a.name,
        "type": a.type,
        "normal_side": a.normal_side,
        "key": a.key,
        "is_active": a.is_active,
    }


def _period_out(p: Any) -> dict[str, Any]:
    return {
        "key": p.key,
        "start": p.start,
        "end": p.end,
        "status": p.status,
        "closed_at": p.closed_at,
        "closed_by": p.closed_by,
        "reopen_count": p.reopen_count,
    }


# --- books and accounts -------------------------------------------------------------------------
@router.get("/books", response=list[BookOut], operation_id="ledger_list_books")
def list_books(request: HttpRequest) -> list[Any]:
    require(request, *READ)
    return queries.books()


@router.post("/books", response={201: BookOut}, operation_id="ledger_open_book")
def open_book(request: HttpRequest, payload: BookIn) -> Status[Any]:
    require(request, Role.ADMIN)
    book = services.open_book(
        payload.entity_id,
        payload.currency,
        name=payload.name,
        rounding=payload.rounding,
        actor=_actor(request),
    )
    return Status(201, book)


@router.get("/{entity_id}/accounts", response=list[AccountOut], operation_id="ledger_list_accounts")
def list_accounts(request: HttpRequest, entity_id: int) -> list[dict[str, Any]]:
    require(request, *READ)
    queries.book(entity_id)
    return [_account_out(a) for a in queries.accounts(entity_id)]


@router.post("/{entity_id}/accounts", response={201: AccountOut}, operation_id="ledger_create_account")
def create_account(request: HttpRequest, entity_id: int, payload: AccountIn) -> Status[dict[str, Any]]:
    require(request, *WRITE)
    account = services.create_account(
        entity_id,
        code=payload.code,
        name=payload.name,
        type=payload.type,
        key=payload.key,
        actor=_actor(request),
    )
    return Status(201, _account_out(account))


# --- reports ------------------------------------------------------------------------------------
@router.get("/{entity_id}/trial-balance", response=TrialBalanceOut, operation_id="ledger_get_trial_balance")
def trial_balance(request: HttpRequest, entity_id: int, as_of: date | None = None) -> dict[str, Any]:
    require(request, *READ)
    tb = queries.trial_balance(entity_id, as_of)
    return {
        "entity_id": tb.entity_id,
        "currency": tb.currency,
        "as_of": tb.as_of,
        "rows": [
            {
                "account_id": r.account_id,
                "code": r.code,
                "name": r.name,
                "type": r.type,
                "key": r.key,
                "debits": money(r.debits),
                "credits": money(r.credits),
                "debit_balance": money(r.debit_balance),
                "credit_balance": money(r.credit_balance),
            }
            for r in tb.rows
        ],
        "total_debit": money(tb.total_debit),
        "total_credit": money(tb.total_credit),
    }


@router.get(
    "/{entity_id}/accounts/{account_id}/ledger",
    response=GeneralLedgerOut,
    operation_id="ledger_get_general_ledger",
)
def general_ledger(
    request: HttpRequest,
    entity_id: int,
    account_id: int,
    date_from: date | None = None,
    date_to: date | None = None,
) -> dict[str, Any]:
    require(request, *READ)
    gl = queries.general_ledger(entity_id, account_id, date_from=date_from, date_to=date_to)
    return {
        "account": _account_out(gl.account),
        "date_from": gl.date_from,
        "date_to": gl.date_to,
        "opening": money(gl.opening),
        "lines": [
            {
                "entry_id": ln.entry_id,
                "number": ln.number,
                "date": ln.date,
                "description": ln.description,
                "source": ln.source,
                "debit": money(ln.debit),
                "credit": money(ln.credit),
                "balance": money(ln.balance),
                "original": money(ln.original),
                "rate": None if ln.rate is None else str(ln.rate),
                "memo": ln.memo,
            }
            for ln in gl.lines
        ],
        "total_debit": money(gl.total_debit),
        "total_credit": money(gl.total_credit),
        "closing": money(gl.closing),
    }


class JournalQuery(Schema):
    date_from: date | None = None
    date_to: date | None = None
    period: str | None = NinjaField(None, description="YYYY-MM")
    account_id: int | None = None
    source_app: str | None = NinjaField(None, max_length=40)
    source_type: str | None = NinjaField(None, max_length=40)
    source_id: str | None = NinjaField(None, max_length=64)
    q: str | None = NinjaField(None, max_length=100, description="text in the description or number")
    page: int = NinjaField(1, ge=1)
    page_size: int = NinjaField(50, ge=1, le=200)


def journal_filter(q: Any) -> queries.JournalFilter:
    if q.period:
        parse_month(q.period)
    return queries.JournalFilter(
        date_from=q.date_from,
        date_to=q.date_to,
        period=q.period or None,
        account_id=q.account_id,
        source_app=q.source_app or None,
        source_type=q.source_type or None,
        source_id=q.source_id or None,
        text=q.q or None,
    )


@router.get("/{entity_id}/entries", response=EntryPage, operation_id="ledger_list_entries")
def list_entries(request: HttpRequest, entity_id: int, filters: Query[JournalQuery]) -> dict[str, Any]:
    require(request, *READ)
    views, total = queries.journal(
        entity_id,
        journal_filter(filters),
        limit=filters.page_size,
        offset=(filters.page - 1) * filters.page_size,
    )
    return {
        "items": [entry_out(v) for v in views],
        "page": filters.page,
        "page_size": filters.page_size,
        "total": total,
        "pages": max(1, math.ceil(total / filters.page_size)),
    }


@router.get("/{entity_id}/entries/{entry_id}", response=EntryOut, operation_id="ledger_get_entry")
def get_entry(request: HttpRequest, entity_id: int, entry_id: int) -> dict[str, Any]:
    require(request, *READ)
    return entry_out(queries.entry(entity_id, entry_id))


def _line(entity_currency: str, i: int, line: LineIn) -> DraftLine:
    where = f"lines[{i}]"

    def amount(text: str | None, currency: str, field: str) -> Money | None:
        if text is None:
            return None
        return Money(to_decimal(text, field=f"{where}.{field}"), currency)

    original = None
    if line.original_amount is not None or line.original_currency is not None:
        if not (line.original_amount and line.original_currency):
            raise ValidationError(
                "give both original_amount and original_currency",
                code="ledger.invalid_line",
                field=f"{where}.original",
            )
        original = amount(line.original_amount, line.original_currency.upper(), "original_amount")
    rate: Decimal | None = None if line.rate is None else to_decimal(line.rate, field=f"{where}.rate")
    return DraftLine(
        line.account,
        debit=amount(line.debit, entity_currency, "debit"),
        credit=amount(line.credit, entity_currency, "credit"),
        original=original,
        rate=rate,
        memo=line.memo,
    )


@router.post("/{entity_id}/entries", response={201: EntryOut}, operation_id="ledger_create_entry")
def create_entry(request: HttpRequest, entity_id: int, payload: ManualEntryIn) -> Status[dict[str, Any]]:
    require(request, *WRITE)
    book = queries.book(entity_id)
    lines = [_line(book.currency, i, ln) for i, ln in enumerate(payload.lines)]
    entry = services.post_manual(
        entity_id,
        date=payload.date,
        description=payload.description,
        reference=payload.reference,
        lines=lines,
        actor=_actor(request),
    )
    return Status(201, entry_out(queries.entry(entity_id, entry.pk)))


@router.post(
    "/{entity_id}/entries/{entry_id}/reverse", response={201: EntryOut}, operation_id="ledger_reverse_entry"
)
def reverse_entry(
    request: HttpRequest, entity_id: int, entry_id: int, payload: ReverseIn
) -> Status[dict[str, Any]]:
    require(request, *WRITE)
    queries.entry(entity_id, entry_id)  # 404 unless the entry is this entity's
    reversal = services.reverse(
        entry_id, on=payload.on, description=payload.description, actor=_actor(request)
    )
    return Status(201, entry_out(queries.entry(entity_id, reversal.pk)))


# --- periods ------------------------------------------------------------------------------------
@router.get("/{entity_id}/periods", response=list[PeriodOut], operation_id="ledger_list_periods")
def list_periods(request: HttpRequest, entity_id: int) -> list[dict[str, Any]]:
    require(request, *READ)
    return [_period_out(p) for p in queries.periods(entity_id)]


@router.post("/{entity_id}/periods/{period}/close", response=PeriodOut, operation_id="ledger_close_period")
def close_period(request: HttpRequest, entity_id: int, period: str) -> dict[str, Any]:
    require(request, *WRITE)
    return _period_out(services.close_period(entity_id, parse_month(period), actor=_actor(request)))


@router.post("/{entity_id}/periods/{period}/reopen", response=PeriodOut, operation_id="ledger_reopen_period")
def reopen_period(request: HttpRequest, entity_id: int, period: str, payload: ReopenIn) -> dict[str, Any]:
    user = require(request, Role.ADMIN)
    return _period_out(
        services.reopen_period(entity_id, parse_month(period), user=user, reason=payload.reason)
    )
