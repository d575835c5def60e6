"""Discount recommendation: the discount that maximises the expected margin

    E[margin](d) = p(win | d) × (target list × (1 − d/100) + rest − cost)

over line discounts *d* on the quote's *target lines* (the lines the buyer responds to: the
seats; :func:`q2c.analytics.forecasting.gather.target_lines`), the other lines keeping their
value *rest* as they stand; without target lines, *d* goes on every line (target list = the
quote's list value, rest = 0). The chance is the model's at that line discount and at the
quote's value at *d*. Only discounts the rep may give without approval are recommended — never
deeper than the floor prices of the target lines allow nor than the rep's manual discount limit.
When a deeper discount inside the floor would pay more, that is said beside it ("needs
approval"), never recommended; nor deeper than any discount in the model's history (there its
curve is extrapolation). The current option is the quote as it stands.

Pure: plain numbers in, a :class:`Recommendation` out. Amounts are Decimal (the quote's
currency, major units); probabilities are floats and enter amounts only as a Decimal with six
places.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from q2c.analytics.forecasting.winprob import QuoteRow, WinModel, seen_discount

STEP = Decimal("0.5")
CENT = Decimal("0.01")
LABELS = {
    "discount": "discount",
    "log_size": "deal size",
    "term_years": "term",
    "days_in_stage": "days from creation to sending",
    "products": "number of products",
    "goods": "goods on the quote",
    "no goods": "no goods on the quote",
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
    model: WinModel, row: QuoteRow, d: Decimal, target: Decimal, rest: Decimal, cost: Decimal
) -> Option:
    """``d`` on the target lines, the rest as it stands."""
    value = target * (1 - d / 100) + rest
    p = model.probability(row, discount=float(d), deal_size=float(value))
    margin = (value - cost).quantize(CENT, rounding=ROUND_HALF_EVEN)
    return Option(discount=d, probability=p, margin=margin, expected_margin=expected_margin(p, margin))


def _current(model: WinModel, row: QuoteRow, value: Decimal, cost: Decimal) -> Option:
    """The quote as it stands: its own line discounts (the deepest shown) and value."""
    d = min(max(Decimal(str(round(seen_discount(row), 2))), Decimal(0)), Decimal(100))
    p = model.probability(row)
    margin = (value - cost).quantize(CENT, rounding=ROUND_HALF_EVEN)
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
    target_list: Decimal | None = None,
    rest_value: Decimal = Decimal(0),
    value: Decimal | None = None,
) -> Recommendation:
    """Recommend a line discount (percent) on the target lines of ``row``.

    ``list_value``: the quote's value before discounts; ``cost``: its cost over the term (0 when
    the catalog knows none); ``floor_discount``: the deepest discount the target lines' floor
    prices allow (None: no floor); ``rep_limit``: the owner's manual discount limit (None:
    unlimited); ``target_list``: the target lines' list value (None or 0: no target lines, the
    discount goes on every line); ``rest_value``: the other lines' value as they stand;
    ``value``: the quote's value as it stands (default: ``list_value`` less its overall discount).
    Raises ValueError for a quote without a positive list value.
    """
    if list_value <= 0:
        raise ValueError("list_value must be positive")
    if not target_list or target_list <= 0:
        target_list, rest_value = list_value, Decimal(0)
    if value is None:
        value = list_value * (1 - Decimal(str(round(row.discount_percent, 2))) / 100)
    hard = Decimal(100) if floor_discount is None else max(Decimal(0), min(floor_discount, Decimal(100)))
    cap, cap_reason = hard, ("floor price" if floor_discount is not None else "no limit")
    seen = Decimal(str(round(model.max_discount, 2)))
    if 0 < seen < hard:  # the model knows nothing of deeper discounts
        hard = seen
        cap, cap_reason = hard, "deepest discount in the history"
    if rep_limit is not None and rep_limit < cap:
        cap, cap_reason = max(Decimal(0), rep_limit), "rep limit"
    inside = [_option(model, row, d, target_list, rest_value, cost) for d in _grid(cap)]
    best = _best(inside)
    beyond = None
    if cap < hard:
        outside = [_option(model, row, d, target_list, rest_value, cost) for d in _grid(hard) if d > cap]
        if outside:
            top = _best(outside)
            if top.expected_margin > best.expected_margin:
                beyond = top
    current = _current(model, row, value, cost)
    reasons = [reason_text(n, v) for n, v in model.reasons(row)]
    return Recommendation(
        recommended=best,
        current=current,
        cap=cap,
        cap_reason=cap_reason,
        needs_approval=beyond,
        reasons=tuple(reasons),
    )
