"""Ledger pages: books, chart of accounts, trial balance, general ledger, journal, entries and
periods. Reports download as CSV or XLSX with ``?format=csv|xlsx`` on the same page.

Thin: every view signs in (``login_required``), checks roles with ``require`` and calls
``queries`` or ``services``. Reading needs finance or viewer; writing needs finance; reopening a
period needs admin (admins pass everywhere). Domain errors become an error page with their
status (403, 404, 409, 422) and nothing is written.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.core import clock
from q2c.core.errors import DomainError, ValidationError
from q2c.core.periods import month_end
from q2c.ledger import exports, queries, services
from q2c.ledger.chart import AccountType
from q2c.ledger.domain import parse_month
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)
PAGE_SIZE = 50


def _error_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "ledger/error.html", {"error": exc}, status=exc.status)


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; a domain error raised inside becomes an error page with its status."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return _error_page(request, exc)

    return login_required(wrapper)


def _date(request: HttpRequest, name: str) -> date | None:
    raw = request.GET.get(name, "").strip()
    return clock.parse_date(raw, field=name) if raw else None


def _download(
    request: HttpRequest, stem: str, title: str, table: tuple[list[str], Any]
) -> HttpResponse | None:
    fmt = request.GET.get("format", "")
    if not fmt:
        return None
    headers, rows = table
    if fmt == "csv":
        response = HttpResponse(exports.csv_text(headers, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.csv"'
        return response
    if fmt == "xlsx":
        response = HttpResponse(
            exports.xlsx_bytes(title, headers, rows),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{stem}.xlsx"'
        return response
    raise ValidationError("format is csv or xlsx", code="ledger.invalid_format", field="format")


def _base(request: HttpRequest, entity_id: int, section: str) -> dict[str, Any]:
    book = queries.book(entity_id)
    have = roles_of(request.user)
    return {
        "book": book,
        "entity_id": entity_id,
        "section": section,
        "can_write": bool(have & {Role.ADMIN, Role.FINANCE}),
        "is_admin": Role.ADMIN in have,
    }


# --- pages --------------------------------------------------------------------------------------
@require_GET
@page
def index(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    books = queries.books()
    if len(books) == 1:
        return redirect("ledger:trial_balance", entity_id=books[0].entity_id)
    return render(request, "ledger/index.html", {"books": books})


@require_GET
@page
def trial_balance(request: HttpRequest, entity_id: int) -> HttpResponse:
    require(request, *READ)
    as_of = _date(request, "as_of") or clock.today()
    tb = queries.trial_balance(entity_id, as_of)
    stem = f"trial-balance-{entity_id}-{as_of.isoformat()}"
    download = _download(request, stem, "Trial balance", exports.trial_balance_table(tb))
    if download:
        return download
    ctx = _base(request, entity_id, "trial_balance") | {"tb": tb, "as_of": as_of}
    return render(request, "ledger/trial_balance.html", ctx)


@require_http_methods(["GET", "POST"])
@page
def accounts(request: HttpRequest, entity_id: int) -> HttpResponse:
    if request.method == "POST":
        user = require(request, *WRITE)
        form = {k: request.POST.get(k, "").strip() for k in ("code", "name", "type", "key")}
        try:
            account = services.create_account(
                entity_id,
                code=form["code"],
                name=form["name"],
                type=form["type"],
                key=form["key"] or None,
                actor=user.get_username(),
            )
        except DomainError as exc:
            if exc.status == 403:
                raise
            ctx = _base(request, entity_id, "accounts") | {
                "accounts": queries.accounts(entity_id),
                "types": [t.value for t in AccountType],
                "form": form,
                "form_error": exc,
            }
            return render(request, "ledger/accounts.html", ctx, status=exc.status)
        messages.success(request, f"Account {account} added.")
        return redirect("ledger:accounts", entity_id=entity_id)
    require(request, *READ)
    ctx = _base(request, entity_id, "accounts") | {
        "accounts": queries.accounts(entity_id),
        "types": [t.value for t in AccountType],
        "form": {},
    }
    return render(request, "ledger/accounts.html", ctx)


@require_GET
@page
def general_ledger(request: HttpRequest, entity_id: int, account_id: int) -> HttpResponse:
    require(request, *READ)
    today = clock.today()
    date_from = _date(request, "date_from") or today.replace(day=1)
    date_to = _date(request, "date_to") or month_end(today)
    gl = queries.general_ledger(entity_id, account_id, date_from=date_from, date_to=date_to)
    stem = f"ledger-{entity_id}-{gl.account.code}-{date_from.isoformat()}-{date_to.isoformat()}"
    download = _download(
        request, stem, f"{gl.account.code} {gl.account.name}", exports.general_ledger_table(gl)
    )
    if download:
        return download
    ctx = _base(request, entity_id, "accounts") | {"gl": gl, "date_from": date_from, "date_to": date_to}
    return render(request, "ledger/general_ledger.html", ctx)


def _journal_filter(request: HttpRequest) -> queries.JournalFilter:
    g = request.GET
    period = g.get("period", "").strip() or None
    if period:
        parse_month(period)
    account_raw = g.get("account", "").strip()
    try:
        account_id = int(account_raw) if account_raw else None
    except ValueError:
        raise ValidationError(
            "account must be an account id", code="ledger.invalid_filter", field="account"
        ) from None
    return queries.JournalFilter(
        date_from=_date(request, "date_from"),
        date_to=_date(request, "date_to"),
        period=period,
        account_id=account_id,
        source_app=g.get("source_app", "").strip()[:40] or None,
        source_type=g.get("source_type", "").strip()[:40] or None,
        source_id=g.get("source_id", "").strip()[:64] or None,
        text=g.get("q", "").strip()[:100] or None,
    )


@require_GET
@page
def journal(request: HttpRequest, entity_id: int) -> HttpResponse:
    require(request, *READ)
    queries.book(entity_id)
    filters = _journal_filter(request)
    fmt = request.GET.get("format", "")
    if fmt:
        rows = exports.journal_table_rows(entity_id, filters)
        download = _download(request, f"journal-{entity_id}", "Journal", (exports.JOURNAL_HEADERS, rows))
        assert download is not None
        return download
    try:
        number = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        number = 1
    views, total = queries.journal(entity_id, filters, limit=PAGE_SIZE, offset=(number - 1) * PAGE_SIZE)
    ctx = _base(request, entity_id, "journal") | {
        "entries": views,
        "total": total,
        "page": number,
        "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "filters": filters,
        "accounts": queries.accounts(entity_id),
        "q": request.GET,
    }
    return render(request, "ledger/journal.html", ctx)


@require_GET
@page
def entry(request: HttpRequest, entity_id: int, entry_id: int) -> HttpResponse:
    require(request, *READ)
    ctx = _base(request, entity_id, "journal") | {"entry": queries.entry(entity_id, entry_id)}
    return render(request, "ledger/entry.html", ctx)


@require_POST
@page
def reverse(request: HttpRequest, entity_id: int, entry_id: int) -> HttpResponse:
    user = require(request, *WRITE)
    queries.entry(entity_id, entry_id)  # 404 unless it is this entity's entry
    raw = request.POST.get("on", "").strip()
    on = clock.parse_date(raw, field="on") if raw else None
    reversal = services.reverse(entry_id, on=on, actor=user.get_username())
    messages.success(request, f"Posted {reversal.number}, reversing the entry.")
    return redirect("ledger:entry", entity_id=entity_id, entry_id=reversal.pk)


@require_GET
@page
def periods(request: HttpRequest, entity_id: int) -> HttpResponse:
    require(request, *READ)
    ctx = _base(request, entity_id, "periods") | {"periods": queries.periods(entity_id)}
    return render(request, "ledger/periods.html", ctx)


@require_POST
@page
def close_period(request: HttpRequest, entity_id: int, period: str) -> HttpResponse:
    user = require(request, *WRITE)
    closed = services.close_period(entity_id, parse_month(period), actor=user.get_username())
    messages.success(request, f"Period {closed.key} closed.")
    return redirect("ledger:periods", entity_id=entity_id)


@require_POST
@page
def reopen_period(request: HttpRequest, entity_id: int, period: str) -> HttpResponse:
    user = require(request, Role.ADMIN)
    reason = request.POST.get("reason", "").strip()
    if not reason:
        raise ValidationError("say why the period is reopened", code="ledger.reason_required", field="reason")
    opened = services.reopen_period(entity_id, parse_month(period), user=user, reason=reason)
    messages.success(request, f"Period {opened.key} reopened.")
    return redirect("ledger:periods", entity_id=entity_id)
