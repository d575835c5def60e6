"""Cash application pages (``/cash/``): the workbench queue (lines the matcher did not apply:
proposed, unidentified), a bank-file upload, a button that matches what is new, the lines applied
and set aside; one line with its proposal and alternatives (accept), a form to apply it by hand
(split over invoices, reassign, bank fee) with a search of open invoices, and "not ours".

Thin: every view signs in, checks roles with ``require`` before looking anything up, and calls
``queries``/``services``. Domain errors become an error page with their status; nothing is
written then.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from q2c.core.errors import DomainError
from q2c.payments.cash import errors, queries
from q2c.payments.cash.models import LineState
from q2c.payments.cash.services import importing, matching, workbench
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)
PAGE_SIZE = 50
SPLIT_ROWS = 5
MAX_UPLOAD = 20 * 1024 * 1024


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; a domain error raised inside becomes an error page with its status."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "payments_cash/error.html", {"error": exc}, status=exc.status)

    return login_required(wrapper)


def _can_write(request: HttpRequest) -> bool:
    return bool(roles_of(request.user) & {Role.ADMIN, Role.FINANCE})


@require_GET
@page
def index(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    state = request.GET.get("state", "open") or "open"
    search = request.GET.get("q", "").strip()[:100]
    rows = queries.lines(state, search=search)
    total = rows.count()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(int(request.GET["page"]) if request.GET.get("page", "").isdigit() else 1, 1), pages)
    return render(
        request,
        "payments_cash/index.html",
        {
            "lines": list(rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]),
            "state": state,
            "states": ["open", *[s.value for s in LineState]],
            "q": search,
            "page": number,
            "pages": pages,
            "total": total,
            "files": list(queries.files()[:5]),
            "runs": list(queries.runs()[:5]),
            "accounts": queries.bank_accounts(),
            "can_write": _can_write(request),
        },
    )


@require_POST
@page
def upload(request: HttpRequest) -> HttpResponse:
    require(request, *WRITE)
    upload = request.FILES.get("file")
    if upload is None:
        raise errors.CashInvalid("choose a bank file to import", field="file")
    if upload.size is not None and upload.size > MAX_UPLOAD:
        raise errors.CashInvalid(
            f"the file is larger than {MAX_UPLOAD // (1024 * 1024)} MB; import it with q2c bank import",
            code=errors.FILE_TOO_LARGE,
            field="file",
        )
    raw_account = request.POST.get("bank_account_id", "")
    report = importing.import_file(
        upload.read(),
        file_name=upload.name or "",
        bank_account_id=int(raw_account) if raw_account.isdigit() else None,
        actor=request.user,
    )
    text = (
        f"{upload.name}: {report['format']}, {report['saved_lines']} new lines, "
        f"{report['duplicates']} duplicates"
    )
    if report.get("file_id"):
        run = matching.run_matching(file_id=report["file_id"], actor=request.user)
        text += f"; {run['applied']} applied, {run['proposed']} proposed, {run['unidentified']} unidentified"
    messages.success(request, text)
    for warning in report["warnings"]:
        messages.warning(request, f"{warning['message']} ({warning['code']})")
    return redirect("payments_cash:index")


@require_POST
@page
def match(request: HttpRequest) -> HttpResponse:
    require(request, *WRITE)
    run = matching.run_matching(rematch=request.POST.get("rematch") == "1", actor=request.user)
    messages.success(
        request,
        f"Matched {run['lines']} lines: {run['applied']} applied, {run['proposed']} proposed, "
        f"{run['unidentified']} unidentified, {run['not_receivable']} not receivable",
    )
    return redirect("payments_cash:index")


@require_GET
@page
def line_detail(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *READ)
    row = queries.line(line_id)
    data = queries.line_out(row, detail=True)
    search = request.GET.get("q", "").strip()[:100]
    customer = data["proposal"]["customer_id"] if data["proposal"] else None
    candidates = queries.open_invoices(row, search=search, customer_id=None if search else customer)
    if not candidates and not search:
        candidates = queries.open_invoices(row)
    return render(
        request,
        "payments_cash/line.html",
        {
            "line": data,
            "open": row.state in ("new", "proposed", "unidentified"),
            "candidates": candidates,
            "q": search,
            "rows": range(SPLIT_ROWS),
            "can_write": _can_write(request),
        },
    )


@require_POST
@page
def accept(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *WRITE)
    raw = request.POST.get("alternative", "")
    workbench.accept(line_id, alternative=int(raw) if raw.isdigit() else None, actor=request.user)
    messages.success(request, "Applied.")
    return redirect("payments_cash:line", line_id=line_id)


@require_POST
@page
def apply(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *WRITE)
    allocations = []
    for i in range(SPLIT_ROWS):
        invoice = request.POST.get(f"invoice_{i}", "").strip()
        amount = request.POST.get(f"amount_{i}", "").strip()
        if not invoice and not amount:
            continue
        if not invoice.isdigit():
            raise errors.CashInvalid(
                "choose the invoice of each row with an amount", field=f"allocations[{i}].invoice_id"
            )
        allocations.append(
            {
                "invoice_id": int(invoice),
                "amount": amount,
                "fee": request.POST.get(f"fee_{i}", "").strip() or "0",
            }
        )
    workbench.apply_manual(line_id, allocations, note=request.POST.get("note", "")[:500], actor=request.user)
    messages.success(request, "Applied.")
    return redirect("payments_cash:line", line_id=line_id)


@require_POST
@page
def not_ours(request: HttpRequest, line_id: int) -> HttpResponse:
    require(request, *WRITE)
    workbench.mark_not_ours(line_id, note=request.POST.get("note", "")[:500], actor=request.user)
    messages.success(request, "Set aside as not accounts receivable.")
    return redirect("payments_cash:line", line_id=line_id)
