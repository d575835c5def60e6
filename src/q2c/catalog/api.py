"""Catalog and pricing API: CRUD under /api/v1/catalog/…, the preview at /api/v1/pricing/preview.

Thin: every endpoint checks roles first (``require``), then calls one service or query. The CRUD
endpoints of the eleven catalog resources share one shape — list (filters, limit/offset), create,
read, patch, delete — registered by :func:`_resource`; each keeps its own operation id
(``catalog_list_products``, ``catalog_create_product`` …) and path parameter name.

Roles (docs/permissions.md): everyone signed in reads the catalog; admins change its structure
(units, products, charges, price books, bundles, rules, imports, discount limits); admins and sales
managers change prices (price entries, contracted prices, schedules, promotions); sales reps,
managers and finance preview prices; product cost shows to admins, managers and finance only.

May import ``q2c.core``, ``q2c.platform`` and the catalog's own modules.
"""

# No ``from __future__ import annotations`` here: django-ninja reads the generated views'
# annotations at runtime, and those refer to schema classes held in local variables.

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Schema, Status

from q2c.catalog import queries, schemas, services
from q2c.catalog.errors import CatalogInvalid, CatalogNotFound
from q2c.catalog.services.io import FORMATS, KINDS, MAX_BYTES
from q2c.catalog.services.preview import preview_json
from q2c.platform.api import body_limit, problem
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, paginate
from q2c.platform.roles import Role, roles_of

READ = (Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
STRUCTURE = (Role.ADMIN,)
PRICING = (Role.ADMIN, Role.SALES_MANAGER)
COST = (Role.ADMIN, Role.SALES_MANAGER, Role.FINANCE)
PREVIEW = (Role.ADMIN, Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)
PREVIEW_BODY_LIMIT = 16 * 1024 * 1024  # a 20,000-line request

router = Router(auth=api_auth, tags=["catalog"])
pricing_router = Router(auth=api_auth, tags=["pricing"])


def _sees_cost(request: HttpRequest) -> bool:
    return bool(roles_of(getattr(request, "auth", None) or request.user) & {str(r) for r in COST})


def _where(filters: Schema) -> dict[str, Any]:
    data = filters.dict()
    for name in ("page", "page_size"):
        data.pop(name, None)
    return {k: v for k, v in data.items() if v is not None and v != ""}


def _with_id(
    view: Callable[..., Any], id_name: str, extra: Sequence[inspect.Parameter] = ()
) -> Callable[..., Any]:
    """Give a generated view the signature ``(request, <id_name>: int, …)`` for ninja."""
    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD),
        inspect.Parameter(id_name, inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=int),
        *extra,
    ]
    view.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    return view


def _resource(
    *,
    path: str,
    noun: str,
    plural: str,
    schema_in: type[Schema],
    schema_out: type[Schema],
    filters: type[Schema],
    listing: Callable[[dict[str, Any]], Any],
    shape: Callable[[Any, HttpRequest], dict[str, Any]],
    create: Callable[..., Any],
    update: Callable[..., Any],
    delete: Callable[..., Any],
    write_roles: Sequence[Role],
) -> None:
    id_name = f"{noun}_id"
    page = Page[schema_out]  # type: ignore[valid-type]
    patch = schemas.patch_of(schema_in, f"{schema_in.__name__[:-2]}Patch")
    label = noun.replace("_", " ")

    def fetch(pk: int, request: HttpRequest) -> dict[str, Any]:
        row = listing({}).filter(pk=pk).first()
        if row is None:
            raise CatalogNotFound(f"no {label} with id {pk}", code=f"catalog.{noun}_not_found")
        return shape(row, request)

    def list_view(request: HttpRequest, filters: Query[filters]):  # type: ignore[valid-type]
        require(request, *READ)
        result = paginate(listing(_where(filters)), filters)
        result["items"] = [shape(r, request) for r in result["items"]]
        return result

    def create_view(request: HttpRequest, payload: schema_in):  # type: ignore[valid-type]
        require(request, *write_roles)
        row = create(payload.dict(exclude_unset=True), actor=request.auth)  # type: ignore[attr-defined]
        return Status(201, fetch(row.pk, request))

    def get_view(request: HttpRequest, **kwargs: Any):
        require(request, *READ)
        return fetch(kwargs[id_name], request)

    def patch_view(request: HttpRequest, **kwargs: Any):
        require(request, *write_roles)
        data = kwargs["payload"].dict(exclude_unset=True)
        update(kwargs[id_name], data, actor=request.auth)  # type: ignore[attr-defined]
        return fetch(kwargs[id_name], request)

    def delete_view(request: HttpRequest, **kwargs: Any):
        require(request, *write_roles)
        delete(kwargs[id_name], actor=request.auth)  # type: ignore[attr-defined]
        return Status(204, None)

    item = f"{path}/{{{id_name}}}"
    body = inspect.Parameter("payload", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=patch)
    router.add_api_operation(
        path,
        ["GET"],
        list_view,
        response=page,
        operation_id=f"catalog_list_{plural}",
        summary=f"List {plural.replace('_', ' ')}",
    )
    router.add_api_operation(
        path,
        ["POST"],
        create_view,
        response={201: schema_out},
        operation_id=f"catalog_create_{noun}",
        summary=f"Create a {label}",
    )
    router.add_api_operation(
        item,
        ["GET"],
        _with_id(get_view, id_name),
        response=schema_out,
        operation_id=f"catalog_get_{noun}",
        summary=f"Read a {label}",
    )
    router.add_api_operation(
        item,
        ["PATCH"],
        _with_id(patch_view, id_name, [body]),
        response=schema_out,
        operation_id=f"catalog_update_{noun}",
        summary=f"Change a {label}",
    )
    router.add_api_operation(
        item,
        ["DELETE"],
        _with_id(delete_view, id_name),
        response={204: None},
        operation_id=f"catalog_delete_{noun}",
        summary=f"Delete a {label}",
    )


