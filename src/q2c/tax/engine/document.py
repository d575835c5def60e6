"""What the tax engine is asked: a document of lines, its seller and buyer, dates and settings.

Plain frozen dataclasses, built by the caller (the preview API, quotes, invoicing, or an adapter
over parties' LegalEntity and Account). Amounts are :class:`~q2c.core.money.Money` already rounded
to the currency's minor unit — the pricing pipeline rounds each line total once before tax.

Must not import Django or any q2c package other than ``q2c.core`` and ``q2c.tax``'s pure modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from q2c.core.money import Money, Rounding
from q2c.tax.categories import TaxCategory


class CustomerKind(StrEnum):
    """Business (a taxable person, Art. 9 Directive 2006/112/EC) or consumer (everyone else)."""

    BUSINESS = "business"
    CONSUMER = "consumer"


class SupplyType(StrEnum):
    GOODS = "goods"
    SERVICES = "services"


class RoundingMethod(StrEnum):
    """Where tax is rounded. ``PER_RATE`` (the default) rounds once per VAT breakdown row, on the
    sum of its lines' net amounts (EN 16931 BR-CO-17); ``PER_LINE`` rounds each line's tax and
    sums the rounded amounts (a per-entity setting for those whose practice requires it)."""

    PER_RATE = "per_rate"
    PER_LINE = "per_line"


@dataclass(frozen=True, slots=True)
class Location:
    """An ISO 3166-1 alpha-2 country and optionally an ISO 3166-2 subdivision (``CA`` or
    ``US-CA``) — needed for US sales tax and for the Spanish territories outside the EU VAT
    territory (``ES`` + ``CN`` Canary Islands, ``CE`` Ceuta, ``ML`` Melilla)."""

    country: str
    region: str = ""


@dataclass(frozen=True, slots=True)
class Seller:
    country: str
    region: str = ""
    vat_id: str = ""

    @property
    def location(self) -> Location:
        return Location(self.country, self.region)


@dataclass(frozen=True, slots=True)
class Buyer:
    """The customer. ``vat_id_valid`` says whether its VAT identification number has been
    checked (format and check digits, ideally confirmed in VIES) — reverse charge and
    intra-Community supplies need a valid one."""

    country: str
    region: str = ""
    kind: CustomerKind = CustomerKind.CONSUMER
    vat_id: str = ""
    vat_id_valid: bool = False

    @property
    def location(self) -> Location:
        return Location(self.country, self.region)


@dataclass(frozen=True, slots=True)
class Exemption:
    """A customer's exemption certificate (a US resale certificate, a diplomatic or
    institutional exemption). ``jurisdictions`` limits where it applies (empty: everywhere);
    the validity period is half-open ``[valid_from, valid_to)``, open ends unbounded."""

    certificate_ref: str
    reason: str = ""
    jurisdictions: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_to: date | None = None

    def covers(self, jurisdiction: str, on: date) -> bool:
        if self.jurisdictions and jurisdiction not in self.jurisdictions:
            return False
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on < self.valid_to
        )


@dataclass(frozen=True, slots=True)
class TaxLine:
    """One line to tax. ``amount`` is the line total after discounts: net of tax, or including
    tax when the document says ``prices_include_tax``.

    ``supply_type`` may be left out when the category implies it (``goods``,
    ``service``, ``digital_service``). ``supply_date`` (the chargeable event, Art. 63) picks the
    rates; it defaults to the document's ``tax_date``. ``ship_from``/``ship_to`` override the
    document's for goods shipped from or to elsewhere.
    """

    id: str
    amount: Money
    tax_category: TaxCategory
    supply_type: SupplyType | None = None
    supply_date: date | None = None
    ship_from: Location | None = None
    ship_to: Location | None = None
    exemption_reason: str = ""


@dataclass(frozen=True, slots=True)
class TaxDocument:
    """A quote, an invoice or a draft: the unit the tax summary and rounding apply to.

    - ``tax_date``: the date of supply (BT-7) used for lines without their own ``supply_date``;
    - ``ship_from``/``ship_to``: where goods leave from and go to (default: the seller's and the
      buyer's location); an intra-Community supply needs ``ship_to`` given explicitly
      (BT-80, deliver-to country) and a ``delivery_date`` (BT-72) or line ``supply_date``;
    - ``exemption``: the buyer's exemption certificate, if any;
    - ``rounding``: half-up (default) or half-even, the entity's money rounding mode.
    """

    currency: str
    seller: Seller
    buyer: Buyer
    tax_date: date
    lines: tuple[TaxLine, ...] = field(default_factory=tuple)
    prices_include_tax: bool = False
    rounding_method: RoundingMethod = RoundingMethod.PER_RATE
    rounding: Rounding = "half_up"
    ship_from: Location | None = None
    ship_to: Location | None = None
    delivery_date: date | None = None
    exemption: Exemption | None = None
