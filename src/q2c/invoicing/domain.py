"""The pure core of invoicing: invoice states and their moves, payment terms and due dates, the
line pipeline (quantity × unit price × share → discount → net), currency conversion at a captured
rate, and what an invoice line prints as its unit price.

Totals follow one documented pipeline, rounding once per step (docs/invoicing.md):

1. line gross = round(quantity × unit price × share) — ``share`` is the prorated part of a
   billing period (``share_num ÷ share_den``, 1 for whole periods), computed exactly in integers
   and rounded once to the currency's minor unit;
2. line net = gross − line discount (a rounded amount);
3. tax from the tax engine on the nets (per rate on the sum of each rate's nets by default, EN
   16931 BR-CO-17; per line as an entity setting);
4. total = Σ nets + Σ tax.

Amounts here are integer minor units; ``Money`` is built at the edges.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal, localcontext
from enum import StrEnum
from types import MappingProxyType

from q2c.core.errors import ValidationError
from q2c.core.money import Rounding, to_decimal
from q2c.core.statemachine import transition

# --------------------------------------------------------------------------- states


class InvoiceStatus(StrEnum):
    DRAFT = "draft"  # editable, no number
    ISSUED = "issued"  # numbered, immutable, posted; open
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"  # nothing left to pay (paid, or credited in full)
    VOID = "void"  # cancelled before anything was paid or credited; its posting is reversed
    UNCOLLECTIBLE = "uncollectible"  # written off as bad debt


#: draft → issued → partially_paid → paid, or void / uncollectible. A written-off invoice can
#: still be paid late (the payments app reverses the write-off). Nothing leaves paid or void.
TRANSITIONS: Mapping[InvoiceStatus, Set[InvoiceStatus]] = MappingProxyType(
    {
        InvoiceStatus.DRAFT: frozenset({InvoiceStatus.ISSUED}),
        InvoiceStatus.ISSUED: frozenset(
            {
                InvoiceStatus.PARTIALLY_PAID,
                InvoiceStatus.PAID,
                InvoiceStatus.VOID,
                InvoiceStatus.UNCOLLECTIBLE,
            }
        ),
        # A payment taken back (chargeback lost, SEPA return): paid → partially paid | issued.
        InvoiceStatus.PARTIALLY_PAID: frozenset(
            {InvoiceStatus.PAID, InvoiceStatus.UNCOLLECTIBLE, InvoiceStatus.ISSUED}
        ),
        InvoiceStatus.UNCOLLECTIBLE: frozenset({InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.PAID}),
        InvoiceStatus.PAID: frozenset({InvoiceStatus.PARTIALLY_PAID, InvoiceStatus.ISSUED}),
        InvoiceStatus.VOID: frozenset(),
    }
)

#: States in which an invoice is a receivable (it counts in the AR control and in aging).
OPEN_STATES = frozenset({InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID})
#: States of an issued (numbered) invoice.
ISSUED_STATES = frozenset(
    {
        InvoiceStatus.ISSUED,
        InvoiceStatus.PARTIALLY_PAID,
        InvoiceStatus.PAID,
        InvoiceStatus.UNCOLLECTIBLE,
        InvoiceStatus.VOID,
    }
)


def move(current: InvoiceStatus | str, target: InvoiceStatus) -> InvoiceStatus:
    """``target`` if the table allows ``current → target``; else ``invoice.invalid_transition`` (409)."""
    return transition(TRANSITIONS, InvoiceStatus(current), target, what="invoice")


def status_after_settlement(total_minor: int, settled_minor: int) -> InvoiceStatus:
    """What an issued invoice is once ``settled_minor`` of its total is paid or credited."""
    if total_minor > 0 and settled_minor >= total_minor:
        return InvoiceStatus.PAID
    if total_minor <= 0:
        return InvoiceStatus.PAID
    return InvoiceStatus.PARTIALLY_PAID if settled_minor > 0 else InvoiceStatus.ISSUED


class CreditReason(StrEnum):
    """Why a credit note was issued (Stripe's reasons, plus q2c's own)."""

    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"
    ORDER_CHANGE = "order_change"
    PRODUCT_UNSATISFACTORY = "product_unsatisfactory"
    PRICING_ERROR = "pricing_error"
    SERVICE_CANCELLED = "service_cancelled"
    REISSUE = "reissue"
    OTHER = "other"


class Posting(StrEnum):
    """Which account an invoice line's net amount is credited to at issue."""

    #: The contract's liability (deferred revenue; contract assets first where the contract has
    #: a debit position): revenue recognition draws it down later. Lines from contracts.
    DEFERRED = "deferred"
    #: Unbilled receivables: usage recognised as it occurred, invoiced in arrears.
    UNBILLED = "unbilled"
    #: Revenue of the line's category at once: lines not tied to a contract (manual invoices).
    REVENUE = "revenue"


# --------------------------------------------------------------------------- payment terms


class TermsBasis(StrEnum):
    #: due = issue date + N days
    NET = "net"
    #: due = last day of the issue month + N days
    END_OF_MONTH = "end_of_month"


