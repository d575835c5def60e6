"""What a bill run bills, as plain data: from loaded schedule rows to the items due on the as-of
date and the invoices they group into. No ORM, no Django (the bill run loads and writes).

Per schedule (``Sched``):

- recurring: the billing engine's ``due_items`` from the schedule's billed-through mark, each
  item worth ``round(quantity × period unit price × share)`` (``ScheduledItem.amount_minor``);
- one-time: once on its trigger's date (contract start, a date, the first activation or
  completion), or per delivery day with the quantity delivered that day;
- milestones: each milestone done, at its cumulative share (``MilestoneCharge``);
- amendment prorations (``Adj``): on their bill date;
- one-off charges (``Chg``, late fees and usage lines): on the account's invoice of the first run
  on or after their ``bill_on`` date, after its other lines.

Items already billed (their key is in ``billed``) are skipped; a schedule without a price is an
error of its account (``billing.price_missing``), which then bills nothing at all this run.

Invoices group an account's items per currency and bill date — and per contract when the
entity does not consolidate — in account order, so numbers follow accounts deterministically.

Must not import Django or any q2c app above ``billing``'s engine and ``invoicing.calc``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from q2c.billing import engine
from q2c.billing.engine.proration import share_minor
from q2c.core.errors import ValidationError
from q2c.core.money import Rounding, currency_exponent
from q2c.invoicing.calc import DraftLine

_DAY = timedelta(days=1)


class PriceMissing(ValidationError):
    default_code = "billing.price_missing"


@dataclass(slots=True)
class Sched:
    """A schedule row as the bill run loads it (``values_list`` of :data:`FIELDS`)."""

    id: int
    entity_id: int
    account_id: int
    contract_id: int
    contract_number: str
    line_key: str
    kind: str
    sku: str
    description: str
    charge: str
    unit_code: str
    tax_category: str
    revenue_category: str
    currency: str
    quantity: Decimal
    unit_price: Decimal | None
    price_months: int
    every_months: int
    anchor_day: int | None
    anchor_month: int | None
    timing: str
    prorate_partial: bool
    stub_basis: str
    start: date
    end: date | None
    trigger: str
    trigger_on: date | None
    billed_through: date | None
    terms_days: int | None


FIELDS = tuple(Sched.__dataclass_fields__)


@dataclass(slots=True)
class Adj:
    """An amendment proration waiting for its bill date (with its schedule's fields)."""

    id: int
    schedule_id: int
    effective: date
    part: int
    bill_date: date
    service_start: date
    service_end: date
    quantity: Decimal
    unit_price: Decimal
    numerator: int
    denominator: int
    amount_minor: int
    currency: str
    description: str
    entity_id: int
    account_id: int
    contract_id: int
    contract_number: str
    line_key: str
    sku: str
    tax_category: str
    revenue_category: str
    unit_code: str
    terms_days: int | None


ADJ_FIELDS = (
    "id", "schedule_id", "effective", "part", "bill_date", "service_start", "service_end", "quantity", "unit_price",
    "numerator", "denominator", "amount_minor", "currency", "description", "schedule__entity_id",
    "schedule__account_id", "schedule__contract_id", "schedule__contract_number", "schedule__line_key",
    "schedule__sku", "schedule__tax_category", "schedule__revenue_category", "schedule__unit_code",
    "schedule__terms_days",
)  # fmt: skip


@dataclass(slots=True)
class Item:
    """One item to bill: its key, service period, bill date, amount and invoice line."""

    schedule_id: int
    period_start: date
    part: int
    period_end: date
    bill_date: date
    amount_minor: int
    line: DraftLine
    adjustment_id: int | None = None
    ends_schedule: bool = False
    charge_id: int | None = None


@dataclass(slots=True)
class Group:
    """The items of one invoice."""

    entity_id: int
    account_id: int
    currency: str
    bill_date: date
    contract_id: int | None
    items: list[Item] = field(default_factory=list)
    terms_days: int | None = None


def period_unit_price(unit_price: Decimal, every_months: int, price_months: int) -> Decimal:
    if not price_months or price_months == every_months:
        return unit_price
    return unit_price * Decimal(every_months) / Decimal(price_months)


def _line(s: Sched | Adj, *, description: str, quantity: Decimal, unit_price: Decimal, gross: int, num: int, den: int,
          start: date | None, end: date | None, source_id: str, delivery: date | None = None) -> DraftLine:  # fmt: skip
    return DraftLine(
        description=description,
        quantity=quantity,
        unit_price=unit_price,
        tax_category=s.tax_category,
        share_num=num,
        share_den=den,
        gross_minor=gross,
        item_id=s.sku,
        unit_code=s.unit_code,
        service_start=start,
        service_end=end,
        delivery_date=delivery,
        source_type="schedule_item",
        source_id=source_id,
        contract_id=s.contract_id,
        contract_number=s.contract_number,
        contract_line_key=s.line_key,
        schedule_id=s.schedule_id if isinstance(s, Adj) else s.id,
        revenue_category=s.revenue_category,
        posting="deferred",
    )


_TIMING = {t.value: t for t in engine.Timing}
_STUB = {b.value: b for b in engine.StubBasis}


def _recurring(s: Sched) -> engine.RecurringCharge:
    return engine.RecurringCharge(
        s.id, s.start, s.end, every_months=s.every_months, timing=_TIMING[s.timing], anchor_day=s.anchor_day,
        anchor_month=s.anchor_month, prorate_partial=s.prorate_partial, stub_basis=_STUB[s.stub_basis],
    )  # fmt: skip


def items_of(
    s: Sched,
    as_of: date,
    *,
    facts: Sequence[tuple[str, date, Decimal]] = (),
    milestones: Sequence[tuple[str, Decimal, date | None]] = (),
    billed: set[tuple[int, date, int]] | frozenset[tuple[int, date, int]] = frozenset(),
    rounding: Rounding = "half_up",
) -> list[Item]:
    """The items of one schedule due on ``as_of``. Raises ``PriceMissing`` when it has no price."""
    exp = currency_exponent(s.currency)
    if s.unit_price is None:
        raise PriceMissing(
            f"contract {s.contract_number or s.contract_id} line {s.line_key} ({s.sku}) has no price",
            field="unit_price",
        )
    out: list[Item] = []
    if s.kind == "recurring":
        price = period_unit_price(s.unit_price, s.every_months, s.price_months)
        base = s.quantity * price
        for it in engine.due_items(_recurring(s), as_of, resume_from=s.billed_through):
            gross = it.amount_minor(base, exp, rounding=rounding)
            p = it.period
            line = _line(s, description=s.description, quantity=s.quantity, unit_price=price, gross=gross,
                         num=it.share_to - it.share_from, den=it.share_of, start=p.start, end=p.end,
                         source_id=f"{s.id}:{p.start.isoformat()}:0")  # fmt: skip
            out.append(
                Item(
                    s.id,
                    p.start,
                    0,
                    p.end,
                    it.bill_date,
                    gross,
                    line,
                    ends_schedule=s.end is not None and p.end >= s.end,
                )
            )
        return out
    base = s.quantity * s.unit_price
    if s.kind == "milestone":
        if not milestones:  # billed in milestones, none defined yet: nothing is due
            return out
        charge = engine.MilestoneCharge(
            s.id, tuple(engine.Milestone(n, pct, done) for n, pct, done in milestones)
        )
        names = [n for n, _, _ in milestones]
        for it in engine.due_items(charge, as_of):
            if (s.id, it.period.start, it.part) in billed:
                continue
            gross = it.amount_minor(base, exp, rounding=rounding)
            name = names[it.part - 101]
            line = _line(s, description=f"{s.description} — {name}", quantity=Decimal(1),
                         unit_price=Decimal(gross).scaleb(-exp), gross=gross, num=1, den=1, start=None, end=None,
                         source_id=f"{s.id}:{it.period.start.isoformat()}:{it.part}")  # fmt: skip
            out.append(Item(s.id, it.period.start, it.part, it.period.end, it.bill_date, gross, line))
        return out
    # One-time charges.
    if s.trigger == "delivery":
        per_day: dict[date, Decimal] = defaultdict(Decimal)
        for kind, day, qty in facts:
            if kind == "delivered" and day <= as_of:
                per_day[day] += qty
        goods = s.tax_category == "goods"
        delivered = Decimal(0)
        for day in sorted(per_day):
            delivered += per_day[day]
            if (s.id, day, 0) in billed or per_day[day] == 0:
                continue
            gross_minor = share_minor(per_day[day] * s.unit_price, 1, 1, exp, rounding)
            line = _line(s, description=s.description, quantity=per_day[day], unit_price=s.unit_price,
                         gross=gross_minor, num=1, den=1, start=None, end=None,
                         source_id=f"{s.id}:{day.isoformat()}:0", delivery=day if goods else None)  # fmt: skip
            out.append(
                Item(s.id, day, 0, day + _DAY, day, gross_minor, line, ends_schedule=delivered >= s.quantity)
            )
        return out
    when: date | None
    if s.trigger in ("", "contract_start"):
        when = s.start
    elif s.trigger == "date":
        when = s.trigger_on or s.start
    else:
        wanted = "activated" if s.trigger == "activation" else "completed"
        days = sorted(day for kind, day, _ in facts if kind == wanted)
        when = days[0] if days else None
    if when is None or when > as_of or (s.id, when, 0) in billed:
        return out
    gross_minor = share_minor(base, 1, 1, exp, rounding)
    line = _line(s, description=s.description, quantity=s.quantity, unit_price=s.unit_price, gross=gross_minor,
                 num=1, den=1, start=None, end=None, source_id=f"{s.id}:{when.isoformat()}:0")  # fmt: skip
    out.append(Item(s.id, when, 0, when + _DAY, when, gross_minor, line, ends_schedule=True))
    return out


def adjustment_item(a: Adj) -> Item:
    line = _line(a, description=a.description, quantity=a.quantity, unit_price=a.unit_price, gross=a.amount_minor,
                 num=a.numerator, den=a.denominator, start=a.service_start, end=a.service_end,
                 source_id=f"{a.schedule_id}:{a.effective.isoformat()}:{a.part}")  # fmt: skip
    return Item(
        a.schedule_id,
        a.effective,
        a.part,
        a.service_end,
        a.bill_date,
        a.amount_minor,
        line,
        adjustment_id=a.id,
    )


@dataclass(slots=True)
class Chg:
    """A one-off charge waiting for the account's next invoice (``billing.charges``)."""

    id: int
    entity_id: int
    account_id: int
    currency: str
    description: str
    detail: str
    quantity: Decimal
    unit_price: Decimal
    amount_minor: int
    tax_category: str
    revenue_category: str
    posting: str
    item_id: str
    unit_code: str
    service_start: date | None
    service_end: date | None
    contract_id: int | None
    contract_number: str
    bill_on: date
    kind: str
    tiers: list[Any]
    terms_days: None = None


CHG_FIELDS = tuple(f for f in Chg.__dataclass_fields__ if f != "terms_days")
#: Invoice lines carry a tier breakdown where invoicing stores one (``DraftLine.tiers``).
_LINE_TIERS = "tiers" in DraftLine.__dataclass_fields__


def charge_item(c: Chg, bill_date: date) -> Item:
    """A charge's item, billed on ``bill_date`` (the date of the account's invoice in the run)."""
    extra: dict[str, Any] = {"tiers": tuple(c.tiers or ())} if _LINE_TIERS and c.tiers else {}
    line = DraftLine(
        description=c.description,
        quantity=c.quantity,
        unit_price=c.unit_price,
        tax_category=c.tax_category,
        gross_minor=c.amount_minor,
        item_id=c.item_id,
        unit_code=c.unit_code,
        service_start=c.service_start,
        service_end=c.service_end,
        source_type="billing_charge",
        source_id=f"charge:{c.id}",
        contract_id=c.contract_id,
        contract_number=c.contract_number,
        revenue_category=c.revenue_category,
        posting=c.posting,
        detail=c.detail,
        **extra,
    )
    start = c.service_start or c.bill_on
    end = c.service_end or start + _DAY
    return Item(0, start, 0, end, bill_date, c.amount_minor, line, charge_id=c.id)


def group(
    items_by_account: Mapping[int, Iterable[tuple[Sched | Adj | Chg, Item]]],
    *,
    consolidate: Mapping[int, bool],
) -> list[Group]:
    """Invoices: per account, currency, bill date (and contract unless the entity consolidates)."""
    out: list[Group] = []
    for account_id in sorted(items_by_account):
        groups: dict[tuple[Any, ...], Group] = {}
        for s, item in items_by_account[account_id]:
            per_contract = not consolidate.get(s.entity_id, True)
            key = (s.entity_id, s.currency, item.bill_date, s.contract_id if per_contract else None)
            g = groups.get(key)
            if g is None:
                g = groups[key] = Group(s.entity_id, account_id, s.currency, item.bill_date, key[3])
            g.items.append(item)
            if s.terms_days is not None:
                g.terms_days = s.terms_days if g.terms_days is None else min(g.terms_days, s.terms_days)
        for key in sorted(groups, key=lambda k: (k[2], k[1], k[3] or 0, k[0])):
            g = groups[key]
            g.items.sort(
                key=lambda i: (i.charge_id is not None, i.line.contract_id or 0, i.schedule_id, i.period_start,
                               i.part, i.charge_id or 0)
            )  # fmt: skip
            out.append(g)
    return out
