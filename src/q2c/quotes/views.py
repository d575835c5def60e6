"""Pages of the quotes app: the pipeline (list and board), opportunity pages, the quote builder,
the approval inbox and the customer's public acceptance page.

Thin: the role check first (``require``; docs/permissions.md, section quotes), then services and
queries. Every page works without JavaScript; ``static/quotes/builder.js`` adds the live price
waterfall and the product search to the builder. Domain errors from a POST are shown on the page
they came from (with the field at fault), never as a traceback.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.platform.auth import require
from q2c.platform.roles import Role
from q2c.quotes import access, queries, services
from q2c.quotes.domain import EDITABLE, OPEN_STAGES, QuoteStatus, Stage
from q2c.quotes.models import BillingFrequency, SaleContextChoice

READERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
SELLERS = (Role.SALES_REP, Role.SALES_MANAGER)
APPROVERS = (Role.SALES_MANAGER, Role.FINANCE)
PAGE_SIZE = 25
BLANK_ROWS = 2
_ROW = re.compile(r"^line-(\d+)-(key|sku|quantity|discount|parent|description)$")


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _error_message(exc: DomainError) -> str:
    return f"{exc.message}"


# --------------------------------------------------------------------------- opportunities


@require_GET
@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    user = require(request, *READERS)
    stage = request.GET.get("stage", "")
    if stage not in {str(s) for s in Stage}:
        stage = ""
    q = request.GET.get("q", "")[:200]
    page = Paginator(queries.opportunities_for(user, stage=stage, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "quotes/opportunity_list.html",
        {
            "page_obj": page,
            "opportunities": page.object_list,
            "stage": stage,
            "q": q,
            "stages": list(Stage),
            "can_create": access.is_seller(user),
        },
    )


@require_GET
@login_required
def pipeline_board(request: HttpRequest) -> HttpResponse:
    user = require(request, *READERS)
    return render(request, "quotes/board.html", {"board": queries.pipeline(user)})


def _accounts() -> Any:
    from q2c.parties import queries as party_queries

    return party_queries.search_accounts(q="", kind="", country="", sort="name")[:500]


@require_http_methods(["GET", "POST"])
@login_required
def opportunity_create(request: HttpRequest) -> HttpResponse:
    user = require(request, *SELLERS)
    values: dict[str, Any] = {"stage": "prospecting"}
    error: DomainError | None = None
    if request.method == "POST":
        values = {
            k: request.POST.get(k, "")
            for k in ("account_id", "name", "stage", "expected_close_date", "next_step")
        }
        try:
            account_id = int(values["account_id"]) if values["account_id"].isdigit() else 0
            opp = services.create_opportunity(
                actor=user,
                account_id=account_id,
                name=values["name"],
                stage=values["stage"] or "prospecting",
                expected_close_date=values["expected_close_date"] or None,
                next_step=values["next_step"],
            )
        except DomainError as exc:
            error = exc
        else:
            messages.success(request, f"Opportunity “{opp.name}” created.")
            return redirect("quotes:opportunity_detail", opp.pk)
    return render(
        request,
        "quotes/opportunity_form.html",
        {"values": values, "error": error, "accounts": _accounts(), "stages": OPEN_STAGES},
        status=422 if error else 200,
    )


@require_GET
@login_required
def opportunity_detail(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    user = require(request, *READERS)
    opp = services.get_opportunity(opportunity_id, user)
    return render(request, "quotes/opportunity_detail.html", _opportunity_context(request, user, opp))


def _opportunity_context(request: HttpRequest, user: Any, opp: Any, **extra: Any) -> dict[str, Any]:
    can_edit = access.can_edit_owned(user, opp.owner_id)
    return {
        "opp": opp,
        "quotes": queries.quotes_for(user, opportunity_id=opp.pk),
        "history": opp.stage_changes.order_by("id"),
        "can_edit": can_edit,
        "is_open": opp.stage in OPEN_STAGES,
        "stages": [s for s in Stage if s != Stage.CLOSED_WON and s != opp.stage],
        "today": clock.today(opp.entity.time_zone),
        **extra,
    }


@require_POST
@login_required
def opportunity_stage(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    user = require(request, *SELLERS)
    try:
        services.move(
            opportunity_id,
            request.POST.get("stage", ""),
            actor=user,
            loss_reason=request.POST.get("loss_reason", ""),
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        opp = services.get_opportunity(opportunity_id, user)
        return render(
            request,
            "quotes/opportunity_detail.html",
            _opportunity_context(request, user, opp, stage_error=exc),
            status=exc.status,
        )
    messages.success(request, "Stage changed.")
    return redirect("quotes:opportunity_detail", opportunity_id)


@require_POST
@login_required
def quote_create(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    user = require(request, *SELLERS)
    header: dict[str, Any] = {}
    for name in ("start_date", "valid_until"):
        if request.POST.get(name):
            header[name] = request.POST[name]
    if request.POST.get("term_months"):
        header["term_months"] = request.POST["term_months"]
    if request.POST.get("title"):
        header["title"] = request.POST["title"]
    try:
        quote = services.create_quote(actor=user, opportunity_id=opportunity_id, **header)
    except DomainError as exc:
        opp = services.get_opportunity(opportunity_id, user)
        return render(
            request,
            "quotes/opportunity_detail.html",
            _opportunity_context(request, user, opp, quote_error=exc),
            status=exc.status,
        )
    messages.success(request, f"Quote {quote.label} created: add its lines.")
    return redirect("quotes:quote_detail", quote.pk)


# --------------------------------------------------------------------------- quotes


@require_GET
@login_required
def quote_list(request: HttpRequest) -> HttpResponse:
    user = require(request, *READERS)
    status = request.GET.get("status", "")
    if status not in {str(s) for s in QuoteStatus}:
        status = ""
    q = request.GET.get("q", "")[:200]
    page = Paginator(queries.quotes_for(user, status=status, q=q), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "quotes/quote_list.html",
        {
            "page_obj": page,
            "quotes": page.object_list,
            "status": status,
            "q": q,
            "statuses": list(QuoteStatus),
        },
    )


def _rows_from_post(post: Any) -> list[dict[str, str]]:
    rows: dict[int, dict[str, str]] = {}
    for name, value in post.items():
        match = _ROW.match(name)
        if match:
            rows.setdefault(int(match.group(1)), {})[match.group(2)] = value.strip()
    return [rows[i] for i in sorted(rows)]


def _lines_from_rows(rows: list[dict[str, str]]) -> list[dict[str, Any]]:
    lines = []
    for i, row in enumerate(rows):
        if not row.get("sku"):
            continue  # a blank row (or one the rep cleared) is no line
        line: dict[str, Any] = {"key": row.get("key") or f"L{i + 1}", "sku": row["sku"]}
        if row.get("quantity"):
            line["quantity"] = row["quantity"]
        if row.get("discount"):
            line["discount"] = {"percent": row["discount"]}
        if row.get("parent"):
            line["parent_key"] = row["parent"]
        if row.get("description"):
            line["description"] = row["description"]
        lines.append(line)
    return lines


HEADER_FORM_FIELDS = (
    "title",
    "introduction",
    "terms",
    "price_book",
    "sale_context",
    "start_date",
    "term_months",
    "billing_frequency",
    "payment_terms_days",
    "valid_until",
    "contact_name",
    "contact_email",
)


def _header_from_post(post: Any) -> dict[str, Any]:
    header: dict[str, Any] = {name: post.get(name, "") for name in HEADER_FORM_FIELDS if name in post}
    header["auto_renew"] = post.get("auto_renew") == "on"
    if "promotion_codes" in post:
        header["promotion_codes"] = post.get("promotion_codes", "")
    return header


def _rows_of(quote: Any) -> list[dict[str, str]]:
    rows = []
    for line in quote.lines.all():
        rows.append(
            {
                "key": line.key,
                "sku": line.sku,
                "quantity": "" if line.quantity is None else str(line.quantity),
                "discount": str(line.discount_value) if line.discount_kind == "percent" else "",
                "parent": line.parent_key,
                "description": line.description,
            }
        )
    return rows


def _priced_by_key(quote: Any) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for line in (quote.pricing or {}).get("lines", []):
        found.setdefault(str(line.get("key")), []).append(line)
    return found


def _row_errors(
    exc: DomainError | None, rows: list[dict[str, str]]
) -> tuple[dict[str, list[str]], list[str]]:
    """Errors per row key (from the engine's ``line`` or a ``lines[i]`` field) and the rest."""
    if exc is None:
        return {}, []
    by_key: dict[str, list[str]] = {}
    general: list[str] = []
    keyed_rows = [r for r in rows if r.get("sku")]
    items = exc.details or [{"field": exc.field or "", "message": exc.message}]
    for item in items:
        key = item.get("line")
        if not key:
            m = re.match(r"^lines\[(\d+)\]", str(item.get("field") or ""))
            if m and int(m.group(1)) < len(keyed_rows):
                key = keyed_rows[int(m.group(1))].get("key") or f"L{int(m.group(1)) + 1}"
        lines = item.get("lines")
        if not key and isinstance(lines, list) and lines:
            for k in lines:
                by_key.setdefault(str(k), []).append(str(item.get("message", "")))
            general.append(str(item.get("message", "")))
            continue
        if key:
            by_key.setdefault(str(key), []).append(str(item.get("message", "")))
        else:
            general.append(str(item.get("message", "")))
    return by_key, general


def _builder_context(request: HttpRequest, user: Any, quote: Any, **extra: Any) -> dict[str, Any]:
    rows = extra.pop("rows", None) or _rows_of(quote)
    # Keys for blank rows continue after the highest L<n> in use.
    used = [int(r["key"][1:]) for r in rows if r.get("key", "").startswith("L") and r["key"][1:].isdigit()]
    nxt = max(used, default=len(rows)) + 1
    blank = [
        {"key": f"L{nxt + i}", "sku": "", "quantity": "", "discount": "", "parent": "", "description": ""}
        for i in range(BLANK_ROWS)
    ]
    error = extra.pop("error", None)
    errors_by_key, general_errors = _row_errors(error, rows)
    priced = _priced_by_key(quote)
    can_edit = (
        access.can_edit_owned(user, quote.owner_id)
        and quote.status in EDITABLE
        and quote.superseded_at is None
    )
    documents = list(quote.documents.order_by("-id")[:5])
    return {
        "quote": quote,
        "rows": [
            {
                **r,
                "priced": priced.get(r.get("key", ""), []),
                "errors": errors_by_key.get(r.get("key", ""), []),
            }
            for r in rows + blank
        ],
        "header": extra.pop("header", None),
        "error": error,
        "general_errors": general_errors,
        "can_edit": can_edit,
        "can_act": access.can_edit_owned(user, quote.owner_id),
        "status": quote.status,
        "history": queries.approval_history(quote),
        "events": queries.quote_events(quote),
        "versions": queries.versions(quote),
        "documents": documents,
        "billing_frequencies": BillingFrequency.choices,
        "sale_contexts": SaleContextChoice.choices,
        "totals": (quote.pricing or {}).get("totals"),
        "violations": (quote.pricing or {}).get("violations", []),
        "sent_url": extra.pop("sent_url", ""),
        **extra,
    }


@require_GET
@login_required
def quote_detail(request: HttpRequest, quote_id: int) -> HttpResponse:
    user = require(request, *READERS)
    quote = services.get_quote(quote_id, user)
    return render(request, "quotes/builder.html", _builder_context(request, user, quote))


@require_POST
@login_required
def quote_save(request: HttpRequest, quote_id: int) -> HttpResponse:
    user = require(request, *SELLERS)
    rows = _rows_from_post(request.POST)
    header = _header_from_post(request.POST)
    lock = request.POST.get("lock_version", "")
    try:
        services.update_quote(
            quote_id,
            actor=user,
            lock_version=int(lock) if lock.isdigit() else -1,
            changes=header,
            lines=_lines_from_rows(rows),
        )
    except DomainError as exc:
        quote = services.get_quote(quote_id, user)
        return render(
            request,
            "quotes/builder.html",
            _builder_context(
                request, user, quote, rows=[r for r in rows if r.get("sku")], header=header, error=exc
            ),
            status=exc.status,
        )
    messages.success(request, "Quote saved.")
    return redirect("quotes:quote_detail", quote_id)


def _action(request: HttpRequest, quote_id: int, run: Any, done: str) -> HttpResponse:
    user = require(request, *SELLERS)
    lock = request.POST.get("lock_version", "")
    try:
        result = run(user, int(lock) if lock.isdigit() else None)
    except DomainError as exc:
        quote = services.get_quote(quote_id, user)
        return render(
            request,
            "quotes/builder.html",
            _builder_context(request, user, quote, error=exc),
            status=exc.status,
        )
    messages.success(request, done)
    target = getattr(result, "pk", quote_id)
    return redirect("quotes:quote_detail", target)


@require_POST
@login_required
def quote_submit(request: HttpRequest, quote_id: int) -> HttpResponse:
    return _action(
        request,
        quote_id,
        lambda user, lock: services.submit_quote(
            quote_id, actor=user, lock_version=lock, base_url=_base(request)
        ),
        "Quote submitted.",
    )


@require_POST
@login_required
def quote_recall(request: HttpRequest, quote_id: int) -> HttpResponse:
    return _action(
        request,
        quote_id,
        lambda user, lock: services.recall(quote_id, actor=user, lock_version=lock),
        "Quote recalled to draft.",
    )


@require_POST
@login_required
def quote_withdraw(request: HttpRequest, quote_id: int) -> HttpResponse:
    return _action(
        request,
        quote_id,
        lambda user, lock: services.withdraw_quote(
            quote_id, actor=user, reason=request.POST.get("reason", ""), lock_version=lock
        ),
        "Quote withdrawn.",
    )


@require_POST
@login_required
def quote_revise(request: HttpRequest, quote_id: int) -> HttpResponse:
    return _action(
        request,
        quote_id,
        lambda user, lock: services.revise_quote(quote_id, actor=user),
        "New version created.",
    )


@require_POST
@login_required
def quote_primary(request: HttpRequest, quote_id: int) -> HttpResponse:
    return _action(
        request,
        quote_id,
        lambda user, lock: services.make_primary(quote_id, actor=user),
        "This is now the primary quote.",
    )


@require_POST
@login_required
def quote_send(request: HttpRequest, quote_id: int) -> HttpResponse:
    user = require(request, *SELLERS)
    lock = request.POST.get("lock_version", "")
    try:
        sent = services.send_quote(
            quote_id,
            actor=user,
            to=request.POST.get("to", ""),
            message=request.POST.get("message", ""),
            lock_version=int(lock) if lock.isdigit() else None,
            base_url=_base(request),
        )
    except DomainError as exc:
        quote = services.get_quote(quote_id, user)
        return render(
            request,
            "quotes/builder.html",
            _builder_context(request, user, quote, error=exc),
            status=exc.status,
        )
    messages.success(request, f"Quote sent to {sent.document.sent_to}.")
    quote = services.get_quote(quote_id, user)
    return render(request, "quotes/builder.html", _builder_context(request, user, quote, sent_url=sent.url))


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@login_required
def quote_preview_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    user = require(request, *READERS)
    quote = services.get_quote(quote_id, user)
    return _pdf(services.preview_pdf(quote_id, actor=user), f"{quote.number}-v{quote.version}-preview.pdf")


@require_GET
@login_required
def quote_document_pdf(request: HttpRequest, quote_id: int, document_id: int) -> HttpResponse:
    user = require(request, *READERS)
    quote = services.get_quote(quote_id, user)
    document = quote.documents.filter(pk=document_id).first()
    if document is None:
        from q2c.quotes.errors import QuoteNotFound

        raise QuoteNotFound(f"no document {document_id} of this quote", field="document_id")
    return _pdf(bytes(document.pdf), document.filename)


# --------------------------------------------------------------------------- approvals


@require_GET
@login_required
def approval_inbox(request: HttpRequest) -> HttpResponse:
    user = require(request, *APPROVERS)
    steps = list(queries.inbox(user).prefetch_related("approvers", "decisions__approver"))
    return render(request, "quotes/inbox.html", {"steps": steps})


@require_POST
@login_required
def approval_decide(request: HttpRequest, step_id: int) -> HttpResponse:
    user = require(request, *APPROVERS)
    try:
        step = services.decide(
            step_id,
            actor=user,
            decision=request.POST.get("decision", ""),
            comment=request.POST.get("comment", ""),
            base_url=_base(request),
        )
    except DomainError as exc:
        steps = list(queries.inbox(user).prefetch_related("approvers", "decisions__approver"))
        return render(
            request,
            "quotes/inbox.html",
            {"steps": steps, "error": exc, "error_step": step_id},
            status=exc.status,
        )
    quote = step.request.quote
    verb = "approved" if request.POST.get("decision") == "approve" else "rejected"
    messages.success(request, f"You {verb} quote {quote.label}.")
    return redirect("quotes:approval_inbox")


# --------------------------------------------------------------------------- public acceptance


def _public_context(opened: Any, **extra: Any) -> dict[str, Any]:
    return {
        "opened": opened,
        "doc": opened.document.data,
        "quote": opened.quote,
        "decision": opened.acceptance,
        **extra,
    }


def _public_headers(response: HttpResponse) -> HttpResponse:
    # The page is a capability: keep it out of caches and out of other sites' Referer headers.
    # ("same-origin", not "no-referrer": with no referrer at all browsers post the forms with
    # ``Origin: null``, which Django's CSRF check rightly refuses.)
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"
    return response


def _public_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _public_headers(
        render(
            request, "quotes/public_error.html", {"message": exc.message, "code": exc.code}, status=exc.status
        )
    )


@require_GET
def public_quote(request: HttpRequest, token: str) -> HttpResponse:
    try:
        opened = services.open_link(token)
    except DomainError as exc:
        return _public_error(request, exc)
    return _public_headers(render(request, "quotes/public.html", _public_context(opened, token=token)))


@require_GET
def public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    try:
        opened = services.open_link(token)
    except DomainError as exc:
        return _public_error(request, exc)
    return _public_headers(_pdf(bytes(opened.document.pdf), opened.document.filename))


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


@require_POST
def public_accept(request: HttpRequest, token: str) -> HttpResponse:
    values = {k: request.POST.get(k, "") for k in ("signer_name", "signer_title")}
    try:
        services.accept_quote(
            token,
            signer_name=values["signer_name"],
            signer_title=values["signer_title"],
            agree=request.POST.get("agree") == "on",
            ip=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except DomainError as exc:
        return _public_retry(request, token, exc, accept_values=values)
    return redirect("quotes:public_quote", token)


@require_POST
def public_reject(request: HttpRequest, token: str) -> HttpResponse:
    values = {"reason": request.POST.get("reason", ""), "reject_name": request.POST.get("reject_name", "")}
    try:
        services.reject_quote(
            token,
            reason=values["reason"],
            signer_name=values["reject_name"],
            ip=_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except DomainError as exc:
        return _public_retry(request, token, exc, reject_values=values)
    return redirect("quotes:public_quote", token)


def _public_retry(request: HttpRequest, token: str, exc: DomainError, **values: Any) -> HttpResponse:
    try:
        opened = services.open_link(token)
    except DomainError as link_error:
        return _public_error(request, link_error)
    return _public_headers(
        render(
            request,
            "quotes/public.html",
            _public_context(opened, token=token, error=exc, **values),
            status=exc.status,
        )
    )
