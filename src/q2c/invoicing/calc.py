"""Pricing an invoice: the line pipeline and its tax, as plain data (no ORM).

:func:`price` takes draft lines, the currency and a :class:`TaxContext` (seller, buyer, tax date,
rounding settings) and returns every line's gross, net and tax with the VAT breakdown and totals,
in integer minor units. Tax comes from the tax engine (``q2c.tax.engine.compute``).

The bill run prices tens of thousands of invoices that differ only in their amounts, so
:class:`TaxMemo` keeps, per *tax signature* — everything the engine decides on except amounts
(parties, places, dates, settings, each line's tax category and supply date) — the engine's
decision for each line. When every VAT breakdown row of that signature holds exactly one line,
a row's tax is ``round(net × rate)`` whichever rounding method applies — the engine's own
:func:`q2c.tax.engine.tax_of`, computed here in integers (:func:`tax_minor`); the engine is then
asked once per signature instead of once per invoice. Signatures with more than one line in a row, or whose decision carried a warning, are
always computed by the engine in full. A Hypothesis property (tests/invoicing/test_calc.py)
checks that the memo gives what ``compute`` gives.

Must not import Django or any q2c app above ``tax`` (pure: ``q2c.core``, ``q2c.tax.engine``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core.errors import DomainError
from q2c.core.money import Money, Rounding, currency_exponent
from q2c.invoicing.domain import Posting, display_unit_price, line_gross_minor, tax_code
from q2c.tax.engine import (
    Buyer,
    Exemption,
    Location,
    RoundingMethod,
    Seller,
    TaxCategory,
    TaxDocument,
    TaxLine,
    compute,
)
from q2c.tax.engine.document import SupplyType
from q2c.tax.engine.ruleset import RuleSet

#: Goods categories: their supply date is the delivery date and they travel to ``ship_to``.
GOODS_CATEGORIES = frozenset({TaxCategory.GOODS})


def is_goods(line: DraftLine) -> bool:
    """Goods by category, or a line whose supply type says so (a book at the reduced rate)."""
    return line.supply_type == SupplyType.GOODS or line.tax_category in GOODS_CATEGORIES


@dataclass(frozen=True, slots=True)
class TaxContext:
    """What the tax engine needs about a document besides its lines."""

    seller: Seller
    buyer: Buyer
    tax_date: date
    method: RoundingMethod = RoundingMethod.PER_RATE
    rounding: Rounding = "half_up"
    ship_from: Location | None = None
    ship_to: Location | None = None
    exemption: Exemption | None = None


@dataclass(frozen=True, slots=True)
class DraftLine:
    """One invoice line before tax.

    ``gross_minor`` may be given by the caller (the billing engine's prorated amount, already
    rounded once); otherwise it is ``round(quantity × unit_price × share_num ÷ share_den)``.
    """

    description: str
    quantity: Decimal
    unit_price: Decimal
    tax_category: str
    share_num: int = 1
    share_den: int = 1
    discount_minor: int = 0
    gross_minor: int | None = None
    item_id: str = ""
    unit_code: str = "C62"
    service_start: date | None = None
    service_end: date | None = None
    delivery_date: date | None = None
    source_type: str = "manual"
    source_id: str = ""
    contract_id: int | None = None
    contract_number: str = ""
    contract_line_key: str = ""
    schedule_id: int | None = None
    revenue_category: str = "other"
    posting: str = Posting.REVENUE
    detail: str = ""
    #: A usage line's tier breakdown as stored and printed (``build.normalize_tiers``): dicts of
    #: ``lower`` (first unit, inclusive), ``upper`` (last unit or None), ``quantity``,
    #: ``unit_price`` and ``amount`` (rounded to the currency), all decimal text.
    tiers: tuple[Mapping[str, Any], ...] = ()
    #: ``goods`` or ``services`` where the tax category does not imply it (``reduced``,
    #: ``exempt``, ``zero`` …); empty: implied by the category.
    supply_type: str = ""


@dataclass(frozen=True, slots=True)
class PricedLine:
    line: DraftLine
    gross_minor: int
    net_minor: int
    tax_minor: int
    vat_category: str
    percent: Decimal
    jurisdiction: str
    mention: str
    reason_code: str
    tax_code: str
    print_unit_price: Decimal
    base_quantity: Decimal


@dataclass(frozen=True, slots=True)
class TaxRow:
    """One row of the VAT breakdown (BG-23)."""

    jurisdiction: str
    category: str
    percent: Decimal
    taxable_minor: int
    tax_minor: int
    mention: str
    reason_code: str
    tax_code: str
    deliver_to_country: str = ""
    delivery_date: date | None = None


@dataclass(frozen=True, slots=True)
class Priced:
    currency: str
    lines: tuple[PricedLine, ...]
    rows: tuple[TaxRow, ...]
    net_minor: int
    tax_minor: int
    warnings: tuple[tuple[str, str], ...] = ()
    delivery_date: date | None = None

    @property
    def total_minor(self) -> int:
        return self.net_minor + self.tax_minor


@dataclass(frozen=True, slots=True)
class _Decision:
    percent: Decimal
    category: str
    jurisdiction: str
    mention: str
    reason_code: str
    deliver_to_country: str
    delivery_date: date | None


@dataclass
class TaxMemo:
    """Engine decisions per tax signature (see the module docstring). One per bill run."""

    decisions: dict[tuple[Any, ...], tuple[_Decision, ...] | DomainError | None] = field(default_factory=dict)
    engine_calls: int = 0
    fast: int = 0


def _category(value: str, i: int) -> TaxCategory:
    try:
        return TaxCategory(value)
    except ValueError:
        from q2c.tax.engine.errors import TaxError

        raise TaxError(f"'{value}' is not a tax category", field=f"lines[{i}].tax_category") from None


def _document(currency: str, ctx: TaxContext, lines: Sequence[DraftLine], nets: Sequence[int]) -> TaxDocument:
    goods_dates = [ln.delivery_date for ln in lines if ln.delivery_date and is_goods(ln)]
    has_goods = any(_category(ln.tax_category, i) and is_goods(ln) for i, ln in enumerate(lines))
    return TaxDocument(
        currency=currency,
        seller=ctx.seller,
        buyer=ctx.buyer,
        tax_date=ctx.tax_date,
        lines=tuple(
            TaxLine(
                id=str(i + 1),
                amount=Money.from_minor(net, currency),
                tax_category=_category(ln.tax_category, i),
                supply_type=SupplyType(ln.supply_type) if ln.supply_type else None,
                supply_date=ln.delivery_date if is_goods(ln) else None,
            )
            for i, (ln, net) in enumerate(zip(lines, nets, strict=True))
        ),
        rounding_method=ctx.method,
        rounding=ctx.rounding,
        ship_from=ctx.ship_from,
        # Goods need the deliver-to country stated (BT-80) for an intra-Community supply.
        ship_to=ctx.ship_to if has_goods else None,
        delivery_date=max(goods_dates) if goods_dates else None,
        exemption=ctx.exemption,
    )


def _signature(currency: str, ctx: TaxContext, lines: Sequence[DraftLine]) -> tuple[Any, ...]:
    buyer = ctx.buyer
    # The engine decides on whether the buyer's VAT id is valid, not on its digits.
    profile = Buyer(buyer.country, buyer.region, buyer.kind, "", buyer.vat_id_valid)
    return (
        currency,
        ctx.seller,
        profile,
        ctx.tax_date,
        ctx.method,
        ctx.rounding,
        ctx.ship_from,
        ctx.ship_to,
        ctx.exemption,
        tuple((ln.tax_category, ln.supply_type, ln.delivery_date) for ln in lines),
    )


def price(
    lines: Sequence[DraftLine],
    currency: str,
    ctx: TaxContext,
    rules: RuleSet,
    *,
    rounding: Rounding = "half_up",
    memo: TaxMemo | None = None,
) -> Priced:
    """Run the pipeline over ``lines``; raises the tax engine's errors (``tax.*``) unchanged."""
    exponent = currency_exponent(currency)
    grosses: list[int] = []
    nets: list[int] = []
    for ln in lines:
        gross = (
            ln.gross_minor
            if ln.gross_minor is not None
            else line_gross_minor(ln.quantity, ln.unit_price, ln.share_num, ln.share_den, exponent, rounding)
        )
        grosses.append(gross)
        nets.append(gross - ln.discount_minor)
    decisions: tuple[_Decision, ...] | None = None
    key: tuple[Any, ...] | None = None
    if memo is not None:
        key = _signature(currency, ctx, lines)
        cached = memo.decisions.get(key, False)
        if isinstance(cached, DomainError):
            raise cached
        if cached:
            decisions = cached  # type: ignore[assignment]
    if decisions is not None:
        assert memo is not None
        memo.fast += 1
        taxes = [tax_minor(net, d.percent, ctx.rounding) for net, d in zip(nets, decisions, strict=True)]
        rows = tuple(
            TaxRow(d.jurisdiction, d.category, d.percent, net, tax, d.mention, d.reason_code,
                   _code(d.jurisdiction, d.category, d.percent), d.deliver_to_country, d.delivery_date)
            for d, net, tax in zip(decisions, nets, taxes, strict=True)
        )  # fmt: skip
        out_lines = tuple(
            _priced(
                ln, gross, net, tax, d.category, d.percent, d.jurisdiction, d.mention, d.reason_code, exponent
            )
            for ln, gross, net, tax, d in zip(lines, grosses, nets, taxes, decisions, strict=True)
        )
        goods = [ln.delivery_date for ln in lines if ln.delivery_date and is_goods(ln)]
        return Priced(currency, out_lines, rows, sum(nets), sum(taxes), (), max(goods) if goods else None)

    document = _document(currency, ctx, lines, nets)
    try:
        result = compute(document, rules)
    except DomainError as exc:
        if memo is not None and key is not None:
            memo.decisions[key] = exc
        raise
    if memo is not None:
        memo.engine_calls += 1
    by_id = {lt.line_id: lt for lt in result.lines}
    out = []
    for i, (ln, gross, net) in enumerate(zip(lines, grosses, nets, strict=True)):
        lt = by_id[str(i + 1)]
        out.append(
            _priced(ln, gross, net, lt.tax.minor_units(), lt.category.value, lt.percent, lt.jurisdiction,
                    lt.mention, lt.reason_code, exponent)
        )  # fmt: skip
    rows = tuple(
        TaxRow(
            s.jurisdiction,
            s.category.value,
            s.percent,
            s.taxable.minor_units(),
            s.tax.minor_units(),
            s.mention,
            s.reason_code,
            tax_code(s.jurisdiction, s.category.value, s.percent),
            s.deliver_to_country,
            s.delivery_date,
        )
        for s in result.summary
    )
    if memo is not None and key is not None and key not in memo.decisions:
        single = all(len(s.line_ids) == 1 for s in result.summary)
        if single and not result.warnings:
            memo.decisions[key] = tuple(
                _Decision(
                    by_id[str(i + 1)].percent,
                    by_id[str(i + 1)].category.value,
                    by_id[str(i + 1)].jurisdiction,
                    by_id[str(i + 1)].mention,
                    by_id[str(i + 1)].reason_code,
                    next(s.deliver_to_country for s in result.summary if str(i + 1) in s.line_ids),
                    next(s.delivery_date for s in result.summary if str(i + 1) in s.line_ids),
                )
                for i in range(len(lines))
            )
        else:
            memo.decisions[key] = None
    return Priced(
        currency,
        tuple(out),
        rows,
        result.net_total.minor_units(),
        result.tax_total.minor_units(),
        tuple((w.code, w.message) for w in result.warnings),
        document.delivery_date,
    )


