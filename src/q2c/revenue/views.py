"""Revenue pages (the "Revenue" section, ``/revenue/``): recognition runs (start one, read the
latest), closing a month, the reports (waterfall, deferred revenue roll-forward, disaggregation,
contract positions, remaining performance obligations) with CSV downloads, and a contract's
obligations, allocation, schedules and modification decisions.

Thin: every view signs in, checks roles with ``require`` before looking anything up, and calls
``queries``/``services``/``run``. Domain errors become an error page with their status; nothing
is written. Must not import any q2c app above ``revenue``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from q2c.core import clock
from q2c.core.errors import DomainError, ValidationError
from q2c.platform.auth import require
from q2c.platform.roles import Role
from q2c.revenue import queries, services
from q2c.revenue import run as revenue_run

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "revenue/error.html", {"error": exc}, status=exc.status)

    return login_required(wrapper)


def _entities() -> list[Any]:
    from q2c.ledger.models import Book

    return list(Book.objects.order_by("entity_id"))


def _int(value: Any, field: str) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        raise ValidationError(f"{field} must be a number", code="revenue.invalid", field=field) from None


@require_GET
@page
def index(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    books = _entities()
    entity_id = _int(request.GET.get("entity") or (books[0].entity_id if books else 0), "entity")
    today = clock.today()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return render(
        request,
        "revenue/index.html",
        {
            "books": books,
            "entity_id": entity_id,
            "runs": queries.runs(entity_id or None, limit=24),
            "month": f"{last_month:%Y-%m}",
            "start": f"{date(today.year, 1, 1):%Y-%m}",
            "reports": queries.REPORTS,
            "may_write": _may(request, WRITE),
        },
    )


def _may(request: HttpRequest, roles: tuple[Role, ...]) -> bool:
    try:
        require(request, *roles)
    except DomainError:
        return False
    return True


@require_POST
@page
def start_run(request: HttpRequest) -> HttpResponse:
    user = require(request, *WRITE)
    entity_id = _int(request.POST.get("entity"), "entity")
    result = revenue_run.recognise(
        entity_id, services.month_of(request.POST.get("period", "")), actor=user.get_username()
    )
    messages.success(
        request,
        f"Revenue {result['period']}: {result['recognised']} {result['currency']} recognised, {result['lines']} lines"
        + (f", entry {result['entry']}" if result["entry"] else ", nothing new to post"),
    )
    return redirect(f"/revenue/?entity={entity_id}")


@require_POST
@page
def close(request: HttpRequest) -> HttpResponse:
    user = require(request, *WRITE)
    entity_id = _int(request.POST.get("entity"), "entity")
    result = services.close_period(entity_id, request.POST.get("period", ""), actor=user.get_username())
    messages.success(request, f"Period {result['period']} closed (revenue and ledger).")
    return redirect(f"/revenue/?entity={entity_id}")


@require_GET
@page
def report(request: HttpRequest, kind: str) -> HttpResponse:
    require(request, *READ)
    entity_id = _int(request.GET.get("entity"), "entity")
    start = request.GET.get("start") or f"{clock.today():%Y}-01"
    months = _int(request.GET.get("months") or 12, "months")
    by = request.GET.get("by") or "contract"
    result = queries.report(kind, entity_id, services.month_of(start), months, by)
    if request.GET.get("format") == "csv":
        response = HttpResponse(result.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="revenue-{kind}-{start}.csv"'
        return response
    return render(
        request,
        "revenue/report.html",
        {"report": result, "kind": kind, "entity_id": entity_id, "start": start, "months": months, "by": by,
         "reports": queries.REPORTS},
    )  # fmt: skip


@require_GET
@page
def contract(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *READ)
    return render(request, "revenue/contract.html", {"c": queries.contract(contract_id)})
