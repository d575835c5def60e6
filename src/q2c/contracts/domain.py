"""The pure core of contracts: states and their moves, contract lines as plain data, and the rules
amendments and renewals follow (effective dates, co-terming, reductions, price changes, term
extensions, cancellation, renewal lines with uplift, a line's value over its service period).

Lines form an append-only record. A version's lines are the previous version's lines plus the
amendment's *delta lines*: a reduction is a line of negative quantity over ``[effective, end)``
that ``adjusts`` the line it reduces; a price change is such a negative line plus a new line at the
new price; an added quantity is a new line co-termed to the contract end. Nothing is ever changed
in place, so every earlier version stays readable exactly as it was, and the delta lines of an
amendment are what billing and revenue react to.

Must not import Django or any q2c package other than ``q2c.core`` (and the plain error classes of
``q2c.contracts.errors``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from q2c.contracts.errors import ContractInvalid
from q2c.core.money import Money, currency_exponent
from q2c.core.periods import Period, add_months
from q2c.core.statemachine import transition

ZERO = Decimal(0)
HUNDRED = Decimal(100)

# --------------------------------------------------------------------------- states


class ContractStatus(StrEnum):
    DRAFT = "draft"  # being negotiated; no obligation yet
    PENDING_SIGNATURE = "pending_signature"  # a version was sent to the customer to sign
    ACTIVE = "active"  # signed: in force (service may start later, on the start date)
    EXPIRED = "expired"  # the term ended without renewal
    CANCELLED = "cancelled"  # terminated; service ends on the cancellation's effective date
    RENEWED = "renewed"  # a next-term contract took over (linked as its ``previous``)


#: draft → pending_signature → active → expired | cancelled | renewed. pending_signature → draft
#: is a new negotiation version, which retires the document sent for signature. A contract that
#: was never signed can be cancelled (the deal fell through).
TRANSITIONS: Mapping[ContractStatus, Set[ContractStatus]] = MappingProxyType(
    {
        ContractStatus.DRAFT: frozenset({ContractStatus.PENDING_SIGNATURE, ContractStatus.CANCELLED}),
        ContractStatus.PENDING_SIGNATURE: frozenset(
            {ContractStatus.ACTIVE, ContractStatus.DRAFT, ContractStatus.CANCELLED}
        ),
        ContractStatus.ACTIVE: frozenset(
            {ContractStatus.EXPIRED, ContractStatus.CANCELLED, ContractStatus.RENEWED}
        ),
        ContractStatus.EXPIRED: frozenset(),
        ContractStatus.CANCELLED: frozenset(),
        ContractStatus.RENEWED: frozenset(),
    }
)

#: Before signature the document may still change (negotiation versions).
NEGOTIABLE = frozenset({ContractStatus.DRAFT, ContractStatus.PENDING_SIGNATURE})


def move(current: ContractStatus | str, target: ContractStatus) -> ContractStatus:
    return transition(TRANSITIONS, ContractStatus(current), target, what="contract")


class AmendmentStatus(StrEnum):
    PROPOSED = "proposed"  # waiting for its quote to be approved and accepted
    APPLIED = "applied"  # a contract version holds its delta lines
    WITHDRAWN = "withdrawn"  # its quote was withdrawn, rejected or expired, or it was dropped


AMENDMENT_TRANSITIONS: Mapping[AmendmentStatus, Set[AmendmentStatus]] = MappingProxyType(
    {
        AmendmentStatus.PROPOSED: frozenset({AmendmentStatus.APPLIED, AmendmentStatus.WITHDRAWN}),
        AmendmentStatus.APPLIED: frozenset(),
        AmendmentStatus.WITHDRAWN: frozenset(),
    }
)


def move_amendment(current: AmendmentStatus | str, target: AmendmentStatus) -> AmendmentStatus:
    return transition(AMENDMENT_TRANSITIONS, AmendmentStatus(current), target, what="amendment")


class Approval(StrEnum):
    """Internal approval of a negotiation version whose clauses depart from the library."""

    NOT_NEEDED = "not_needed"
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


APPROVAL_TRANSITIONS: Mapping[Approval, Set[Approval]] = MappingProxyType(
    {
        Approval.NOT_NEEDED: frozenset(),
        Approval.PENDING: frozenset({Approval.APPROVED, Approval.REJECTED}),
        # A decision stands; a changed text is a new version with its own approval.
        Approval.APPROVED: frozenset(),
        Approval.REJECTED: frozenset(),
    }
)


def move_approval(current: Approval | str, target: Approval) -> Approval:
    return transition(APPROVAL_TRANSITIONS, Approval(current), target, what="contract_version")


class VersionKind(StrEnum):
    ORIGINAL = "original"
    NEGOTIATION = "negotiation"
    AMENDMENT = "amendment"


class AmendmentKind(StrEnum):
    ADD_QUANTITY = "add_quantity"
    ADD_PRODUCT = "add_product"
    REMOVE_QUANTITY = "remove_quantity"
    CHANGE_PRICE = "change_price"
    EXTEND_TERM = "extend_term"
    CANCEL = "cancel"


class SaleContext(StrEnum):
    NEW = "new"
    ADD_ON = "add_on"
    RENEWAL = "renewal"


class ReductionTiming(StrEnum):
    """When a quantity reduction takes effect (a per-product setting)."""

    IMMEDIATE_WITH_CREDIT = "immediate_with_credit"
    AT_RENEWAL = "at_renewal"


class ChargeKind(StrEnum):
    ONE_TIME = "one_time"
    RECURRING = "recurring"
    USAGE = "usage"


class BillingFrequency(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"


FREQUENCY_MONTHS: Mapping[str, int] = MappingProxyType({"month": 1, "quarter": 3, "half_year": 6, "year": 12})


class AmendmentInvalid(ContractInvalid):
    default_code = "contracts.amendment_invalid"


# --------------------------------------------------------------------------- lines


@dataclass(frozen=True, slots=True)
class Line:
    """One contract line as plain data.

    ``quantity`` is negative for a reduction. ``unit_price`` is the net price per unit and per
    price period (``period_months`` months; 0 for one-time and usage charges); usage lines have
    no unit price (they are rated with ``rate_card``). ``adjusts`` names the line a reduction
    reduces. ``at_renewal`` marks a reduction that waits for the next term (it changes nothing in
    this one); ``credit`` marks one that applies at once and credits what was billed in advance.
    """

    key: str
    sku: str
    charge: str
    charge_kind: ChargeKind
    quantity: Decimal
    unit_price: Decimal | None
    service_start: date
    service_end: date
    period_months: int = 0
    sale_context: SaleContext = SaleContext.NEW
    adjusts: str = ""
    at_renewal: bool = False
    credit: bool = False
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def period(self) -> Period:
        return Period(self.service_start, self.service_end)

    @property
    def is_reduction(self) -> bool:
        return bool(self.adjusts)

    def active_on(self, day: date) -> bool:
        return not self.at_renewal and self.service_start <= day < self.service_end


def _positive(value: Decimal, field_name: str) -> Decimal:
    if not isinstance(value, Decimal) or not value.is_finite() or value <= 0:
        raise AmendmentInvalid(
            f"{field_name} must be a number above zero", code="contracts.invalid_quantity", field=field_name
        )
    return value


def check_effective_date(start: date, end: date, effective: date, kind: AmendmentKind) -> None:
    """An amendment takes effect inside the term ``[start, end)``; a cancellation may also take
    effect on the end date itself (a non-renewal: service runs to the end)."""
    if effective < start:
        raise AmendmentInvalid(
            f"the effective date {effective} is before the contract starts ({start})",
            code="contracts.effective_before_start",
            field="effective_date",
        )
    last = end if kind is AmendmentKind.CANCEL else None
    if effective > end or (last is None and effective == end):
        raise AmendmentInvalid(
            f"the effective date {effective} is not inside the term [{start}, {end})",
            code="contracts.effective_after_end",
            field="effective_date",
        )


def remaining_quantity(lines: Sequence[Line], key: str, *, include_pending: bool = False) -> Decimal:
    """What is left of line ``key`` after every reduction of it (at the end of the term).

    Reductions of a line are all negative and all run to the end, so the quantity is lowest at
    the end: the figure returned is the most that may still be taken away.
    """
    base = next((line for line in lines if line.key == key), None)
    if base is None:
        return ZERO
    total = base.quantity
    for line in lines:
        if line.adjusts == key and (include_pending or not line.at_renewal):
            total += line.quantity
    return total


def base_lines(lines: Sequence[Line]) -> list[Line]:
    """Lines that are not reductions of another line."""
    return [line for line in lines if not line.adjusts]


def _find(lines: Sequence[Line], key: str) -> Line:
    for line in lines:
        if line.key == key and not line.adjusts:
            return line
    raise AmendmentInvalid(
        f"the contract has no line '{key}'", code="contracts.unknown_line", field="line_key"
    )


def lines_of_sku(lines: Sequence[Line], sku: str, *, effective: date) -> list[Line]:
    """Base lines of ``sku`` running on ``effective`` (newest first: add-ons are reduced first)."""
    found = [
        line
        for line in base_lines(lines)
        if line.sku == sku
        and line.charge_kind is not ChargeKind.USAGE
        and line.service_start <= effective < line.service_end
    ]
    return list(reversed(found))


def new_key(amendment_number: int, index: int) -> str:
    return f"A{amendment_number}.{index}"


def plan_add_quantity(
    lines: Sequence[Line],
    *,
    line_key: str,
    quantity: Decimal,
    effective: date,
    end: date,
    amendment_number: int,
    unit_price: Decimal | None = None,
    extra: Mapping[str, Any] | None = None,
) -> list[Line]:
    """More of what an existing line sells, from ``effective`` co-termed to the contract ``end``,
    as a new add-on line (at the line's price unless ``unit_price`` is given)."""
    _positive(quantity, "quantity")
    base = _find(lines, line_key)
    if base.charge_kind is ChargeKind.USAGE:
        raise AmendmentInvalid(
            "usage is not bought by quantity; its price changes with a price change",
            code="contracts.usage_quantity",
            field="line_key",
        )
    return [
        Line(
            key=new_key(amendment_number, 1),
            sku=base.sku,
            charge=base.charge,
            charge_kind=base.charge_kind,
            quantity=quantity,
            unit_price=base.unit_price if unit_price is None else unit_price,
            service_start=effective,
            service_end=end,
            period_months=base.period_months,
            sale_context=SaleContext.ADD_ON,
            extra=MappingProxyType(dict(extra if extra is not None else base.extra)),
        )
    ]


def plan_new_line(
    *,
    sku: str,
    charge: str,
    charge_kind: ChargeKind,
    quantity: Decimal,
    unit_price: Decimal | None,
    period_months: int,
    effective: date,
    end: date,
    key: str,
    extra: Mapping[str, Any] | None = None,
) -> Line:
    """A product the contract did not have, co-termed to the contract end."""
    if charge_kind is not ChargeKind.USAGE:
        _positive(quantity, "quantity")
    return Line(
        key=key,
        sku=sku,
        charge=charge,
        charge_kind=charge_kind,
        quantity=quantity,
        unit_price=unit_price,
        service_start=effective,
        service_end=end,
        period_months=period_months,
        sale_context=SaleContext.ADD_ON,
        extra=MappingProxyType(dict(extra or {})),
    )


def plan_reduction(
    lines: Sequence[Line],
    *,
    quantity: Decimal,
    effective: date,
    end: date,
    amendment_number: int,
    timing: ReductionTiming,
    line_key: str = "",
    sku: str = "",
) -> list[Line]:
    """Take ``quantity`` away from one line (``line_key``) or from the lines of ``sku`` (newest
    first). Immediate reductions run ``[effective, end)`` and credit what was billed ahead; a
    reduction at renewal changes nothing in this term. Reducing below zero is refused."""
    _positive(quantity, "quantity")
    if line_key:
        targets = [_find(lines, line_key)]
        if not targets[0].service_start <= effective < targets[0].service_end:
            raise AmendmentInvalid(
                f"line '{line_key}' is not running on {effective}",
                code="contracts.line_not_running",
                field="line_key",
            )
    elif sku:
        targets = lines_of_sku(lines, sku, effective=effective)
        if not targets:
            raise AmendmentInvalid(
                f"the contract has no running line of {sku} on {effective}",
                code="contracts.unknown_line",
                field="sku",
            )
    else:
        raise AmendmentInvalid(
            "name the line (line_key) or the product (sku) to reduce",
            code="contracts.required",
            field="line_key",
        )
    for target in targets:
        if target.charge_kind is not ChargeKind.RECURRING:
            raise AmendmentInvalid(
                f"only recurring lines are reduced ({target.key} is {target.charge_kind})",
                code="contracts.not_recurring",
                field="line_key",
            )
    available = {t.key: remaining_quantity(lines, t.key, include_pending=True) for t in targets}
    total = sum(available.values(), ZERO)
    if quantity > total:
        raise AmendmentInvalid(
            f"cannot remove {quantity}: only {total} remain{'s' if total == 1 else ''}",
            code="contracts.below_zero",
            field="quantity",
        )
    out: list[Line] = []
    left = quantity
    at_renewal = timing is ReductionTiming.AT_RENEWAL
    for target in targets:
        take = min(left, available[target.key])
        if take <= 0:
            continue
        left -= take
        out.append(
            replace(
                target,
                key=new_key(amendment_number, len(out) + 1),
                quantity=-take,
                service_start=end if at_renewal else effective,
                service_end=end,
                sale_context=SaleContext.ADD_ON,
                adjusts=target.key,
                at_renewal=at_renewal,
                credit=not at_renewal,
            )
        )
        if left == 0:
            break
    return out


def plan_price_change(
    lines: Sequence[Line],
    *,
    line_key: str,
    unit_price: Decimal,
    effective: date,
    end: date,
    amendment_number: int,
    extra: Mapping[str, Any] | None = None,
) -> list[Line]:
    """A new price from ``effective``: what remains of the line is taken off at the old price
    and put back at the new one (two delta lines). Usage lines change their rate card instead."""
    base = _find(lines, line_key)
    if not base.service_start <= effective < base.service_end:
        raise AmendmentInvalid(
            f"line '{line_key}' is not running on {effective}",
            code="contracts.line_not_running",
            field="line_key",
        )
    if unit_price < 0:
        raise AmendmentInvalid("a price is not negative", code="contracts.invalid_price", field="unit_price")
    if base.charge_kind is ChargeKind.ONE_TIME:
        raise AmendmentInvalid(
            "a one-time charge has no price from a date on", code="contracts.not_recurring", field="line_key"
        )
    left = remaining_quantity(lines, line_key)
    if base.charge_kind is ChargeKind.RECURRING and left <= 0:
        raise AmendmentInvalid(
            f"nothing remains of line '{line_key}'", code="contracts.below_zero", field="line_key"
        )
    if base.unit_price is not None and unit_price == base.unit_price:
        raise AmendmentInvalid(
            "the new price is the current price", code="contracts.same_price", field="unit_price"
        )
    quantity = left if base.charge_kind is ChargeKind.RECURRING else base.quantity
    off = replace(
        base,
        key=new_key(amendment_number, 1),
        quantity=-quantity,
        service_start=effective,
        service_end=end,
        sale_context=SaleContext.ADD_ON,
        adjusts=base.key,
        at_renewal=False,
        credit=True,
    )
    on = replace(
        base,
        key=new_key(amendment_number, 2),
        quantity=quantity,
        unit_price=unit_price,
        service_start=effective,
        service_end=end,
        sale_context=SaleContext.ADD_ON,
        extra=MappingProxyType(dict(extra if extra is not None else base.extra)),
    )
    return [off, on]


def plan_extension(
    lines: Sequence[Line], *, old_end: date, new_end: date, amendment_number: int
) -> list[Line]:
    """Extend the term to ``new_end``: every recurring or usage line running to the old end runs
    on, at its quantity and price then, over ``[old_end, new_end)`` (one new line each)."""
    if new_end <= old_end:
        raise AmendmentInvalid(
            f"the new end {new_end} is not after the current end {old_end}",
            code="contracts.invalid_end",
            field="new_end_date",
        )
    out: list[Line] = []
    for line in base_lines(lines):
        if line.charge_kind is ChargeKind.ONE_TIME or line.service_end != old_end:
            continue
        quantity = remaining_quantity(lines, line.key, include_pending=True)
        if line.charge_kind is ChargeKind.RECURRING and quantity <= 0:
            continue
        out.append(
            replace(
                line,
                key=new_key(amendment_number, len(out) + 1),
                quantity=quantity,
                service_start=old_end,
                service_end=new_end,
                sale_context=SaleContext.ADD_ON,
                adjusts="",
                at_renewal=False,
                credit=False,
            )
        )
    return out


def plan_cancellation(
    lines: Sequence[Line], *, effective: date, end: date, amendment_number: int
) -> list[Line]:
    """Stop every recurring line still running from ``effective``: a negative line over
    ``[effective, end)`` for what remains of each (none when ``effective`` is the end)."""
    out: list[Line] = []
    if effective >= end:
        return out
    for line in base_lines(lines):
        if line.charge_kind is not ChargeKind.RECURRING or line.service_end <= effective:
            continue
        left = remaining_quantity(lines, line.key)
        if left <= 0:
            continue
        out.append(
            replace(
                line,
                key=new_key(amendment_number, len(out) + 1),
                quantity=-left,
                service_start=max(effective, line.service_start),
                service_end=line.service_end,
                sale_context=SaleContext.ADD_ON,
                adjusts=line.key,
                at_renewal=False,
                credit=True,
            )
        )
    return out


def uplifted(price: Decimal | None, uplift_percent: Decimal, exponent: int) -> Decimal | None:
    """``price × (1 + uplift %)``, rounded half-up to the currency's minor unit, or to the
    price's own decimals when it has more (a usage rate such as 0.002)."""
    if price is None:
        return None
    if uplift_percent == 0:
        return price
    own = price.as_tuple().exponent
    places = max(exponent, -own if isinstance(own, int) else exponent)
    value = price * (HUNDRED + uplift_percent) / HUNDRED
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def renewal_lines(
    lines: Sequence[Line],
    *,
    old_end: date,
    new_start: date,
    new_end: date,
    uplift_percent: Decimal,
    currency: str,
) -> list[Line]:
    """The lines of the next term: recurring and usage lines running to the end, with every
    reduction applied (those waiting for the renewal too), merged per product, charge and price,
    at the price raised by the uplift. One-time charges do not renew."""
    exponent = currency_exponent(currency)
    merged: dict[tuple[str, str, Decimal | None], Line] = {}
    order: list[tuple[str, str, Decimal | None]] = []
    for line in base_lines(lines):
        if line.charge_kind is ChargeKind.ONE_TIME or line.service_end != old_end:
            continue
        quantity = remaining_quantity(lines, line.key, include_pending=True)
        if line.charge_kind is ChargeKind.RECURRING and quantity <= 0:
            continue
        key = (line.sku, line.charge, line.unit_price)
        if key in merged:
            merged[key] = replace(merged[key], quantity=merged[key].quantity + quantity)
            continue
        order.append(key)
        merged[key] = replace(
            line,
            quantity=quantity,
            unit_price=uplifted(line.unit_price, uplift_percent, exponent),
            service_start=new_start,
            service_end=new_end,
            sale_context=SaleContext.RENEWAL,
            adjusts="",
            at_renewal=False,
            credit=False,
        )
    return [replace(merged[k], key=str(i + 1)) for i, k in enumerate(order)]


def quantity_on(lines: Iterable[Line], sku: str, day: date) -> Decimal:
    """How many units of ``sku`` the contract provides on ``day``."""
    return sum((line.quantity for line in lines if line.sku == sku and line.active_on(day)), ZERO)


# --------------------------------------------------------------------------- value


def _lattice(anchor: date, anchor_day: int, months: int, k: int) -> date:
    """Boundary ``k`` of the price-period lattice: every ``months`` months from ``anchor``'s
    month, on ``anchor_day`` clamped to the month's length."""
    return add_months(anchor.replace(day=1), k * months, anchor_day=anchor_day)


def _period_index(day: date, anchor: date, anchor_day: int, months: int) -> int:
    diff = (day.year * 12 + day.month) - (anchor.year * 12 + anchor.month)
    k = diff // months
    while _lattice(anchor, anchor_day, months, k) > day:
        k -= 1
    while _lattice(anchor, anchor_day, months, k + 1) <= day:
        k += 1
    return k


def line_value(line: Line, *, currency: str, anchor: date, anchor_day: int) -> Money:
    """What a line is worth over its service period, excluding usage.

    One-time: quantity × unit price. Recurring: per price period of the lattice anchored on the
    contract's start month and billing day (``anchor``, ``anchor_day``), quantity × unit price ×
    days in the part ÷ days in the whole period, rounded half-up to the minor unit once per
    period (as each period is invoiced). ``[2027-03-15, 2028-02-01)`` at 10 × 25.50 a month on
    the 1st is 255 × 17/31 = 139.84 plus 10 × 255.00 = 2,689.84. Usage is worth 0 (variable).
    """
    zero = Money.zero(currency)
    if line.at_renewal or line.unit_price is None or line.charge_kind is ChargeKind.USAGE:
        return zero
    if line.charge_kind is ChargeKind.ONE_TIME:
        return Money(line.quantity * line.unit_price, currency).round()
    months = line.period_months or 1
    per_period = line.quantity * line.unit_price
    total = zero
    k = _period_index(line.service_start, anchor, anchor_day, months)
    cursor = line.service_start
    while cursor < line.service_end:
        whole_start, whole_end = (
            _lattice(anchor, anchor_day, months, k),
            _lattice(anchor, anchor_day, months, k + 1),
        )
        part_end = min(whole_end, line.service_end)
        total += Money(
            per_period * (part_end - cursor).days / (whole_end - whole_start).days, currency
        ).round()
        cursor = part_end
        k += 1
    return total


@dataclass(frozen=True, slots=True)
class Totals:
    one_time: Money
    recurring_per_month: Money
    value: Money  # total value excluding usage


def totals(lines: Sequence[Line], *, currency: str, anchor: date, anchor_day: int, on: date) -> Totals:
    """One-time total, monthly recurring amount running on ``on`` and total value of ``lines``."""
    one_time = Money.zero(currency)
    monthly = Money.zero(currency)
    value = Money.zero(currency)
    for line in lines:
        value += line_value(line, currency=currency, anchor=anchor, anchor_day=anchor_day)
        if line.unit_price is None or line.at_renewal:
            continue
        if line.charge_kind is ChargeKind.ONE_TIME:
            one_time += Money(line.quantity * line.unit_price, currency).round()
        elif line.charge_kind is ChargeKind.RECURRING and line.active_on(on):
            months = line.period_months or 1
            monthly += Money(line.quantity * line.unit_price / months, currency)
    return Totals(one_time=one_time, recurring_per_month=monthly.round(), value=value)


def term_end(start: date, months: int) -> date:
    """The exclusive end of a term of ``months`` months from ``start``."""
    return add_months(start, months)


def notice_deadline(end: date, notice_days: int) -> date:
    """The last day notice of non-renewal (or of a cancellation effective on ``end``) may be
    given without an override: ``notice_days`` before the end."""
    return end - timedelta(days=notice_days)


def inside_notice_period(*, today: date, effective: date, notice_days: int) -> bool:
    """Whether a cancellation given ``today`` to take effect on ``effective`` comes later than
    the contract's notice period allows (fewer than ``notice_days`` days ahead)."""
    return (effective - today).days < notice_days