_resource(
    path="/units",
    noun="unit",
    plural="units",
    schema_in=schemas.CatalogUnitIn,
    schema_out=schemas.CatalogUnitOut,
    filters=schemas.CatalogUnitFilters,
    listing=queries.units,
    shape=lambda r, q: queries.unit_out(r),
    create=services.create_unit,
    update=services.update_unit,
    delete=services.delete_unit,
    write_roles=STRUCTURE,
)
_resource(
    path="/products",
    noun="product",
    plural="products",
    schema_in=schemas.CatalogProductIn,
    schema_out=schemas.CatalogProductOut,
    filters=schemas.CatalogProductFilters,
    listing=queries.products,
    shape=lambda r, q: queries.product_out(r, show_cost=_sees_cost(q)),
    create=services.create_product,
    update=services.update_product,
    delete=services.delete_product,
    write_roles=STRUCTURE,
)
_resource(
    path="/charges",
    noun="charge",
    plural="charges",
    schema_in=schemas.CatalogChargeIn,
    schema_out=schemas.CatalogChargeOut,
    filters=schemas.CatalogChargeFilters,
    listing=queries.charges,
    shape=lambda r, q: queries.charge_out(r),
    create=services.create_charge,
    update=services.update_charge,
    delete=services.delete_charge,
    write_roles=STRUCTURE,
)
_resource(
    path="/price-books",
    noun="price_book",
    plural="price_books",
    schema_in=schemas.CatalogPriceBookIn,
    schema_out=schemas.CatalogPriceBookOut,
    filters=schemas.CatalogPriceBookFilters,
    listing=queries.price_books,
    shape=lambda r, q: queries.price_book_out(r),
    create=services.create_price_book,
    update=services.update_price_book,
    delete=services.delete_price_book,
    write_roles=STRUCTURE,
)
_resource(
    path="/price-entries",
    noun="price_entry",
    plural="price_entries",
    schema_in=schemas.CatalogPriceEntryIn,
    schema_out=schemas.CatalogPriceEntryOut,
    filters=schemas.CatalogPriceEntryFilters,
    listing=queries.price_entries,
    shape=lambda r, q: queries.price_entry_out(r),
    create=services.create_price_entry,
    update=services.update_price_entry,
    delete=services.delete_price_entry,
    write_roles=PRICING,
)
_resource(
    path="/contracted-prices",
    noun="contracted_price",
    plural="contracted_prices",
    schema_in=schemas.CatalogContractedPriceIn,
    schema_out=schemas.CatalogContractedPriceOut,
    filters=schemas.CatalogContractedPriceFilters,
    listing=queries.contracted_prices,
    shape=lambda r, q: queries.contracted_price_out(r),
    create=services.create_contracted_price,
    update=services.update_contracted_price,
    delete=services.delete_contracted_price,
    write_roles=PRICING,
)
_resource(
    path="/discount-schedules",
    noun="discount_schedule",
    plural="discount_schedules",
    schema_in=schemas.CatalogScheduleIn,
    schema_out=schemas.CatalogScheduleOut,
    filters=schemas.CatalogScheduleFilters,
    listing=queries.schedules,
    shape=lambda r, q: queries.schedule_out(r),
    create=services.create_schedule,
    update=services.update_schedule,
    delete=services.delete_schedule,
    write_roles=PRICING,
)
_resource(
    path="/promotions",
    noun="promotion",
    plural="promotions",
    schema_in=schemas.CatalogPromotionIn,
    schema_out=schemas.CatalogPromotionOut,
    filters=schemas.CatalogPromotionFilters,
    listing=queries.promotions,
    shape=lambda r, q: queries.promotion_out(r),
    create=services.create_promotion,
    update=services.update_promotion,
    delete=services.delete_promotion,
    write_roles=PRICING,
)
_resource(
    path="/option-groups",
    noun="option_group",
    plural="option_groups",
    schema_in=schemas.CatalogOptionGroupIn,
    schema_out=schemas.CatalogOptionGroupOut,
    filters=schemas.CatalogOptionGroupFilters,
    listing=queries.option_groups,
    shape=lambda r, q: queries.option_group_out(r),
    create=services.create_option_group,
    update=services.update_option_group,
    delete=services.delete_option_group,
    write_roles=STRUCTURE,
)
_resource(
    path="/bundle-options",
    noun="bundle_option",
    plural="bundle_options",
    schema_in=schemas.CatalogOptionIn,
    schema_out=schemas.CatalogOptionOut,
    filters=schemas.CatalogOptionFilters,
    listing=queries.options,
    shape=lambda r, q: queries.option_out(r),
    create=services.create_option,
    update=services.update_option,
    delete=services.delete_option,
    write_roles=STRUCTURE,
)
_resource(
    path="/rules",
    noun="rule",
    plural="rules",
    schema_in=schemas.CatalogRuleIn,
    schema_out=schemas.CatalogRuleOut,
    filters=schemas.CatalogRuleFilters,
    listing=queries.rules,
    shape=lambda r, q: queries.rule_out(r),
    create=services.create_rule,
    update=services.update_rule,
    delete=services.delete_rule,
    write_roles=STRUCTURE,
)