@dataclass(frozen=True, slots=True)
class PaymentTerms:
    """Net N (``INV`` issued 2027-02-01, net 30 → due 2027-03-03) or end of month + N
    (issued 2027-02-10, EOM + 30 → 2027-02-28 + 30 = 2027-03-30)."""

    days: int = 30
    basis: TermsBasis = TermsBasis.NET

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "basis", TermsBasis(self.basis))
        except ValueError:
            raise ValidationError(
                f"payment terms are 'net' or 'end_of_month', not '{self.basis}'",
                code="invoicing.invalid_terms",
                field="terms_basis",
            ) from None
        if not isinstance(self.days, int) or isinstance(self.days, bool) or not 0 <= self.days <= 365:
            raise ValidationError(
                "payment terms are 0 to 365 days", code="invoicing.invalid_terms", field="terms_days"
            )

    def due_date(self, issued: date) -> date:
        if self.basis is TermsBasis.END_OF_MONTH:
            last = calendar.monthrange(issued.year, issued.month)[1]
            return issued.replace(day=last) + timedelta(days=self.days)
        return issued + timedelta(days=self.days)

    def text(self) -> str:
        """The payment terms as printed (BT-20)."""
        if self.basis is TermsBasis.END_OF_MONTH:
            return f"End of month + {self.days} days"
        if self.days == 0:
            return "Due on receipt"
        return f"Net {self.days} days"


# --------------------------------------------------------------------------- lines


def share_minor(base: Decimal, numerator: int, denominator: int, exponent: int, rounding: Rounding) -> int:
    """``round(base × numerator ÷ denominator)`` in minor units, exact until the one rounding.

    The same arithmetic as the billing engine's proration (docs/billing.md): a ratio of integers
    until a single half-up (or half-even) rounding.
    """
    if denominator <= 0 or numerator < 0:
        raise ValidationError(
            "a line's share must be a non-negative fraction", code="invoicing.invalid_line", field="share"
        )
    n, d = base.as_integer_ratio()
    num = n * numerator * 10**exponent
    den = d * denominator
    negative = num < 0
    q, r = divmod(-num if negative else num, den)
    twice = 2 * r
    if twice > den or (twice == den and (rounding == "half_up" or q & 1)):
        q += 1
    return -q if negative else q


def line_gross_minor(
    quantity: Decimal, unit_price: Decimal, share_num: int, share_den: int, exponent: int, rounding: Rounding
) -> int:
    """Step 1 of the pipeline: ``round(quantity × unit price × share)``."""
    return share_minor(quantity * unit_price, share_num, share_den, exponent, rounding)


def display_unit_price(
    net_minor: int, gross_minor: int, quantity: Decimal, unit_price: Decimal, exponent: int
) -> tuple[Decimal, Decimal]:
    """``(unit price, price base quantity)`` an invoice line prints (BT-146, BT-149).

    EN 16931 wants quantity × price ÷ base quantity = line amount before line allowances. A
    whole period prints its unit price (50 × 25.50 = 1,275.00). A prorated line prints the
    prorated unit price when it is a short exact decimal (10 SEAT × 13.984 = 139.84, INV-4 of
    the Northwind story); otherwise the line's amount per its whole quantity (base quantity =
    quantity, as a usage line states 500.00 per 350,000 calls).
    """
    amount = Decimal(gross_minor).scaleb(-exponent)
    if quantity == 0:
        return amount, Decimal(1)
    if quantity * unit_price == amount:
        return unit_price, Decimal(1)
    with localcontext() as ctx:
        ctx.prec = 50
        per_unit = amount / quantity
    # Short enough to print and exact (at most 6 decimals beyond the currency's).
    if per_unit == per_unit.quantize(Decimal(1).scaleb(-(exponent + 6))) and per_unit * quantity == amount:
        return per_unit.normalize() if per_unit != 0 else Decimal(0), Decimal(1)
    return amount, abs(quantity)


# --------------------------------------------------------------------------- currency conversion


def convert_minor(
    minor: int, rate: Decimal, from_exponent: int, to_exponent: int, rounding: Rounding = "half_up"
) -> int:
    """``minor`` units of one currency at ``rate`` (target units per source unit), rounded once."""
    rate = to_decimal(rate, field="rate")
    with localcontext() as ctx:
        ctx.prec = 60
        exact = Decimal(minor).scaleb(-from_exponent) * rate
        mode = ROUND_HALF_UP if rounding == "half_up" else ROUND_HALF_EVEN
        return int(exact.scaleb(to_exponent).quantize(Decimal(1), rounding=mode))


def open_base(
    total_minor: int, total_base_minor: int, open_minor: int, rate: Decimal | None, from_exp: int, to_exp: int
) -> int:
    """The open amount of an invoice in the entity currency.

    The whole invoice is worth ``total_base`` (net and tax converted separately at issue); a
    part of it is converted at the invoice's rate; nothing open is worth nothing. So a series of
    partial credits and payments always ends exactly at zero in both currencies.
    """
    if open_minor == total_minor:
        return total_base_minor
    if open_minor == 0:
        return 0
    if rate is None:
        return open_minor
    return convert_minor(open_minor, rate, from_exp, to_exp)


def tax_code(jurisdiction: str, category: str, percent: Decimal) -> str:
    """The ledger's tax code of a VAT breakdown row: ``DE-S-19``, ``FR-S-5.5``, ``US-NY-S-4``."""
    text = format(percent.normalize(), "f") if percent != 0 else "0"
    return f"{jurisdiction}-{category}-{text}"
