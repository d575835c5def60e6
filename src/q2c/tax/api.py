"""The tax API (mounted at ``/api/v1/tax/``): compute tax for a draft without saving.

Thin: checks the role, turns the request into a pure :class:`~q2c.tax.engine.TaxDocument`
(``build_document``), calls ``services.preview`` and shapes the answer. Who may call it is in
docs/permissions.md (section tax).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from q2c.core import clock
from q2c.core.money import Money
from q2c.platform.auth import api_auth, require
from q2c.platform.roles import Role
from q2c.tax import services
from q2c.tax.categories import TaxCategory
from q2c.tax.engine import (
    Buyer,
    Exemption,
    Location,
    Seller,
    SupplyType,
    TaxDocument,
    TaxError,
    TaxLine,
    TaxResult,
)
from q2c.tax.schemas import TaxLocationIn, TaxPreviewIn, TaxPreviewOut

router = Router(auth=api_auth, tags=["tax"])

#: Who may ask what tax a draft would carry: everyone who prices quotes or checks invoices.
PREVIEWERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)


def _location(value: TaxLocationIn | None) -> Location | None:
    if value is None:
        return None
    return Location(value.country.upper(), value.region.upper())


def build_document(payload: TaxPreviewIn) -> TaxDocument:
    """The pure document for a preview request (one query for tax codes, one for exemptions)."""
    tax_date = payload.tax_date or clock.today()
    codes = services.tax_codes(line.tax_code for line in payload.lines if line.tax_code)
    currency = payload.currency.upper()
    lines = []
    for i, line in enumerate(payload.lines):
        category, supply_type, reason = line.tax_category, line.supply_type, line.exemption_reason
        if line.tax_code:
            code = codes.get(line.tax_code.strip().upper())
            if code is None:
                raise TaxError(
                    f"no active tax code '{line.tax_code}'",
                    code="tax.unknown_code",
                    field=f"lines[{i}].tax_code",
                )
            category = category or TaxCategory(code.tax_category)
            supply_type = supply_type or (SupplyType(code.supply_type) if code.supply_type else None)
            reason = reason or code.exemption_reason
        if category is None:
            raise TaxError(
                "give tax_category or tax_code",
                code="tax.category_required",
                field=f"lines[{i}].tax_category",
            )
        lines.append(
            TaxLine(
                id=line.id,
                amount=Money.exact(line.amount, currency, field=f"lines[{i}].amount"),
                tax_category=category,
                supply_type=supply_type,
                supply_date=line.supply_date,
                ship_from=_location(line.ship_from),
                ship_to=_location(line.ship_to),
                exemption_reason=reason,
            )
        )
    buyer = payload.buyer
    vat_id_valid = (
        buyer.vat_id_valid if buyer.vat_id_valid is not None else services.vat_id_is_valid(buyer.vat_id)
    )
    exemption = None
    if payload.exemption is not None:
        e = payload.exemption
        exemption = Exemption(
            certificate_ref=e.certificate_ref.strip(),
            reason=e.reason,
            jurisdictions=frozenset(j.strip().upper() for j in e.jurisdictions if j.strip()),
            valid_from=e.valid_from,
            valid_to=e.valid_to,
        )
    elif payload.account_id is not None:
        exemption = services.exemption_for(payload.account_id, tax_date)
    return TaxDocument(
        currency=currency,
        seller=Seller(payload.seller.country.upper(), payload.seller.region.upper(), payload.seller.vat_id),
        buyer=Buyer(
            buyer.country.upper(),
            buyer.region.upper(),
            kind=buyer.kind,
            vat_id=buyer.vat_id,
            vat_id_valid=vat_id_valid,
        ),
        tax_date=tax_date,
        lines=tuple(lines),
        prices_include_tax=payload.prices_include_tax,
        rounding_method=payload.rounding_method,
        rounding=payload.rounding,
        ship_from=_location(payload.ship_from),
        ship_to=_location(payload.ship_to),
        delivery_date=payload.delivery_date,
        exemption=exemption,
    )


def result_out(result: TaxResult) -> dict[str, Any]:
    return {
        "currency": result.currency,
        "rounding_method": str(result.rounding_method),
        "prices_include_tax": result.prices_include_tax,
        "net_total": str(result.net_total.amount),
        "tax_total": str(result.tax_total.amount),
        "gross_total": str(result.gross_total.amount),
        "lines": [
            {
                "id": line.line_id,
                "net": str(line.net.amount),
                "tax": str(line.tax.amount),
                "gross": str(line.gross.amount),
                "percent": str(line.percent),
                "category": str(line.category),
                "jurisdiction": line.jurisdiction,
                "treatment": str(line.treatment),
                "rule": line.rule,
                "mention": line.mention,
                "reason_code": line.reason_code,
                "tax_date": line.tax_date,
            }
            for line in result.lines
        ],
        "summary": [
            {
                "jurisdiction": row.jurisdiction,
                "category": str(row.category),
                "percent": str(row.percent),
                "taxable": str(row.taxable.amount),
                "tax": str(row.tax.amount),
                "mention": row.mention,
                "reason_code": row.reason_code,
                "line_ids": list(row.line_ids),
                "deliver_to_country": row.deliver_to_country,
                "delivery_date": row.delivery_date,
            }
            for row in result.summary
        ],
        "mentions": list(result.mentions),
        "warnings": [{"code": w.code, "message": w.message, "line_id": w.line_id} for w in result.warnings],
    }


@router.post(
    "/preview",
    response=TaxPreviewOut,
    operation_id="tax_preview_document",
    summary="Compute tax for draft lines (nothing is saved)",
)
def preview(request: HttpRequest, payload: TaxPreviewIn) -> dict[str, Any]:
    require(request, *PREVIEWERS)
    return result_out(services.preview(build_document(payload)))
