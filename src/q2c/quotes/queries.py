"""The read side of quotes: lists, the pipeline board, the approval inbox and history, and the
accepted quote as later apps need it.

:func:`accepted_quote` is the contract between quotes and the contracts app: everything a
contract needs from an accepted quote version, as plain JSON-ready data (amounts and quantities
as decimal strings). The ``quotes.quote.accepted`` event carries the same dictionary.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from q2c.core.money import Money
from q2c.core.periods import add_months
from q2c.platform.models import Event
from q2c.quotes import access
from q2c.quotes.domain import OPEN_STAGES, Stage, StepStatus
from q2c.quotes.errors import QuoteNotFound
from q2c.quotes.models import Acceptance, ApprovalDecision, ApprovalRequest, ApprovalStep, Opportunity, Quote


def quotes_for(
    user: Any, *, status: str = "", q: str = "", opportunity_id: int | None = None
) -> QuerySet[Quote]:
    rows = access.visible_quotes(user, Quote.objects.select_related("account", "owner", "opportunity"))
    if status:
        rows = rows.filter(status=status)
    if opportunity_id is not None:
        rows = rows.filter(opportunity_id=opportunity_id)
    if q:
        rows = rows.filter(Q(number__icontains=q) | Q(account__name__icontains=q) | Q(title__icontains=q))
    return rows.order_by("-id")


def opportunities_for(user: Any, *, stage: str = "", q: str = "") -> QuerySet[Opportunity]:
    rows = access.visible_opportunities(user, Opportunity.objects.select_related("account", "owner"))
    if stage:
        rows = rows.filter(stage=stage)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(account__name__icontains=q))
    return rows.order_by("-id")


def pipeline(user: Any) -> list[dict[str, Any]]:
    """The board: each stage with its opportunities, their total and probability-weighted amounts
    per currency (amounts in different currencies are not added together)."""
    rows = list(opportunities_for(user).order_by("expected_close_date", "id"))
    by_stage: dict[str, list[Opportunity]] = defaultdict(list)
    for opp in rows:
        by_stage[opp.stage].append(opp)
    board = []
    for stage in Stage:
        items = by_stage.get(stage, [])
        totals: dict[str, Money] = {}
        weighted: dict[str, Money] = {}
        for opp in items:
            if opp.amount is None:
                continue
            cur = opp.amount.currency
            totals[cur] = totals.get(cur, Money.zero(cur)) + opp.amount
            share = (opp.amount * Decimal(opp.probability) / Decimal(100)).round()
            weighted[cur] = weighted.get(cur, Money.zero(cur)) + share
        board.append(
            {
                "stage": str(stage),
                "open": stage in OPEN_STAGES,
                "opportunities": items,
                "count": len(items),
                "totals": sorted(totals.values(), key=lambda m: m.currency),
                "weighted": sorted(weighted.values(), key=lambda m: m.currency),
            }
        )
    return board


def inbox(user: Any) -> QuerySet[ApprovalStep]:
    """Open steps the user may decide and has not decided yet (admins see every open step of
    quotes that are not theirs)."""
    steps = ApprovalStep.objects.filter(status=StepStatus.PENDING).select_related(
        "request__quote__account", "request__quote__owner"
    )
    if not access.is_admin(user):
        steps = steps.filter(approvers=user)
    return (
        steps.exclude(request__quote__owner_id=user.pk)
        .exclude(decisions__approver_id=user.pk)
        .order_by("request__created_at", "id")
        .distinct()
    )


def approval_history(quote: Quote) -> list[ApprovalRequest]:
    return list(
        ApprovalRequest.objects.filter(quote=quote)
        .prefetch_related(
            Prefetch(
                "steps",
                queryset=ApprovalStep.objects.prefetch_related("approvers").order_by("sequence", "id"),
            ),
            Prefetch(
                "steps__decisions",
                queryset=ApprovalDecision.objects.select_related("approver").order_by("id"),
            ),
        )
        .order_by("id")
    )


def quote_events(quote: Quote) -> list[Event]:
    """Everything recorded about this quote version and its approval requests, in order."""
    request_ids = [str(i) for i in ApprovalRequest.objects.filter(quote=quote).values_list("pk", flat=True)]
    return list(
        Event.objects.filter(
            Q(aggregate_type="quotes.quote", aggregate_id=str(quote.pk))
            | Q(aggregate_type="quotes.approval", aggregate_id__in=request_ids)
        ).order_by("seq")
    )


def versions(quote: Quote) -> list[Quote]:
    return list(Quote.objects.filter(entity_id=quote.entity_id, number=quote.number).order_by("version"))


def contract_payload(quote: Quote, acceptance: Acceptance) -> dict[str, Any]:
    """The accepted quote as the contracts app needs it (see the module docstring)."""
    pricing = quote.pricing or {}
    lines = []
    for line in pricing.get("lines", []):
        recurring = line.get("charge_kind") == "recurring"
        lines.append(
            {
                "key": line.get("key"),
                "parent_key": line.get("parent"),
                "product_id": line.get("product_id"),
                "sku": line.get("sku"),
                "name": line.get("name"),
                "description": line.get("description", ""),
                "charge_id": line.get("charge_id"),
                "charge": line.get("charge"),
                "charge_kind": line.get("charge_kind"),
                "quantity": line.get("quantity"),
                "unit": line.get("unit"),
                "list_amount": line.get("list_amount"),
                "net_unit_price": line.get("net_unit_price"),
                "net": line.get("net"),
                "discount_percent": line.get("manual_discount_percent"),
                "tcv": line.get("tcv"),
                "mrr": line.get("mrr"),
                "billing_period": line.get("billing_period"),
                "period_months": line.get("period_months"),
                "timing": line.get("timing"),
                "billing_frequency": quote.billing_frequency if recurring else None,
                "usage_metric": line.get("usage_metric"),
                "usage_aggregation": line.get("usage_aggregation"),
                "rate_card": line.get("rate_card"),
                "tax_category": line.get("tax_category"),
                "revenue_category": line.get("revenue_category"),
                "revenue_rule": line.get("revenue_rule"),
                "ssp_unit": line.get("ssp_unit"),
                "sale_context": quote.sale_context,
            }
        )
    totals = pricing.get("totals", {})
    return {
        "quote_id": quote.pk,
        "number": quote.number,
        "version": quote.version,
        "opportunity_id": quote.opportunity_id,
        "account_id": quote.account_id,
        "entity_id": quote.entity_id,
        "owner_id": quote.owner_id,
        "currency": quote.currency,
        "price_book": pricing.get("price_book", quote.price_book),
        "sale_context": quote.sale_context,
        "start_date": quote.start_date.isoformat(),
        "end_date": add_months(quote.start_date, quote.term_months).isoformat(),
        "term_months": quote.term_months,
        "billing_frequency": quote.billing_frequency,
        "payment_terms_days": quote.payment_terms_days,
        "auto_renew": quote.auto_renew,
        "terms": quote.terms,
        "totals": totals,
        "lines": lines,
        "acceptance": {
            "signer_name": acceptance.signer_name,
            "signer_title": acceptance.signer_title,
            "accepted_at": acceptance.decided_at.isoformat(),
            "document_id": acceptance.document_id,
            "document_sha256": acceptance.document_sha256,
        },
    }


def accepted_quote(quote_id: int) -> dict[str, Any]:
    """The accepted quote version ``quote_id`` for the contracts app (404 unless accepted)."""
    quote = Quote.objects.select_related("acceptance").filter(pk=quote_id).first()
    acceptance = getattr(quote, "acceptance", None) if quote is not None else None
    if quote is None or acceptance is None or acceptance.outcome != Acceptance.Outcome.ACCEPTED:
        raise QuoteNotFound(f"no accepted quote {quote_id}", code="quotes.not_accepted", field="quote_id")
    return contract_payload(quote, acceptance)
