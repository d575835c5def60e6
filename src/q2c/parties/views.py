"""Pages of parties: the account list (search, filter, sort, pages), account detail, account and
contact forms, the list of legal entities. Thin: role check first, then ``queries``/``services``.
Who may open what is written in docs/permissions.md (section parties).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from q2c.core.errors import DomainError
from q2c.parties import queries, services
from q2c.parties.forms import AccountForm, ContactForm
from q2c.parties.models import AccountKind
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READERS = (Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
EDITORS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)
PAGE_SIZE = 25


def _can(request: HttpRequest, *roles: Role) -> bool:
    have = roles_of(request.user)
    return Role.ADMIN in have or bool(have & {str(r) for r in roles})


@require_GET
@login_required
def account_list(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    q = request.GET.get("q", "")[:200]
    kind = request.GET.get("kind", "")
    country = request.GET.get("country", "")[:2]
    sort = request.GET.get("sort", "name")
    # A hand-edited query string falls back to the defaults rather than failing the page.
    if kind not in AccountKind.values:
        kind = ""
    if sort not in queries.ACCOUNT_SORTS:
        sort = "name"
    rows = queries.search_accounts(q=q, kind=kind, country=country, sort=sort)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "parties/account_list.html",
        {
            "page_obj": page,
            "accounts": page.object_list,
            "q": q,
            "kind": kind,
            "country": country,
            "sort": sort,
            "kinds": AccountKind.choices,
            "countries": queries.account_countries(),
            "can_create": _can(request, *EDITORS),
        },
    )


@require_GET
@login_required
def account_detail(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *READERS)
    account = services.get_account(account_id)
    return render(
        request,
        "parties/account_detail.html",
        {
            "account": account,
            "contacts": queries.contacts_of(account.pk),
            "children": account.children.order_by("name", "id"),
            "can_edit": _can(request, *EDITORS),
            "can_delete": _can(request, Role.SALES_MANAGER),
        },
    )


@require_http_methods(["GET", "POST"])
@login_required
def account_create(request: HttpRequest) -> HttpResponse:
    require(request, *EDITORS)
    form = AccountForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                account = services.create_account(actor=request.user.get_username(), **form.to_service())
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, f"Account “{account.name}” created.")
                return redirect("parties:account_detail", account_id=account.pk)
        status = 422
    return render(request, "parties/account_form.html", {"form": form, "account": None}, status=status)


@require_http_methods(["GET", "POST"])
@login_required
def account_edit(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *EDITORS)
    account = services.get_account(account_id)
    form = AccountForm(
        request.POST if request.method == "POST" else None,
        account=account,
        initial=AccountForm.initial_from(account),
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            changes = form.to_service()
            changes.pop("entity_id", None)
            try:
                services.update_account(account.pk, changes, actor=request.user.get_username())
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, "Account saved.")
                return redirect("parties:account_detail", account_id=account.pk)
        status = 422
    return render(request, "parties/account_form.html", {"form": form, "account": account}, status=status)


@require_POST
@login_required
def account_delete(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, Role.SALES_MANAGER)
    account = services.get_account(account_id)
    services.delete_account(account.pk, actor=request.user.get_username())
    messages.success(request, f"Account “{account.name}” deleted.")
    return redirect("parties:account_list")


@require_http_methods(["GET", "POST"])
@login_required
def contact_create(request: HttpRequest, account_id: int) -> HttpResponse:
    require(request, *EDITORS)
    account = services.get_account(account_id)
    form = ContactForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.create_contact(account.pk, actor=request.user.get_username(), **form.cleaned_data)
            except DomainError as exc:
                form.add_domain_error(exc)
            else:
                messages.success(request, "Contact added.")
                return redirect("parties:account_detail", account_id=account.pk)
        status = 422
    return render(request, "parties/contact_form.html", {"form": form, "account": account}, status=status)


@require_GET
@login_required
def entity_list(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    return render(
        request,
        "parties/entity_list.html",
        {"entities": queries.entities().prefetch_related("bank_accounts"), "is_admin": _can(request)},
    )
