"""What the engine answers: priced lines with their waterfalls, totals, approval flags and
configuration violations.

All amounts are Decimals in the result's one currency, already rounded to its minor unit (see
docs/pricing.md for where rounding happens); ``*_money`` accessors give ``Money``. :meth:`as_dict`
is the JSON shape of ``POST /api/v1/pricing/preview`` (amounts as strings, so no float ever
carries a price).

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.catalog.pricing``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from q2c.catalog.pricing.price_models import TierCharge
from q2c.catalog.pricing.types import ZERO, Tier
from q2c.core.money import Money


class Step(NamedTuple):
    """One step of a line's price waterfall: the line amount after it and the rule that applied.

    Results are NamedTuples rather than dataclasses: immutable all the same, and a 10,000-line
    quote creates some 50,000 of them, which a tuple does several times faster."""

    kind: str  # list, price_model, minimum, maximum, bundle_included, contracted, schedule, promotion, manual, net
    rule: str  # which rule applied, e.g. "promotion SPRING27" or "schedule VOL: 5 % from 100"
    amount: Decimal
    delta: Decimal
    rule_id: str = ""  # stable id of the catalog row (e.g. "schedule:VOL", "contracted:12")

    def as_dict(self) -> dict[str, Any]:
        data = {"kind": self.kind, "rule": self.rule, "amount": str(self.amount), "delta": str(self.delta)}
        if self.rule_id:
            data["rule_id"] = self.rule_id
        return data


class ApprovalFlag(NamedTuple):
    """Why a line needs approval: ``discount.over_role_limit`` or ``price.below_floor``."""

    code: str
    message: str
    limit: Decimal
    actual: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "limit": str(self.limit),
            "actual": str(self.actual),
        }


@dataclass(frozen=True, slots=True)
class Violation:
    """A broken configuration rule, with a message a sales rep understands."""

    rule_id: str
    code: str
    message: str
    lines: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "code": self.code,
            "message": self.message,
            "lines": list(self.lines),
        }


class PricedLine(NamedTuple):
    """One charge of one quote line, priced.

    ``net`` is per billing period for recurring charges, once for one-time charges and the
    estimate for usage charges. ``tcv``/``list_tcv`` cover the quote's term (0 for usage).
    """

    key: str
    line_index: int  # position of the request line (lines[i])
    currency: str
    sku: str
    name: str
    charge: str
    charge_kind: str  # one_time, recurring, usage, credit
    quantity: Decimal
    model: str
    steps: tuple[Step, ...]
    list_amount: Decimal
    net: Decimal
    tcv: Decimal
    list_tcv: Decimal
    mrr: Decimal
    arr: Decimal
    parent: str = ""
    billing_period: str = ""
    period_months: int = 0
    timing: str = ""
    usage_metric: str = ""
    usage_aggregation: str = ""
    estimated: bool = False
    unit: str = ""
    net_unit_price: Decimal | None = None
    manual_discount_percent: Decimal = ZERO
    cost_tcv: Decimal | None = None
    approvals: tuple[ApprovalFlag, ...] = ()
    tax_category: str = ""
    revenue_category: str = ""
    revenue_rule: str = ""
    ssp_unit: Decimal | None = None
    tiers: tuple[TierCharge, ...] = ()
    rate_card: tuple[Tier, ...] = ()  # usage lines: the tiers billing will rate with
    description: str = ""
    product_id: int | None = None
    charge_id: int | None = None

    @property
    def needs_approval(self) -> bool:
        return bool(self.approvals)

    @property
    def net_money(self) -> Money:
        return Money(self.net, self.currency)

    @property
    def tcv_money(self) -> Money:
        return Money(self.tcv, self.currency)

    def static_dict(self) -> dict[str, Any]:
        """The JSON fields that depend only on the product and charge (shared by every line of the
        same charge in one answer: :meth:`PricingResult.as_dict` builds them once per charge)."""
        return {
            "sku": self.sku,
            "product_id": self.product_id,
            "charge_id": self.charge_id,
            "name": self.name,
            "charge": self.charge,
            "charge_kind": self.charge_kind,
            "unit": self.unit,
            "model": self.model,
            "billing_period": self.billing_period or None,
            "period_months": self.period_months,
            "timing": self.timing or None,
            "tax_category": self.tax_category,
            "revenue_category": self.revenue_category,
            "revenue_rule": self.revenue_rule,
            **(self._usage_dict() if self.charge_kind == "usage" else {}),
        }

    def _usage_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "usage_metric": self.usage_metric,
            "usage_aggregation": self.usage_aggregation,
        }
        if self.rate_card:
            data["rate_card"] = [
                {
                    "lower": str(t.lower),
                    "upper": None if t.upper is None else str(t.upper),
                    "unit_price": str(t.unit_price),
                    "flat_fee": str(t.flat_fee),
                }
                for t in self.rate_card
            ]
        return data

    def as_dict(self, static: dict[str, Any] | None = None) -> dict[str, Any]:
        # The hot part of a large answer (a 10,000-line quote holds some 50,000 steps): the tuple
        # is unpacked once instead of read field by field, each dict is built by one literal, and
        # the shared constant fields come in with one merge.
        (
            key, _, _, _, _, _, charge_kind, quantity, _, steps, list_amount, net, tcv, list_tcv,
            mrr, arr, parent, _, _, _, _, _, estimated, _, net_unit_price, manual_pct, cost_tcv,
            approvals, _, _, _, ssp_unit, tiers, _, description, _, _,
        ) = self  # fmt: skip
        data = {
            **(static if static is not None else self.static_dict()),
            "key": key,
            "quantity": str(quantity),
            "list_amount": str(list_amount),
            "net": str(net),
            "net_unit_price": None if net_unit_price is None else str(net_unit_price),
            "tcv": str(tcv),
            "list_tcv": str(list_tcv),
            "mrr": str(mrr),
            "arr": str(arr),
            "manual_discount_percent": str(manual_pct),
            "needs_approval": bool(approvals),
            "approvals": [a.as_dict() for a in approvals] if approvals else [],
            "steps": [
                {"kind": k, "rule": r, "amount": str(a), "delta": str(d), "rule_id": i}
                if i
                else {"kind": k, "rule": r, "amount": str(a), "delta": str(d)}
                for k, r, a, d, i in steps
            ],
            "parent": parent or None,
            "ssp_unit": None if ssp_unit is None else str(ssp_unit),
            "cost_tcv": None if cost_tcv is None else str(cost_tcv),
        }
        if charge_kind == "usage":
            data["estimated"] = estimated
        if tiers:
            data["tiers"] = [
                {
                    "tier": t.tier,
                    "lower": str(t.lower),
                    "upper": None if t.upper is None else str(t.upper),
                    "units": str(t.units),
                    "unit_price": str(t.unit_price),
                    "flat_fee": str(t.flat_fee),
                    "amount": str(t.amount),
                }
                for t in tiers
            ]
        if description:
            data["description"] = description
        return data


@dataclass(frozen=True, slots=True)
class Totals:
    """Quote totals; every figure is the sum of the lines' rounded figures (docs/pricing.md)."""

    currency: str
    one_time: Money
    recurring: Mapping[str, Money]  # per billing period: {"month": 1,275.00 EUR}
    mrr: Money
    arr: Money
    tcv: Money  # one-time + recurring over the term, usage excluded
    list_tcv: Money
    discount: Money  # list_tcv − tcv
    discount_percent: Decimal  # of list, two decimals
    usage_estimate: Money  # estimated usage per the usage lines' periods (not in the TCV)
    margin: Money | None  # over the term, for the lines whose cost is known
    margin_percent: Decimal | None
    margin_basis: Money  # the TCV of the lines whose cost is known

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "one_time": str(self.one_time.amount),
            "recurring": {k: str(v.amount) for k, v in self.recurring.items()},
            "mrr": str(self.mrr.amount),
            "arr": str(self.arr.amount),
            "tcv": str(self.tcv.amount),
            "list_tcv": str(self.list_tcv.amount),
            "discount": str(self.discount.amount),
            "discount_percent": str(self.discount_percent),
            "usage_estimate": str(self.usage_estimate.amount),
            "margin": None if self.margin is None else str(self.margin.amount),
            "margin_percent": None if self.margin_percent is None else str(self.margin_percent),
            "margin_basis": str(self.margin_basis.amount),
        }


