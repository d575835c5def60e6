"""Billing pages (the "Billing" section, ``/billing/``): bill runs — start one, follow its
progress, read its results —, the invoice list (filters, aging, totals), an invoice with its lines
and where each comes from (contract line, schedule and billed period), its credit notes, documents
and deliveries, the actions finance takes on an invoice (issue a draft, credit note, re-issue,
void, write off), and a credit note.

The invoice pages live here rather than in ``invoicing`` because the Billing section shows each
line's source in billing's terms (schedules, billed items); invoicing stays a lower layer.

Thin: every view signs in (``login_required``), checks roles with ``require`` before looking
anything up, and calls ``queries``/``services``/``run``. Domain errors become an error page with
their status (403, 404, 409, 422) and nothing is written.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.billing import queries as billing_queries
from q2c.billing import run as billing_run
from q2c.billing import tasks
from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.invoicing import queries, services
from q2c.invoicing.domain import CreditReason, InvoiceStatus
from q2c.invoicing.errors import InvalidCredit
from q2c.invoicing.services import documents as invoice_documents
from q2c.platform.auth import require
from q2c.platform.events import enqueue_after_commit
from q2c.platform.roles import Role, roles_of

READ = (Role.FINANCE, Role.VIEWER)
WRITE = (Role.FINANCE,)
PAGE_SIZE = 50


def page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Sign-in required; a domain error raised inside becomes an error page with its status."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except DomainError as exc:
            return render(request, "billing/error.html", {"error": exc}, status=exc.status)

    return login_required(wrapper)


def _can_write(request: HttpRequest) -> bool:
    have = roles_of(request.user)
    return bool(have & {Role.ADMIN, Role.FINANCE})


def _amount(minor: int, currency: str) -> Money:
    return Money.from_minor(int(minor), currency)


@require_GET
@page
def invoice_list(request: HttpRequest) -> HttpResponse:
    require(request, *READ)
    q = request.GET
    f = queries.InvoiceFilter(
        status=q.get("status", ""),
        currency=q.get("currency", "").strip(),
        issued_from=clock.parse_date(q["issued_from"], field="issued_from") if q.get("issued_from") else None,
        issued_to=clock.parse_date(q["issued_to"], field="issued_to") if q.get("issued_to") else None,
        overdue=q.get("overdue") == "1",
        bill_run_id=int(q["bill_run"]) if q.get("bill_run", "").isdigit() else None,
        account_id=int(q["account"]) if q.get("account", "").isdigit() else None,
        q=q.get("q", "").strip(),
    )
    qs = queries.invoices(f)
    summary = queries.summary(qs)
    total = summary.count
    pages = max(1, math.ceil(total / PAGE_SIZE))
    number = min(max(int(q["page"]) if q.get("page", "").isdigit() else 1, 1), pages)
    rows = list(qs[(number - 1) * PAGE_SIZE : number * PAGE_SIZE])
    return render(
        request,
        "billing/invoice_list.html",
        {
            "invoices": rows,
            "summary": summary,
            "buckets": queries.BUCKETS,
            "statuses": [s.value for s in InvoiceStatus],
            "q": q,
            "page": number,
            "pages": pages,
            "total": total,
        },
    )


@require_GET
@page
def invoice_detail(request: HttpRequest, invoice_id: int) -> HttpResponse:
    require(request, *READ)
    invoice = queries.invoice(invoice_id)
    lines = queries.lines(invoice_id)
    items = {}
    for item in billing_queries.items_of_invoice(invoice_id):
        items[f"{item.schedule_id}:{item.period_start.isoformat()}:{item.part}"] = item
    return render(
        request,
        "billing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": [(ln, items.get(ln.source_id)) for ln in lines],
            "open": _amount(invoice.open_minor, invoice.currency),
            "credit_notes": queries.credit_notes(invoice_id),
            "documents": queries.documents("invoice", invoice_id),
            "deliveries": queries.deliveries("invoice", invoice_id),
            "can_write": _can_write(request),
            "reasons": [r.value for r in CreditReason if r is not CreditReason.REISSUE],
            "creditable": [ln for ln in lines if ln.__dict__["net_minor"] > ln.__dict__["credited_minor"]],
        },
    )


def _back(invoice_id: int) -> HttpResponse:
    return redirect("billing:invoice", invoice_id=invoice_id)


@require_POST
@page
def issue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    require(request, *WRITE)
    invoice = services.issue(invoice_id, actor=request.user)
    messages.success(request, f"Invoice {invoice.number} issued.")
    return _back(invoice_id)


@require_POST
@page
def void(request: HttpRequest, invoice_id: int) -> HttpResponse:
    require(request, *WRITE)
    invoice = services.void(invoice_id, reason=request.POST.get("reason", ""), actor=request.user)
    messages.success(request, f"Invoice {invoice.number} voided.")
    return _back(invoice_id)


@require_POST
@page
def write_off(request: HttpRequest, invoice_id: int) -> HttpResponse:
    require(request, *WRITE)
    invoice = services.write_off(invoice_id, reason=request.POST.get("reason", ""), actor=request.user)
    messages.success(request, f"Invoice {invoice.number} written off.")
    return _back(invoice_id)


@require_POST
@page
def reissue(request: HttpRequest, invoice_id: int) -> HttpResponse:
    require(request, *WRITE)
    note, draft = services.reissue(invoice_id, reason=request.POST.get("reason", ""), actor=request.user)
    messages.success(request, f"Credit note {note.number} issued; the corrected copy is a draft.")
    return redirect("billing:invoice", invoice_id=draft.pk)


@require_POST
@page
def send_again(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """E-mail the stored documents again (``invoicing.services.documents.resend``): to the
    customer's address, or to the one typed in."""
    require(request, *WRITE)
    delivery = invoice_documents.resend("invoice", invoice_id, to=request.POST.get("to", ""), actor=request.user)
    messages.success(request, f"Sending again to {delivery.to}.")
    return _back(invoice_id)


