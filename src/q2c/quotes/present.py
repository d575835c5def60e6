"""Plain dictionaries of quotes, opportunities and approvals for the API and the pages.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from q2c.catalog.services import get_snapshot, resolve_price_book
from q2c.core.errors import DomainError
from q2c.quotes.models import ApprovalRequest, ApprovalStep, Opportunity, Quote, StageChange


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def line_out(line: Any) -> dict[str, Any]:
    return {
        "key": line.key,
        "sku": line.sku,
        "quantity": _s(line.quantity),
        "parent_key": line.parent_key,
        "discount": {line.discount_kind: str(line.discount_value)} if line.discount_kind else None,
        "estimated_quantity": _s(line.estimated_quantity),
        "description": line.description,
    }


def quote_summary(q: Quote) -> dict[str, Any]:
    return {
        "id": q.pk,
        "number": q.number,
        "version": q.version,
        "label": q.label,
        "status": q.status,
        "is_primary": q.is_primary,
        "opportunity_id": q.opportunity_id,
        "account_id": q.account_id,
        "account_name": q.account.name,
        "owner": q.owner.get_username(),
        "currency": q.currency,
        "tcv": str(q.tcv.amount),
        "valid_until": q.valid_until,
        "lock_version": q.lock_version,
    }


def quote_out(q: Quote) -> dict[str, Any]:
    data = quote_summary(q)
    data.update(
        {
            "entity_id": q.entity_id,
            "title": q.title,
            "introduction": q.introduction,
            "terms": q.terms,
            "price_book": q.price_book,
            "sale_context": q.sale_context,
            "promotion_codes": [c for c in q.promotion_codes.split(",") if c],
            "start_date": q.start_date,
            "term_months": q.term_months,
            "billing_frequency": q.billing_frequency,
            "payment_terms_days": q.payment_terms_days,
            "auto_renew": q.auto_renew,
            "contact_name": q.contact_name,
            "contact_email": q.contact_email,
            "lines": [line_out(line) for line in q.lines.all()],
            "totals": {
                "currency": q.currency,
                "one_time": str(q.one_time.amount),
                "mrr": str(q.mrr.amount),
                "arr": str(q.arr.amount),
                "tcv": str(q.tcv.amount),
                "list_tcv": str(q.list_tcv.amount),
                "discount": str(q.discount.amount),
                "discount_percent": str(q.discount_percent),
                "margin_percent": _s(q.margin_percent),
            },
            "pricing": q.pricing or {},
            "valid_configuration": q.valid_configuration,
            "approval_required": bool(q.approval_matches),
            "approval_reasons": list(q.approval_matches or []),
            "superseded": q.superseded_at is not None,
            "revised_from_id": q.revised_from_id,
            "created_at": q.created_at,
            "submitted_at": q.submitted_at,
            "approved_at": q.approved_at,
            "sent_at": q.sent_at,
            "decided_at": q.decided_at,
        }
    )
    return data


def opportunity_out(o: Opportunity) -> dict[str, Any]:
    return {
        "id": o.pk,
        "name": o.name,
        "account_id": o.account_id,
        "account_name": o.account.name,
        "entity_id": o.entity_id,
        "owner": o.owner.get_username(),
        "owner_id": o.owner_id,
        "stage": o.stage,
        "probability": str(o.probability),
        "currency": o.currency,
        "amount": None if o.amount is None else str(o.amount.amount),
        "expected_close_date": o.expected_close_date,
        "next_step": o.next_step,
        "loss_reason": o.loss_reason,
        "closed_on": o.closed_on,
        "created_at": o.created_at,
        "lock_version": o.lock_version,
    }


def stage_change_out(c: StageChange) -> dict[str, Any]:
    return {
        "from_stage": c.from_stage,
        "to_stage": c.to_stage,
        "probability": str(c.probability),
        "changed_at": c.changed_at,
        "actor": c.actor,
        "note": c.note,
    }


def step_out(step: ApprovalStep) -> dict[str, Any]:
    quote = step.request.quote
    return {
        "id": step.pk,
        "request_id": step.request_id,
        "quote_id": quote.pk,
        "quote_label": quote.label,
        "account_name": quote.account.name,
        "owner": quote.owner.get_username(),
        "sequence": step.sequence,
        "role": step.role or None,
        "user_id": step.user_id,
        "mode": step.mode,
        "status": step.status,
        "approver_ids": sorted(u.pk for u in step.approvers.all()),
        "reasons": list(step.request.reasons or []),
        "tcv": str(quote.tcv.amount),
        "currency": quote.currency,
        "decisions": [
            {
                "approver": d.approver.get_username(),
                "decision": d.decision,
                "comment": d.comment,
                "decided_at": d.decided_at,
            }
            for d in step.decisions.all()
        ],
    }


def request_out(r: ApprovalRequest) -> dict[str, Any]:
    return {
        "id": r.pk,
        "status": r.status,
        "reasons": list(r.reasons or []),
        "requested_by": r.requested_by,
        "created_at": r.created_at,
        "decided_at": r.decided_at,
        "steps": [step_out(s) for s in r.steps.all()],
    }


def search_products(
    q: str, *, currency: str, price_book: str, as_of: date, limit: int = 20
) -> list[dict[str, Any]]:
    """Products of the quote's price book whose SKU or name contains ``q`` (bundles with their
    options), for the builder's product picker."""
    try:
        book = resolve_price_book(currency, price_book, "", "", as_of)
        snapshot = get_snapshot(book, as_of)
    except DomainError:
        return []
    needle = q.strip().lower()
    found = []
    for product in sorted(snapshot.products.values(), key=lambda p: p.sku):
        if not product.active_on(as_of):
            continue
        if needle and needle not in product.sku.lower() and needle not in product.name.lower():
            continue
        bundle = snapshot.bundles.get(product.sku)
        options = []
        if bundle is not None:
            for group in bundle.groups:
                for option in group.options:
                    options.append(
                        {"group": group.name, "sku": option.sku, "selection": str(option.selection)}
                    )
        found.append(
            {
                "sku": product.sku,
                "name": product.name,
                "type": str(product.type),
                "unit": product.uom,
                "is_bundle": product.is_bundle,
                "options": options,
            }
        )
        if len(found) >= limit:
            break
    return found
