"""Discount recommendation: the discount that maximises the expected margin

    E[margin](d) = p(win | d) × (list value × (1 − d/100) − cost)

over quote-wide discounts *d* (the same discount on every line) the rep may give without
approval — never deeper than the floor prices allow (the smallest floor headroom of the quote's
lines) nor than the rep's manual discount limit. When a deeper discount inside the floor would
pay more, that is said beside it ("needs approval"), never recommended. The current option is
the quote as it stands (its own line discounts; its overall discount for the margin).

Pure: plain numbers in, a :class:`Recommendation` out. Amounts are Decimal (the quote's
currency, major units); probabilities are floats and enter amounts only as a Decimal with six
places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from q2c.analytics.forecasting.winprob import QuoteRow, WinModel

STEP = Decimal("0.5")
CENT = Decimal("0.01")
LABELS = {
    "discount": "discount",
    "log_size": "deal size",
    "term_years": "term",
    "days_in_stage": "days from creation to sending",
    "products": "number of products",
}


@dataclass(frozen=True)
class Option:
    discount: Decimal
    probability: float
    margin: Decimal
    expected_margin: Decimal


@dataclass(frozen=True)
class Recommendation:
    recommended: Option
    current: Option
    cap: Decimal  # the deepest discount allowed without approval
    cap_reason: str  # "rep limit" | "floor price" | "no limit"
    needs_approval: Option | None  # a better option beyond the rep's limit, inside the floor
    reasons: tuple[str, ...]


def expected_margin(p: float, margin: Decimal) -> Decimal:
    return (Decimal(str(round(p, 6))) * margin).quantize(CENT, rounding=ROUND_HALF_EVEN)


def _option(
    model: WinModel, row: QuoteRow, d: Decimal, list_value: Decimal, cost: Decimal, *, as_is: bool = False
) -> Option:
    """``d`` on every line (``as_is``: the quote as it stands, whose discount overall is ``d``)."""
    p = model.probability(row) if as_is else model.probability(row, discount=float(d))
    margin = (list_value * (1 - d / 100) - cost).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Option(discount=d, probability=p, margin=margin, expected_margin=expected_margin(p, margin))


def _grid(top: Decimal) -> list[Decimal]:
    out: list[Decimal] = []
    d = Decimal(0)
    while d <= top:
        out.append(d)
        d += STEP
    if out[-1] != top:
        out.append(top)
    return out


def _best(options: list[Option]) -> Option:
    # highest expected margin; on a tie, the smaller discount
    return max(options, key=lambda o: (o.expected_margin, -o.discount))


def reason_text(name: str, value: float) -> str:
    direction = "raises" if value > 0 else "lowers"
    if "=" in name:
        kind, _, what = name.partition("=")
        label = {"product": "product", "rep": "rep", "segment": "segment", "context": "sale context"}.get(
            kind, kind
        )
        return f"{label} {what} {direction} the chance"
    return f"{LABELS.get(name, name)} {direction} the chance"


def recommend(
    model: WinModel,
    row: QuoteRow,
    *,
    list_value: Decimal,
    cost: Decimal = Decimal(0),
    floor_discount: Decimal | None = None,
    rep_limit: Decimal | None = None,
) -> Recommendation:
    """Recommend a discount (percent) for ``row``.

    ``list_value``: the quote's value before discounts; ``cost``: its cost over the term (0 when
    the catalog knows none); ``floor_discount``: the deepest discount the floor prices allow
    (None: no floor); ``rep_limit``: the owner's manual discount limit (None: unlimited).
    """
    if list_value <= 0:
        raise ValueError("list_value must be positive")
    hard = Decimal(100) if floor_discount is None else max(Decimal(0), min(floor_discount, Decimal(100)))
    cap, cap_reason = hard, ("floor price" if floor_discount is not None else "no limit")
    if rep_limit is not None and rep_limit < cap:
        cap, cap_reason = max(Decimal(0), rep_limit), "rep limit"
    inside = [_option(model, row, d, list_value, cost) for d in _grid(cap)]
    best = _best(inside)
    beyond = None
    if cap < hard:
        outside = [_option(model, row, d, list_value, cost) for d in _grid(hard) if d > cap]
        if outside:
            top = _best(outside)
            if top.expected_margin > best.expected_margin:
                beyond = top
    current_d = min(max(Decimal(str(round(row.discount_percent, 2))), Decimal(0)), Decimal(100))
    current = _option(model, row, current_d, list_value, cost, as_is=True)
    reasons = [reason_text(n, v) for n, v in model.reasons(row)]
    return Recommendation(
        recommended=best,
        current=current,
        cap=cap,
        cap_reason=cap_reason,
        needs_approval=beyond,
        reasons=tuple(reasons),
    )
