"""Collections pages (``/dunning/``): the worklist of overdue accounts ranked by amount × age, an
account's collection file (overdue invoices, the dunning log with each document sent, promises to
pay, notes and next actions) with the forms finance uses, the document of one log entry, the
policies, and a button to run the job for a date.

Thin: every view signs in, checks roles before looking anything up, and calls queries/services.
Domain errors become an error page with their status; nothing is written.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.payments.dunning import errors, queries, services
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; a domain error raised inside becomes an error page with its status."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "payments_dunning/error.html", {"error": exc}, status=exc.status)

    return login_required(wrapper)


def _can_write(request: HttpRequest) -> bool:
    return bool(roles_of(request.user) & {Role.ADMIN, Role.FINANCE})


def _date(value: str, field: str) -> Any:
    value = (value or "").strip()
    return clock.parse_date(value, field=field) if value else None


@require_GET
@page
def worklist(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    on = _date(request.GET.get("on", ""), "on") or clock.today()
    order = request.GET.get("order", "score")
    rows = queries.worklist(on, order=order)
    return render(request, "payments_dunning/worklist.html", {
        "rows": rows, "on": on, "order": order, "orders": queries.ORDERS, "can_write": _can_write(request),
        "runs": list(queries.runs()[:10]),
    })  # fmt: skip


@require_GET
@page
def account(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *READ)
    acct = queries.account(account_id)
    today = clock.today()
    return render(request, "payments_dunning/account.html", {
        "account": acct, "today": today, "invoices": [(i, (today - i.due_date).days) for i in queries.overdue_invoices(account_id, today)],
        "entries": list(queries.entries(account_id=account_id)[:200]),
        "promises": list(queries.promises(account_id=account_id)[:50]),
        "notes": list(queries.notes(account_id)[:100]),
        "retries": list(queries.retries(account_id=account_id)[:50]),
        "can_write": _can_write(request),
    })  # fmt: skip


@require_GET
@page
def entry(request: HttpRequest, entry_id: int) -> HttpResponse:
    require(request, *READ)
    return render(request, "payments_dunning/entry.html", {"entry": queries.entry(entry_id)})


@require_GET
@page
def policies(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    return render(request, "payments_dunning/policies.html", {"policies": queries.policies()})


@require_POST
@page
def record_promise(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *WRITE)
    p = request.POST
    promised = _date(p.get("promised_date", ""), "promised_date")
    if promised is None:
        raise errors.DunningInvalid(
            "give the promised date", code=errors.INVALID_PROMISE, field="promised_date"
        )
    ids = [int(i) for i in p.getlist("invoice_ids") if i.isdigit()]
    services.record_promise(
        account_id, promised_date=promised, amount=p.get("amount", "").strip(), invoice_ids=ids or None,
        notes=p.get("notes", ""), next_action=p.get("next_action", ""), actor=request.user,
    )  # fmt: skip
    messages.success(request, f"Promise to pay by {promised} recorded; dunning pauses until then.")
    return redirect("payments_dunning:account", account_id=account_id)


@require_POST
@page
def add_note(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *WRITE)
    p = request.POST
    services.add_note(
        account_id, text=p.get("text", ""), next_action=p.get("next_action", ""),
        next_action_on=_date(p.get("next_action_on", ""), "next_action_on"), actor=request.user,
    )  # fmt: skip
    messages.success(request, "Note added.")
    return redirect("payments_dunning:account", account_id=account_id)


@require_POST
@page
def close_promise(request: HttpRequest, promise_id: int) -> HttpResponse:
    require(request, *WRITE)
    promise = services.close_promise(
        promise_id, status=request.POST.get("status", "cancelled"), actor=request.user
    )
    messages.success(request, f"Promise closed as {promise.status}.")
    return redirect("payments_dunning:account", account_id=promise.account_id)


@require_POST
@page
def run(request: HttpRequest) -> HttpResponse:
    require(request, *WRITE)
    day = _date(request.POST.get("business_date", ""), "business_date") or clock.today()
    result = services.run_date(day, actor=request.user)
    messages.success(
        request, f"Dunning for {day}: {result['actions']} steps carried out, {result['skipped']} skipped, "
        f"{result['paused']} paused, {result['fees']} fee invoices.",
    )  # fmt: skip
    return redirect("payments_dunning:worklist")
