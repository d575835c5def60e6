"""Pages of contracts, mounted at ``/contracts/`` (namespace ``contracts``): the list, the contract
page (timeline of versions and amendments, lines of any version, documents with redline, renewal
status, forms to amend, cancel, negotiate, send for signature and ask for the renewal quote), a
version's document and PDF, the clause library, and the public signing page of a signed link.
Thin: role check first, then ``queries``/``services``; domain errors come back as messages.
Who may open what is written in docs/permissions.md (section contracts).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.contracts import queries, services
from q2c.contracts.domain import NEGOTIABLE, AmendmentKind, ContractStatus
from q2c.contracts.models import Contract
from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
SELLERS = (Role.SALES_REP, Role.SALES_MANAGER)
CANCELLERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)
LEGAL = (Role.SALES_MANAGER,)
PAGE_SIZE = 25


def _can(request: HttpRequest, *roles: Role) -> bool:
    have = roles_of(request.user)
    return Role.ADMIN in have or bool(have & {str(r) for r in roles})


def _int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _detail(contract_id: int, **query: Any) -> HttpResponse:
    url = reverse("contracts:detail", args=[contract_id])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return redirect(url)


@require_GET
@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    q = request.GET.get("q", "")[:200]
    status = request.GET.get("status", "")
    if status not in ContractStatus.__members__.values():
        status = ""
    rows = queries.search(user=request.user, q=q, status=status)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "contracts/list.html",
        {
            "page_obj": page,
            "contracts": page.object_list,
            "q": q,
            "status": status,
            "statuses": list(ContractStatus),
        },
    )


@require_GET
@login_required
def contract_detail(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *READERS)
    contract = queries.get(contract_id, user=request.user)
    versions = queries.versions(contract)
    shown = _int(request.GET.get("version"), contract.current_version) or contract.current_version
    if shown not in {v.number for v in versions}:
        shown = contract.current_version
    version = queries.version(contract, shown)
    lines = queries.lines(version)
    amendments = queries.amendments(contract)
    a = _int(request.GET.get("a"))
    b = _int(request.GET.get("b"))
    red = None
    if a and b and {a, b} <= {v.number for v in versions}:
        red = queries.compare(contract, a, b)
    timeline = queries.events(contract)
    active = contract.status == ContractStatus.ACTIVE
    return render(
        request,
        "contracts/detail.html",
        {
            "contract": contract,
            "versions": versions,
            "version": version,
            "lines": lines,
            "amendments": amendments,
            "signatures": queries.signatures(contract),
            "timeline": timeline,
            "renewal": queries.renewal_status(contract),
            "next_term": queries.next_term(contract),
            "redline": red,
            "redline_html": mark_safe(red.html) if red else "",
            "a": a or (versions[-2].number if len(versions) > 1 else 1),
            "b": b or versions[-1].number,
            "kinds": [
                (str(k), str(k).replace("_", " ")) for k in AmendmentKind if k is not AmendmentKind.CANCEL
            ],
            "today": clock.today(contract.entity.time_zone or None),
            "can_amend": active and _can(request, *SELLERS),
            "can_cancel": contract.status in (ContractStatus.ACTIVE, *NEGOTIABLE)
            and _can(request, *CANCELLERS),
            "can_override": _can(request, Role.SALES_MANAGER),
            "can_negotiate": contract.status in NEGOTIABLE and _can(request, *SELLERS),
            "can_decide": _can(request, *LEGAL),
            "can_renewal_quote": active and contract.renewal_quote_id is None and _can(request, *SELLERS),
        },
    )


def _fail(request: HttpRequest, exc: DomainError) -> None:
    messages.error(request, f"{exc.message} [{exc.code}]")


@require_POST
@login_required
def amend(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *SELLERS)
    queries.get(contract_id, user=request.user)  # 404 unless the caller may read it
    data = request.POST
    try:
        amendment = services.amend(
            contract_id,
            actor=request.user,
            lock_version=_int(data.get("lock_version"), -1),
            kind=data.get("kind", ""),
            effective_date=data.get("effective_date", ""),
            line_key=data.get("line_key", "")[:40],
            sku=data.get("sku", "")[:64],
            quantity=data.get("quantity") or None,
            unit_price=data.get("unit_price") or None,
            new_end_date=data.get("new_end_date") or None,
            reason=data.get("reason", "")[:2000],
        )
    except DomainError as exc:
        _fail(request, exc)
        return _detail(contract_id)
    if amendment.status == "proposed":
        messages.success(
            request,
            f"Amendment A{amendment.number} waits for quote {amendment.quote_number}: it applies once the customer accepts it.",
        )
    else:
        messages.success(
            request, f"Amendment A{amendment.number} applied: version {amendment.based_on_version + 1}."
        )
    return _detail(contract_id)


@require_POST
@login_required
def cancel(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *CANCELLERS)
    queries.get(contract_id, user=request.user)  # 404 unless the caller may read it
    data = request.POST
    try:
        effective = date.fromisoformat(data.get("effective_date", ""))
    except ValueError:
        messages.error(request, "The effective date is not a date (YYYY-MM-DD). [contracts.invalid_date]")
        return _detail(contract_id)
    try:
        services.cancel(
            contract_id,
            actor=request.user,
            lock_version=_int(data.get("lock_version"), -1),
            effective_date=effective,
            reason=data.get("reason", "")[:2000],
            override=data.get("override") == "on",
        )
    except DomainError as exc:
        _fail(request, exc)
        return _detail(contract_id)
    messages.success(request, f"Contract cancelled from {effective.isoformat()}.")
    return _detail(contract_id)


@require_POST
@login_required
def send(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *SELLERS)
    queries.get(contract_id, user=request.user)  # 404 unless the caller may read it
    try:
        _, token = services.send_for_signature(
            contract_id,
            actor=request.user,
            lock_version=_int(request.POST.get("lock_version"), -1),
            email=request.POST.get("email", "")[:254],
        )
    except DomainError as exc:
        _fail(request, exc)
        return _detail(contract_id)
    url = request.build_absolute_uri(reverse("contracts:sign", args=[token]))
    messages.success(request, f"Sent for signature. The customer signs at {url}")
    return _detail(contract_id)


@require_POST
@login_required
def renewal_quote(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *SELLERS)
    queries.get(contract_id, user=request.user)  # 404 unless the caller may read it
    try:
        contract = services.create_renewal_quote(contract_id, actor=request.user)
    except DomainError as exc:
        _fail(request, exc)
        return _detail(contract_id)
    messages.success(request, f"Renewal quote {contract.renewal_quote_number} created.")
    return _detail(contract_id)


@require_POST
@login_required
def rebase(request: HttpRequest, contract_id: int, number: int) -> HttpResponse:
    require(request, *SELLERS)
    queries.get(contract_id, user=request.user)  # 404 unless the caller may read it
    try:
        amendment = services.rebase_amendment(
            contract_id,
            number,
            actor=request.user,
            lock_version=_int(request.POST.get("lock_version"), -1),
        )
    except DomainError as exc:
        _fail(request, exc)
        return _detail(contract_id)
    messages.success(
        request,
        f"Amendment A{amendment.number} is based on version {amendment.based_on_version} now: "
        f"quote {amendment.quote_number} replaces the old one.",
    )
    return _detail(contract_id)


@require_POST
@login_required
def decide(request: HttpRequest, contract_id: int, number: int) -> HttpResponse:
    require(request, *LEGAL)
    queries.get(contract_id, user=request.user)  # 404 unless the caller may read it
    try:
        services.decide_version(
            contract_id,
            number,
            actor=request.user,
            approve=request.POST.get("decision") == "approve",
            comment=request.POST.get("comment", "")[:2000],
        )
    except DomainError as exc:
        _fail(request, exc)
        return _detail(contract_id)
    messages.success(request, f"Version {number} decided.")
    return _detail(contract_id)


@require_http_methods(["GET", "POST"])
@login_required
def negotiate(request: HttpRequest, contract_id: int) -> HttpResponse:
    require(request, *SELLERS)
    contract = queries.get(contract_id, user=request.user)
    version = queries.version(contract, contract.current_version)
    if request.method == "POST":
        texts: dict[str, str | None] = {}
        for clause in version.clauses:
            field = f"clause-{clause['key']}"
            if request.POST.get(f"reset-{clause['key']}") == "on":
                texts[clause["key"]] = None
            elif (
                field in request.POST and request.POST[field].replace("\r\n", "\n").strip() != clause["text"]
            ):
                texts[clause["key"]] = request.POST[field].replace("\r\n", "\n")
        try:
            new = services.revise_document(
                contract_id,
                actor=request.user,
                lock_version=_int(request.POST.get("lock_version"), -1),
                clause_texts=texts,
                note=request.POST.get("note", "")[:2000],
            )
        except DomainError as exc:
            _fail(request, exc)
            return redirect(reverse("contracts:negotiate", args=[contract_id]))
        messages.success(
            request,
            f"Version {new.number} saved"
            + (" — it needs a sales manager's approval." if new.approval == "pending" else "."),
        )
        return _detail(contract_id, a=version.number, b=new.number)
    return render(request, "contracts/negotiate.html", {"contract": contract, "version": version})


@require_GET
@login_required
def version_document(request: HttpRequest, contract_id: int, number: int) -> HttpResponse:
    require(request, *READERS)
    contract = queries.get(contract_id, user=request.user)
    version = queries.version(contract, number)
    return render(
        request,
        "contracts/version.html",
        {"contract": contract, "version": version, "lines": queries.lines(version)},
    )


@require_GET
@login_required
def version_pdf(request: HttpRequest, contract_id: int, number: int) -> HttpResponse:
    require(request, *READERS)
    contract = queries.get(contract_id, user=request.user)
    version = queries.version(contract, number)
    content = (
        bytes(version.pdf)
        if version.pdf
        else services.render_version_pdf(contract, version, created=version.created_at)
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.number}-v{number}.pdf"'
    return response


@require_http_methods(["GET", "POST"])
@login_required
def clause_library(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    if request.method == "POST":
        require(request, *LEGAL)
        try:
            services.save_clause(
                request.POST.get("key", "")[:60],
                actor=request.user,
                title=request.POST.get("title", "")[:200],
                body=request.POST.get("body", "")[:20000],
                note=request.POST.get("note", "")[:500],
            )
        except DomainError as exc:
            _fail(request, exc)
        else:
            messages.success(request, "Clause saved.")
        return redirect(reverse("contracts:clauses"))
    from q2c.contracts.clauses import VARIABLES

    return render(
        request,
        "contracts/clauses.html",
        {"clauses": queries.clauses(), "variables": VARIABLES, "can_edit": _can(request, *LEGAL)},
    )


@require_http_methods(["GET", "POST"])
def sign(request: HttpRequest, token: str) -> HttpResponse:
    """Public: the customer reads the version behind a signed link and signs it."""
    try:
        contract, version = services.version_for_token(token)
    except DomainError as exc:
        return render(request, "contracts/sign.html", {"error": exc.message}, status=exc.status)
    error = ""
    if request.method == "POST":
        try:
            services.sign(
                token,
                signer_name=request.POST.get("signer_name", "")[:200],
                signer_title=request.POST.get("signer_title", "")[:200],
                signer_email=request.POST.get("signer_email", "")[:254],
                ip_address=request.META.get("REMOTE_ADDR"),
                user_agent=request.META.get("HTTP_USER_AGENT", ""),
                agreed=request.POST.get("agree") == "on",
            )
        except DomainError as exc:
            error = exc.message
        else:
            contract = Contract.objects.select_related("entity", "account").get(pk=contract.pk)
            return render(
                request, "contracts/sign.html", {"contract": contract, "version": version, "signed": True}
            )
    return render(
        request,
        "contracts/sign.html",
        {
            "contract": contract,
            "version": version,
            "error": error,
            "current": version.number == contract.current_version,
        },
        status=422 if error else 200,
    )
