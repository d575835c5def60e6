"""What the tax engine answers: tax per line, the per-document summary, warnings.

Every amount is :class:`~q2c.core.money.Money` rounded to the currency's minor unit. The
summary is the EN 16931 VAT breakdown (BG-23): one row per jurisdiction, category, rate and
mention, each with its taxable amount (BT-116), tax (BT-117), category (BT-118), rate (BT-119),
exemption reason text (BT-120) and code (BT-121). Per row, the lines' ``tax`` sum exactly to
the row's tax, and the rows sum exactly to the document's totals — what each line carries is
what is charged.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax``'s pure modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from q2c.core.money import Money
from q2c.tax.categories import VatCategoryCode
from q2c.tax.engine.document import RoundingMethod
from q2c.tax.engine.ruleset import Treatment


@dataclass(frozen=True, slots=True)
class TaxWarning:
    """Something the caller should show: the calculation went on under a documented fallback."""

    code: str
    message: str
    line_id: str | None = None


@dataclass(frozen=True, slots=True)
class LineTax:
    line_id: str
    net: Money
    tax: Money
    gross: Money
    percent: Decimal
    category: VatCategoryCode
    jurisdiction: str
    treatment: Treatment
    rule: str  # the rule that decided (its name), for explanations
    mention: str
    reason_code: str
    tax_date: date


@dataclass(frozen=True, slots=True)
class TaxSummary:
    jurisdiction: str
    category: VatCategoryCode
    percent: Decimal
    taxable: Money
    tax: Money
    mention: str = ""
    reason_code: str = ""
    line_ids: tuple[str, ...] = ()
    deliver_to_country: str = ""  # BT-80, for K
    delivery_date: date | None = None  # BT-72, for K


@dataclass(frozen=True, slots=True)
class TaxResult:
    currency: str
    lines: tuple[LineTax, ...]
    summary: tuple[TaxSummary, ...]
    net_total: Money
    tax_total: Money
    gross_total: Money
    rounding_method: RoundingMethod
    prices_include_tax: bool
    warnings: tuple[TaxWarning, ...] = ()

    @property
    def mentions(self) -> tuple[str, ...]:
        """The distinct legal mentions the document must print, in summary order."""
        seen: list[str] = []
        for row in self.summary:
            if row.mention and row.mention not in seen:
                seen.append(row.mention)
        return tuple(seen)

    def line(self, line_id: str) -> LineTax:
        for line in self.lines:
            if line.line_id == line_id:
                return line
        raise KeyError(line_id)