@require_POST
@page
def send_credit_note_again(request: HttpRequest, note_id: int) -> HttpResponse:
    require(request, *WRITE)
    delivery = invoice_documents.resend("credit_note", note_id, to=request.POST.get("to", ""), actor=request.user)
    messages.success(request, f"Sending again to {delivery.to}.")
    return redirect("billing:credit_note", note_id=note_id)


@require_http_methods(["GET", "POST"])
@page
def credit_note_form(request: HttpRequest, invoice_id: int) -> HttpResponse:
    """The credit-note action: the whole invoice, or amounts per line, with a reason code."""
    require(request, *WRITE)
    invoice = queries.invoice(invoice_id)
    lines = queries.lines(invoice_id)
    error: DomainError | None = None
    if request.method == "POST":
        full = request.POST.get("full") == "1"
        chosen = []
        try:
            for ln in lines:
                raw = request.POST.get(f"amount_{ln.pk}", "").strip()
                if raw:
                    try:
                        chosen.append(services.CreditLine(ln.pk, amount=Decimal(raw)))
                    except InvalidOperation:
                        raise InvalidCredit(f"'{raw}' is not an amount", field=f"amount_{ln.pk}") from None
            note = services.credit(
                invoice_id,
                reason_code=request.POST.get("reason_code", ""),
                reason=request.POST.get("reason", ""),
                lines=chosen,
                full=full,
                actor=request.user,
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Credit note {note.number} issued.")
            return redirect("billing:credit_note", note_id=note.pk)
    return render(
        request,
        "billing/credit_note_form.html",
        {"invoice": invoice, "lines": lines, "reasons": [r.value for r in CreditReason], "error": error},
        status=error.status if error else 200,
    )


@require_GET
@page
def credit_note(request: HttpRequest, note_id: int) -> HttpResponse:
    require(request, *READ)
    note = queries.credit_note(note_id)
    return render(
        request,
        "billing/credit_note.html",
        {
            "note": note,
            "lines": queries.credit_note_lines(note_id),
            "documents": queries.documents("credit_note", note_id),
            "deliveries": queries.deliveries("credit_note", note_id),
            "can_write": _can_write(request),
        },
    )


@require_GET
@page
def document(request: HttpRequest, invoice_id: int, fmt: str) -> HttpResponse:
    require(request, *READ)
    f = queries.document_file("invoice", invoice_id, fmt)
    response = HttpResponse(bytes(f.content), content_type=f.content_type)
    response["Content-Disposition"] = f'attachment; filename="{f.filename}"'
    return response


# --------------------------------------------------------------------------- bill runs


@require_GET
@page
def index(request: HttpRequest) -> HttpResponse:
    """Billing's home: the bill runs, the form that starts one, the invoices' totals and aging."""
    require(request, *READ)
    runs = list(billing_queries.runs()[:30])
    summary = queries.summary(queries.invoices(queries.InvoiceFilter()))
    return render(
        request,
        "billing/index.html",
        {
            "runs": runs,
            "summary": summary,
            "buckets": queries.BUCKETS,
            "today": clock.today(),
            "can_write": _can_write(request),
        },
    )


@require_POST
@page
def start_run(request: HttpRequest) -> HttpResponse:
    """Start (or resume) the bill run of a date in the background; bad input is refused at once."""
    require(request, *WRITE)
    as_of = clock.parse_date(request.POST.get("as_of", "").strip(), field="as_of")
    workers = int(request.POST["workers"]) if request.POST.get("workers", "").isdigit() else 1
    billing_run.check(as_of)
    enqueue_after_commit(tasks.run_bill_run, as_of.isoformat(), workers, request.user.get_username())
    messages.success(request, f"The bill run of {as_of} has started.")
    found = billing_queries.runs().filter(as_of=as_of).first()
    return redirect("billing:run", run_id=found.pk) if found else redirect("billing:index")


@require_GET
@page
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's progress (the page refreshes itself while it runs) and results."""
    require(request, *READ)
    run = billing_queries.run(run_id)
    shards = billing_queries.shards(run_id)
    total = sum(s.accounts_total for s in shards) or run.accounts_total
    done = sum(s.accounts_done for s in shards) if run.status == "running" else run.accounts_done
    return render(
        request,
        "billing/run_detail.html",
        {
            "run": run,
            "shards": shards,
            "total": total,
            "done": done,
            "percent": int(100 * done / total) if total else (100 if run.status == "completed" else 0),
            "invoices_so_far": sum(s.invoices for s in shards),
        },
    )


@require_GET
@page
def usage_list(request: HttpRequest) -> HttpResponse:
    """The usage explorer's entry: usage subscriptions per customer (filter by account id)."""
    require(request, *READ)
    raw = request.GET.get("account", "").strip()
    account_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    rows = list(billing_queries.usage_subscriptions(account_id=account_id)[:200])
    from q2c.parties.models import Account

    names = dict(Account.objects.filter(pk__in={r.account_id for r in rows}).values_list("pk", "name"))
    return render(
        request,
        "billing/usage_list.html",
        {"rows": [(r, names.get(r.account_id, "")) for r in rows], "account": raw if account_id else ""},
    )


@require_GET
@page
def usage_detail(request: HttpRequest, schedule_id: int) -> HttpResponse:
    """One usage subscription: its months, aggregates, rated amounts, lines billed, late events."""
    require(request, *READ)
    return render(request, "billing/usage_detail.html", {"sub": billing_queries.usage_explorer(schedule_id)})