@dataclass(frozen=True, slots=True)
class PricingResult:
    currency: str
    price_book: str
    as_of: date
    term_months: int
    sale_context: str
    lines: tuple[PricedLine, ...]
    totals: Totals
    violations: tuple[Violation, ...]
    promotions: tuple[str, ...]  # codes that applied to at least one line
    warnings: tuple[str, ...] = ()

    @property
    def needs_approval(self) -> bool:
        return any(line.approvals for line in self.lines)

    @property
    def valid(self) -> bool:
        """True when the configuration breaks no rule (approval is a separate question)."""
        return not self.violations

    def _lines_as_dicts(self) -> list[dict[str, Any]]:
        statics: dict[tuple[str, str], dict[str, Any]] = {}
        out = []
        for line in self.lines:
            static = statics.get((line.sku, line.charge))
            if static is None:
                static = statics[(line.sku, line.charge)] = line.static_dict()
            out.append(line.as_dict(static))
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "price_book": self.price_book,
            "as_of": self.as_of.isoformat(),
            "term_months": self.term_months,
            "sale_context": self.sale_context,
            "valid": not self.violations,
            "needs_approval": self.needs_approval,
            "lines": self._lines_as_dicts(),
            "totals": self.totals.as_dict(),
            "violations": [v.as_dict() for v in self.violations],
            "promotions": list(self.promotions),
            "warnings": list(self.warnings),
        }
