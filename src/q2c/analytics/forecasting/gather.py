"""Reads the quotes tables into the plain rows of :mod:`.winprob` and the guardrails of
:mod:`.recommend`. Read-only.

- *decided* quotes: sent, then accepted (won), rejected or expired (lost); withdrawn quotes and
  quotes never sent are left out (no buyer saw them);
- *segment proxy*: q2c keeps no customer segment, so the band of the quote's largest recurring
  quantity stands for it (fewer than 20 seats "small", 20–79 "mid", 80 or more "large");
- *days in stage*: days from the quote's creation to its sending (known before the buyer
  decides; the time to the decision would leak the outcome — expired quotes wait longest);
- *goods*: the quote has a line taxed as goods or recognised as hardware;
- *target lines*: the lines a recommended discount goes on — the recurring lines with the
  quote's largest recurring quantity (the seats), the same lines that give the segment proxy.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from decimal import Decimal, InvalidOperation
from typing import Any

from q2c.analytics.forecasting.winprob import QuoteRow

WON = "accepted"
LOST = ("rejected", "expired")


def _dec(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def segment_band(lines: list[Mapping[str, Any]]) -> str:
    seats = [
        _dec(line.get("quantity")) or Decimal(0) for line in lines if line.get("charge_kind") == "recurring"
    ]
    top = max(seats, default=Decimal(0))
    if top >= 80:
        return "large"
    if top >= 20:
        return "mid"
    return "small"


def target_lines(lines: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The recurring lines with the quote's largest recurring quantity (none without one)."""
    recurring = [
        (line, _dec(line.get("quantity")) or Decimal(0))
        for line in lines
        if line.get("charge_kind") == "recurring"
    ]
    top = max((q for _, q in recurring), default=Decimal(0))
    return [line for line, q in recurring if q == top and top > 0]


def deepest_line_discount(lines: list[Mapping[str, Any]]) -> float:
    """The largest manual discount (percent) of the priced lines; 0 without any."""
    return float(
        max((_dec(line.get("manual_discount_percent")) or Decimal(0) for line in lines), default=Decimal(0))
    )


def row_of(quote: Any, *, won: bool | None) -> QuoteRow:
    lines = list((quote.pricing or {}).get("lines", []))
    sent = quote.sent_at or quote.created_at
    days = max(0.0, (sent - quote.created_at).total_seconds() / 86400.0)
    decided = quote.decided_at.astimezone(UTC).date() if quote.decided_at else None
    pct = _dec(quote.discount_percent) or Decimal(0)
    return QuoteRow(
        discount_percent=float(pct),
        deal_size=float(quote.tcv.amount),
        term_months=int(quote.term_months),
        products=tuple(sorted({str(line.get("sku", "")) for line in lines if line.get("sku")})),
        segment=segment_band(lines),
        rep=quote.owner.get_username(),
        days_in_stage=round(days, 3),
        won=won,
        decided_on=decided,
        quote_id=quote.pk,
        context=str(quote.sale_context or "new"),
        line_discount=deepest_line_discount(lines),
        goods=any(
            line.get("tax_category") == "goods" or line.get("revenue_category") == "hardware"
            for line in lines
        ),
    )


def history(entity_id: int | None = None) -> list[QuoteRow]:
    """Every decided quote (see the module's note), oldest decision first."""
    from q2c.quotes.models import Quote

    qs = Quote.objects.filter(sent_at__isnull=False, status__in=(WON, *LOST)).select_related("owner")
    if entity_id is not None:
        qs = qs.filter(entity_id=entity_id)
    rows = [row_of(q, won=q.status == WON) for q in qs.order_by("decided_at", "id").iterator(chunk_size=500)]
    return rows


@dataclass(frozen=True)
class QuoteFacts:
    """What the recommendation needs of one open quote."""

    row: QuoteRow
    currency: str
    list_value: Decimal
    cost: Decimal
    floor_discount: Decimal | None  # over the target lines (see the module's note)
    rep_limit: Decimal | None
    target_list: Decimal = Decimal(0)  # list TCV of the target lines
    rest_value: Decimal = Decimal(0)  # TCV of the other lines, with their own discounts
    value: Decimal = Decimal(0)  # the quote's TCV as it stands
    targets: tuple[str, ...] = ()  # names of the target lines


def floor_discount(quote: Any, lines: list[Mapping[str, Any]] | None = None) -> Decimal | None:
    """The deepest discount (percent) that keeps every one of ``lines`` (default: all the
    quote's lines) at or above its floor price: min over lines with a floor of
    1 − floor × quantity / list amount (None: no floor)."""
    from q2c.catalog.services import get_snapshot, resolve_price_book
    from q2c.core.errors import DomainError

    data = quote.pricing or {}
    if lines is None:
        lines = data.get("lines", [])
    if not lines:
        return None
    try:
        book = resolve_price_book(
            quote.currency, quote.price_book, "", "", quote.priced_on or quote.start_date
        )
        products = get_snapshot(book, quote.priced_on or quote.start_date).products
    except DomainError:
        return None
    caps: list[Decimal] = []
    for line in lines:
        product = products.get(str(line.get("sku", "")))
        if product is None or line.get("charge_kind") == "usage":
            continue
        charge = next((c for c in product.charges if c.code == line.get("charge")), None)
        floor = getattr(charge, "floor_unit_price", None)
        qty = _dec(line.get("quantity")) or Decimal(0)
        list_amount = _dec(line.get("list_amount")) or Decimal(0)
        if floor is None or qty <= 0 or list_amount <= 0:
            continue
        caps.append(max(Decimal(0), (1 - floor * qty / list_amount) * 100))
    if not caps:
        return None
    return min(caps).quantize(Decimal("0.01"))


def facts(quote: Any) -> QuoteFacts:
    from q2c.catalog.services import manual_discount_limit

    lines = (quote.pricing or {}).get("lines", [])
    costs = [_dec(line.get("cost_tcv")) for line in lines]
    cost = sum((c for c in costs if c is not None), Decimal(0))
    list_value = quote.list_tcv.amount
    targets = target_lines(lines)
    keys = {id(line) for line in targets}
    target_list = sum((_dec(line.get("list_tcv")) or Decimal(0) for line in targets), Decimal(0))
    rest = sum((_dec(line.get("tcv")) or Decimal(0) for line in lines if id(line) not in keys), Decimal(0))
    return QuoteFacts(
        row=row_of(quote, won=None),
        currency=quote.currency,
        list_value=list_value,
        cost=cost,
        floor_discount=floor_discount(quote, targets) if targets else floor_discount(quote),
        rep_limit=manual_discount_limit(quote.owner),
        target_list=target_list,
        rest_value=rest,
        value=quote.tcv.amount,
        targets=tuple(str(line.get("name") or line.get("sku") or "") for line in targets),
    )


def log_size(value: float) -> float:
    return math.log(max(value, 1.0))
