"""Pricing a quote with the catalog's engine and checking it against the approval rules.

:func:`price_lines` builds the engine's request from a quote's header and lines, prices it with
``q2c.catalog.services.price_quote`` at the quote owner's manual-discount limit (so a manager
looking at a rep's quote sees the rep's flags), adds the catalog ids of each priced product and
charge (the contracts app needs them), and evaluates the active approval rules with the pure
engine in ``q2c.quotes.approval_rules``. Nothing is written.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from q2c.catalog.pricing.result import PricingResult
from q2c.catalog.services import get_snapshot, manual_discount_limit, price_quote, resolve_price_book
from q2c.core.errors import DomainError
from q2c.quotes.approval_rules import (
    LineFacts,
    Match,
    QuoteFacts,
    RuleKind,
    RuleSpec,
    StepSpec,
    evaluate,
    plan,
)
from q2c.quotes.domain import StepMode
from q2c.quotes.models import ApprovalRule


@dataclass(frozen=True)
class Priced:
    result: PricingResult
    snapshot: dict[str, Any]  # the JSON kept on the quote
    matches: tuple[Match, ...]
    steps: tuple[StepSpec, ...]

    @property
    def needs_approval(self) -> bool:
        return bool(self.matches)


def line_request(line: Mapping[str, Any]) -> dict[str, Any]:
    """One quote line as the engine's request line."""
    out: dict[str, Any] = {"key": line["key"], "sku": line["sku"]}
    if line.get("quantity") is not None:
        out["quantity"] = str(line["quantity"])
    if line.get("parent_key"):
        out["parent"] = line["parent_key"]
    if line.get("discount_kind") and line.get("discount_value") is not None:
        out["discount"] = {line["discount_kind"]: str(line["discount_value"])}
    if line.get("estimated_quantity") is not None:
        out["estimated_quantity"] = str(line["estimated_quantity"])
    if line.get("description"):
        out["description"] = line["description"]
    return out


def price_request(
    header: Mapping[str, Any], lines: Sequence[Mapping[str, Any]], *, as_of: date
) -> dict[str, Any]:
    request: dict[str, Any] = {
        "currency": header["currency"],
        "as_of": as_of.isoformat(),
        "start_date": header["start_date"].isoformat(),
        "term_months": int(header["term_months"]),
        "sale_context": header.get("sale_context") or "new",
        "account_id": int(header["account_id"]),
        "lines": [line_request(line) for line in lines],
    }
    if header.get("price_book"):
        request["price_book"] = header["price_book"]
    codes = [c for c in (header.get("promotion_codes") or "").split(",") if c.strip()]
    if codes:
        request["promotion_codes"] = [c.strip() for c in codes]
    return request


def active_rules() -> list[RuleSpec]:
    rules = []
    for rule in ApprovalRule.objects.filter(is_active=True).prefetch_related("steps").order_by("id"):
        steps = tuple(
            StepSpec(sequence=s.sequence, role=s.role, user_id=s.user_id, mode=StepMode(s.mode))
            for s in rule.steps.all()
        )
        if not steps:
            continue  # a rule nobody approves cannot route anything; the admin form requires a step
        rules.append(
            RuleSpec(
                id=rule.pk,
                name=rule.name,
                kind=RuleKind(rule.kind),
                steps=steps,
                threshold=rule.threshold,
                currency=rule.currency,
            )
        )
    return rules


def _facts(
    result: PricingResult, *, payment_terms_days: int, terms: str, limit: Decimal | None
) -> QuoteFacts:
    lines = []
    for line in result.lines:
        floor_flag = next((a for a in line.approvals if a.code == "price.below_floor"), None)
        lines.append(
            LineFacts(
                key=line.key,
                sku=line.sku,
                manual_discount_percent=line.manual_discount_percent,
                below_floor=floor_flag is not None,
                net=line.net,
                floor=floor_flag.limit if floor_flag is not None else None,
            )
        )
    return QuoteFacts(
        currency=result.currency,
        tcv=result.totals.tcv.amount,
        payment_terms_days=payment_terms_days,
        terms_text=terms,
        margin_percent=result.totals.margin_percent,
        discount_limit=limit,
        lines=tuple(lines),
    )


def _with_catalog_ids(result: PricingResult) -> dict[str, Any]:
    data = result.as_dict()
    try:
        book = resolve_price_book(result.currency, result.price_book, "", "", result.as_of)
        products = get_snapshot(book, result.as_of).products
    except DomainError:  # pragma: no cover - the engine just priced with this very book
        products = {}
    for line in data["lines"]:
        product = products.get(line["sku"])
        line["product_id"] = product.id if product else None
        charge = next((c for c in product.charges if c.code == line["charge"]), None) if product else None
        line["charge_id"] = charge.id if charge else None
    return data


def price_lines(
    header: Mapping[str, Any],
    lines: Sequence[Mapping[str, Any]],
    *,
    owner: Any,
    as_of: date,
) -> Priced:
    """Price ``lines`` under ``header`` for a quote owned by ``owner``.

    ``header`` holds currency, price_book, start_date, term_months, sale_context, account_id,
    promotion_codes, payment_terms_days and terms. Raises the catalog's ``PricingInputError``
    (422, one entry per line and field at fault) when the lines cannot be priced at all;
    configuration rule violations are part of the result (``result.violations``).
    """
    limit = manual_discount_limit(owner)
    result = price_quote(price_request(header, lines, as_of=as_of), owner, limit=limit)
    rules = active_rules()
    facts = _facts(
        result,
        payment_terms_days=int(header["payment_terms_days"]),
        terms=str(header.get("terms") or ""),
        limit=limit,
    )
    matches = evaluate(rules, facts)
    return Priced(
        result=result, snapshot=_with_catalog_ids(result), matches=matches, steps=plan(rules, matches)
    )