_RATIOS: dict[Decimal, tuple[int, int]] = {}
_CODES: dict[tuple[str, str, Decimal], str] = {}


def tax_minor(net_minor: int, percent: Decimal, rounding: Rounding = "half_up") -> int:
    """``round(net × percent ÷ 100)`` in integers — what the engine's ``tax_of`` computes in Decimal
    at 60 digits, without the decimal context (a property test checks they agree)."""
    ratio = _RATIOS.get(percent)
    if ratio is None:
        ratio = _RATIOS[percent] = percent.as_integer_ratio()
    a, b = ratio
    num, den = net_minor * a, 100 * b
    q, r = divmod(abs(num), den)
    if 2 * r > den or (2 * r == den and (rounding == "half_up" or q & 1)):
        q += 1
    return -q if num < 0 else q


def _code(jurisdiction: str, category: str, percent: Decimal) -> str:
    key = (jurisdiction, category, percent)
    found = _CODES.get(key)
    if found is None:
        found = _CODES[key] = tax_code(jurisdiction, category, percent)
    return found


def _priced(
    ln: DraftLine, gross: int, net: int, tax: int, category: str, percent: Decimal, jurisdiction: str,
    mention: str, reason_code: str, exponent: int,
) -> PricedLine:  # fmt: skip
    unit, base_qty = display_unit_price(net, gross, ln.quantity, ln.unit_price, exponent)
    return PricedLine(
        ln, gross, net, tax, category, percent, jurisdiction, mention, reason_code,
        _code(jurisdiction, category, percent), unit, base_qty,
    )  # fmt: skip