# --- manual discount limits --------------------------------------------------------------


@router.get(
    "/discount-limits", response=list[schemas.CatalogLimitOut], operation_id="catalog_list_discount_limits"
)
def list_discount_limits(request: HttpRequest):
    """The largest manual discount each role may give without approval."""
    require(request, *READ)
    return queries.discount_limits()


@router.put(
    "/discount-limits/{role}", response=schemas.CatalogLimitOut, operation_id="catalog_set_discount_limit"
)
def set_discount_limit(request: HttpRequest, role: str, payload: schemas.CatalogLimitIn):
    require(request, Role.ADMIN)
    row = services.set_discount_limit(role, payload.max_percent, actor=request.auth)  # type: ignore[attr-defined]
    return queries.limit_out(row)


@router.delete("/discount-limits/{role}", response={204: None}, operation_id="catalog_delete_discount_limit")
def delete_discount_limit(request: HttpRequest, role: str):
    require(request, Role.ADMIN)
    services.delete_discount_limit(role, actor=request.auth)  # type: ignore[attr-defined]
    return Status(204, None)


# --- import / export ---------------------------------------------------------------------


IMPORT_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["kind", "file"],
                "properties": {
                    "kind": {"type": "string", "enum": list(KINDS), "examples": ["products"]},
                    "file": {"type": "string", "format": "binary", "description": ".csv (UTF-8) or .xlsx"},
                    "dry_run": {"type": "boolean", "default": False},
                },
            }
        }
    },
}


@router.post(
    "/import",
    response=schemas.CatalogImportOut,
    operation_id="catalog_import",
    openapi_extra={"requestBody": IMPORT_BODY},
)
@body_limit(MAX_BYTES + 64 * 1024)
def import_file(request: HttpRequest):
    """Import products, charges, price_books or price_entries from CSV or XLSX: every row is
    checked first; any bad row rejects the whole file (422 listing row, field and message)."""
    # The form is read here rather than declared, so the role check comes before any parsing.
    require(request, Role.ADMIN)
    kind = request.POST.get("kind", "")
    upload = request.FILES.get("file")
    if upload is None:
        raise CatalogInvalid(
            "send the file as multipart field 'file'", code="catalog.import_file", field="file"
        )
    if upload.size is not None and upload.size > MAX_BYTES:
        return problem(
            413, "catalog.import_too_large", f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB"
        )
    dry_run = request.POST.get("dry_run", "").lower() in {"1", "true", "yes", "on"}
    return services.import_file(kind, upload.name or "", upload.read(), actor=request.auth, dry_run=dry_run)  # type: ignore[attr-defined]


@router.get("/export/{kind}", operation_id="catalog_export", response={200: None})
def export_file(request: HttpRequest, kind: str, format: str = "csv", price_book: str = ""):
    """Download products, charges, price_books or price_entries as CSV or XLSX (the import format)."""
    require(request, *COST)
    if kind not in KINDS:
        raise CatalogInvalid(
            f"kind must be one of {', '.join(KINDS)}", code="catalog.export_kind", field="kind"
        )
    if format not in FORMATS:
        raise CatalogInvalid("format must be csv or xlsx", code="catalog.export_format", field="format")
    content, content_type, name = services.export_file(kind, format, price_book=price_book)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- pricing preview ----------------------------------------------------------------------


@pricing_router.post(
    "/preview",
    operation_id="pricing_preview",
    response={200: None},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": schemas.PREVIEW_REQUEST_SCHEMA}},
        },
        "responses": {
            "200": {"description": "lines with waterfalls, totals, approval flags, rule violations"},
            "422": {"description": "problem+json naming each line and field at fault"},
        },
    },
)
@body_limit(PREVIEW_BODY_LIMIT)
def preview(request: HttpRequest):
    """Price a configuration without saving anything: lines with their price waterfalls, totals,
    approval flags and configuration rule violations. Amounts are decimal strings."""
    require(request, *PREVIEW)
    answer = preview_json(request.body, request.auth)  # type: ignore[attr-defined]
    return HttpResponse(answer, content_type="application/json")
