"""Pages of the catalog: products (search, filter, pages) and a product's charges, prices,
bundle options and rules; price books and their prices; a price check that shows the pricing
engine's waterfall; the import page. Thin: role check first, then ``queries``/``services``.
Who may open what is written in docs/permissions.md (section catalog).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_http_methods

from q2c.catalog import services
from q2c.catalog.errors import CatalogNotFound
from q2c.catalog.models import ConfigurationRule, PriceBook, PriceEntry, Product
from q2c.catalog.pricing.types import ProductType
from q2c.catalog.services.io import KINDS
from q2c.core.errors import DomainError
from q2c.platform.auth import require
from q2c.platform.roles import Role, roles_of

READERS = (Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
PRICERS = (Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)
COST = (Role.ADMIN, Role.SALES_MANAGER, Role.FINANCE)
PAGE_SIZE = 25
MAX_CHECK_LINES = 200


def _can(request: HttpRequest, *roles: Role) -> bool:
    have = roles_of(request.user)
    return Role.ADMIN in have or bool(have & {str(r) for r in roles})


@require_GET
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    q = request.GET.get("q", "")[:200].strip()
    family = request.GET.get("family", "")[:60]
    kind = request.GET.get("type", "")
    if kind not in {str(t) for t in ProductType}:
        kind = ""
    rows = Product.objects.select_related("unit").order_by("sku")
    if q:
        rows = rows.filter(Q(sku__icontains=q) | Q(name__icontains=q) | Q(description__icontains=q))
    if family:
        rows = rows.filter(family=family)
    if kind:
        rows = rows.filter(type=kind)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    families = (
        Product.objects.exclude(family="").order_by("family").values_list("family", flat=True).distinct()
    )
    return render(
        request,
        "catalog/product_list.html",
        {
            "page_obj": page,
            "products": page.object_list,
            "q": q,
            "family": family,
            "type": kind,
            "families": list(families),
            "types": [str(t) for t in ProductType],
            "can_import": _can(request, Role.ADMIN),
            "can_price": _can(request, *PRICERS),
        },
    )


@require_GET
@login_required
def product_detail(request: HttpRequest, product_id: int) -> HttpResponse:
    require(request, *READERS)
    product = Product.objects.select_related("unit").filter(pk=product_id).first()
    if product is None:
        raise CatalogNotFound(f"no product with id {product_id}", code="catalog.product_not_found")
    entries = (
        PriceEntry.objects.filter(charge__product=product)
        .select_related("price_book", "charge")
        .prefetch_related("tiers")
        .order_by("charge__sequence", "charge__code", "price_book__code", "valid_from")
    )
    rules = ConfigurationRule.objects.filter(
        Q(source=product) | Q(target=product) | Q(bundle=product)
    ).select_related("source", "target", "bundle")
    groups = product.option_groups.prefetch_related("options__product") if product.is_bundle else []
    return render(
        request,
        "catalog/product_detail.html",
        {
            "product": product,
            "charges": product.charges.all(),
            "entries": entries,
            "ssps": product.ssps.all(),
            "groups": groups,
            "rules": rules,
            "show_cost": _can(request, *COST),
        },
    )


@require_GET
@login_required
def price_book_list(request: HttpRequest) -> HttpResponse:
    require(request, *READERS)
    books = PriceBook.objects.select_related("parent").order_by("currency", "code")
    return render(request, "catalog/price_book_list.html", {"books": books})


@require_GET
@login_required
def price_book_detail(request: HttpRequest, book_id: int) -> HttpResponse:
    require(request, *READERS)
    book = PriceBook.objects.select_related("parent").filter(pk=book_id).first()
    if book is None:
        raise CatalogNotFound(f"no price book with id {book_id}", code="catalog.price_book_not_found")
    entries = (
        PriceEntry.objects.filter(price_book=book)
        .select_related("charge__product")
        .prefetch_related("tiers")
        .order_by("charge__product__sku", "charge__code", "valid_from")
    )
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/price_book_detail.html",
        {"book": book, "page_obj": page, "entries": page.object_list},
    )


def _check_request(form: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The price check form as a pricing request: one line per row, ``SKU QUANTITY [DISCOUNT%]``."""
    problems: list[str] = []
    lines: list[dict[str, Any]] = []
    for number, row in enumerate(form.get("lines", "").splitlines(), start=1):
        words = row.split()
        if not words:
            continue
        if len(words) > 3:
            problems.append(f"row {number}: write SKU, quantity and an optional discount in %")
            continue
        line: dict[str, Any] = {"key": str(number), "sku": words[0]}
        if len(words) > 1:
            line["quantity"] = words[1]
        if len(words) > 2:
            line["discount"] = {"percent": words[2].rstrip("%")}
        lines.append(line)
    if len(lines) > MAX_CHECK_LINES:
        problems.append(f"at most {MAX_CHECK_LINES} rows")
    data: dict[str, Any] = {
        "currency": form.get("currency", "").strip().upper(),
        "sale_context": form.get("sale_context") or "new",
        "lines": lines,
    }
    for name in ("price_book", "as_of"):
        if form.get(name, "").strip():
            data[name] = form[name].strip()
    term = form.get("term_months", "").strip()
    data["term_months"] = int(term) if term.isdigit() else term or 12
    account = form.get("account_id", "").strip()
    if account:
        data["account_id"] = int(account) if account.isdigit() else account
    codes = [c.strip() for c in form.get("promotion_codes", "").split(",") if c.strip()]
    if codes:
        data["promotion_codes"] = codes
    return data, problems


@require_http_methods(["GET", "POST"])
@login_required
def price_check(request: HttpRequest) -> HttpResponse:
    """Price a configuration and show every line's waterfall (saves nothing)."""
    require(request, *PRICERS)
    form = {"currency": "EUR", "term_months": "12", "sale_context": "new", "lines": ""}
    result = None
    problems: list[dict[str, Any]] = []
    if request.method == "POST":
        form = {
            k: request.POST.get(k, "")[:20_000]
            for k in (
                "currency",
                "price_book",
                "as_of",
                "term_months",
                "sale_context",
                "account_id",
                "promotion_codes",
                "lines",
            )
        }
        data, shape_problems = _check_request(form)
        problems = [{"field": "lines", "message": m} for m in shape_problems]
        if not problems:
            try:
                result = services.price_quote(data, request.user)
            except DomainError as exc:
                problems = exc.details or [{"field": exc.field or "", "message": exc.message}]
    status = 422 if problems else 200
    return render(
        request,
        "catalog/price_check.html",
        {"form": form, "result": result, "problems": problems},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    require(request, Role.ADMIN)
    context: dict[str, Any] = {"kinds": KINDS, "kind": request.POST.get("kind", "products")}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "choose a CSV or XLSX file"
            status = 422
        else:
            try:
                context["result"] = services.import_file(
                    context["kind"],
                    upload.name or "",
                    upload.read(),
                    actor=request.user,
                    dry_run=bool(request.POST.get("dry_run")),
                )
            except DomainError as exc:
                context["error"] = exc.message
                context["rows"] = exc.details
                status = 422
    return render(request, "catalog/import.html", context, status=status)
