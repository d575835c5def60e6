"""Display of amounts, quantities, rates and dates in the customer's locale (Babel), and the
document labels in the customer's language.

Display only: Babel's CLDR digits differ from ISO 4217 for a few currencies, so amounts are
formatted with the digits they already have (rounded upstream to ISO 4217), never re-rounded
here. Labels are plain Python tables (English, German, French) rather than gettext catalogues,
so the renderers need no compiled message files; an unknown language falls back to English.

Must not import Django models or any q2c app above ``core`` and ``tax``.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_decimal, format_percent

from q2c.core.money import Money
from q2c.core.periods import Period
from q2c.tax.categories import VatCategoryCode

DEFAULT_LOCALE = "en_US"

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "number": "Number",
        "issue_date": "Date",
        "due_date": "Due date",
        "delivery_date": "Delivery date",
        "invoice_period": "Billing period",
        "service_period": "Service period",
        "customer_number": "Customer no.",
        "buyer_vat_id": "Your VAT ID",
        "seller_vat_id": "VAT ID",
        "tax_number": "Tax no.",
        "order_reference": "Your order",
        "contract_reference": "Contract",
        "buyer_reference": "Your reference",
        "corrects": "Corrects invoice",
        "of": "of",
        "deliver_to": "Delivered to",
        "pos": "#",
        "description": "Description",
        "quantity": "Quantity",
        "unit_price": "Unit price",
        "vat": "VAT",
        "amount": "Amount",
        "tiered": "tiered",
        "tier": "Tier",
        "units": "units",
        "line_total": "Total of lines",
        "allowance": "Allowance",
        "charge": "Charge",
        "net_total": "Total net",
        "vat_total": "Total VAT",
        "total": "Total",
        "prepaid": "Paid in advance",
        "rounding": "Rounding",
        "payable": "Amount due",
        "credit_total": "Amount credited",
        "tax_summary": "VAT breakdown",
        "category": "Category",
        "rate": "Rate",
        "taxable_amount": "Net amount",
        "tax_amount": "VAT amount",
        "payment": "Payment",
        "payment_terms": "Payment terms",
        "transfer": "Please transfer {amount} by {date} to the account below, quoting the reference {reference}.",
        "transfer_no_date": "Please transfer {amount} to the account below, quoting the reference {reference}.",
        "direct_debit": (
            "The amount of {amount} will be collected by SEPA direct debit from account {iban} "
            "under mandate {mandate} (creditor ID {creditor})."
        ),
        "refund": "The amount of {amount} will be refunded or set off against open invoices.",
        "account_holder": "Account holder",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Reference",
        "page": "Page",
        "page_of": "of",
        "contact": "Contact",
    },
    "de": {
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "number": "Nummer",
        "issue_date": "Datum",
        "due_date": "Fällig am",
        "delivery_date": "Lieferdatum",
        "invoice_period": "Abrechnungszeitraum",
        "service_period": "Leistungszeitraum",
        "customer_number": "Kundennr.",
        "buyer_vat_id": "Ihre USt-IdNr.",
        "seller_vat_id": "USt-IdNr.",
        "tax_number": "Steuernr.",
        "order_reference": "Ihre Bestellung",
        "contract_reference": "Vertrag",
        "buyer_reference": "Ihr Zeichen",
        "corrects": "Korrektur zur Rechnung",
        "of": "vom",
        "deliver_to": "Lieferung nach",
        "pos": "Pos.",
        "description": "Beschreibung",
        "quantity": "Menge",
        "unit_price": "Einzelpreis",
        "vat": "USt.",
        "amount": "Betrag",
        "tiered": "gestaffelt",
        "tier": "Stufe",
        "units": "Einheiten",
        "line_total": "Summe Positionen",
        "allowance": "Nachlass",
        "charge": "Zuschlag",
        "net_total": "Gesamt netto",
        "vat_total": "Umsatzsteuer",
        "total": "Gesamtbetrag",
        "prepaid": "Bereits gezahlt",
        "rounding": "Rundung",
        "payable": "Zahlbetrag",
        "credit_total": "Gutschriftsbetrag",
        "tax_summary": "Umsatzsteuer nach Steuersätzen",
        "category": "Kategorie",
        "rate": "Satz",
        "taxable_amount": "Nettobetrag",
        "tax_amount": "Steuerbetrag",
        "payment": "Zahlung",
        "payment_terms": "Zahlungsbedingungen",
        "transfer": (
            "Bitte überweisen Sie {amount} bis zum {date} auf das unten genannte Konto "
            "unter Angabe der Referenz {reference}."
        ),
        "transfer_no_date": (
            "Bitte überweisen Sie {amount} auf das unten genannte Konto unter Angabe der Referenz {reference}."
        ),
        "direct_debit": (
            "Der Betrag von {amount} wird per SEPA-Lastschrift von Konto {iban} eingezogen "
            "(Mandatsreferenz {mandate}, Gläubiger-ID {creditor})."
        ),
        "refund": "Der Betrag von {amount} wird erstattet oder mit offenen Rechnungen verrechnet.",
        "account_holder": "Kontoinhaber",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Verwendungszweck",
        "page": "Seite",
        "page_of": "von",
        "contact": "Kontakt",
    },
    "fr": {
        "invoice": "Facture",
        "credit_note": "Avoir",
        "number": "Numéro",
        "issue_date": "Date",
        "due_date": "Échéance",
        "delivery_date": "Date de livraison",
        "invoice_period": "Période de facturation",
        "service_period": "Période de service",
        "customer_number": "N° client",
        "buyer_vat_id": "Votre n° TVA",
        "seller_vat_id": "N° TVA",
        "tax_number": "N° fiscal",
        "order_reference": "Votre commande",
        "contract_reference": "Contrat",
        "buyer_reference": "Votre référence",
        "corrects": "Rectifie la facture",
        "of": "du",
        "deliver_to": "Livré en",
        "pos": "N°",
        "description": "Désignation",
        "quantity": "Quantité",
        "unit_price": "Prix unitaire",
        "vat": "TVA",
        "amount": "Montant",
        "tiered": "par paliers",
        "tier": "Palier",
        "units": "unités",
        "line_total": "Total des lignes",
        "allowance": "Remise",
        "charge": "Frais",
        "net_total": "Total HT",
        "vat_total": "Total TVA",
        "total": "Total TTC",
        "prepaid": "Acompte versé",
        "rounding": "Arrondi",
        "payable": "Net à payer",
        "credit_total": "Montant de l'avoir",
        "tax_summary": "Récapitulatif TVA",
        "category": "Catégorie",
        "rate": "Taux",
        "taxable_amount": "Base HT",
        "tax_amount": "Montant TVA",
        "payment": "Paiement",
        "payment_terms": "Conditions de paiement",
        "transfer": (
            "Merci de virer {amount} avant le {date} sur le compte ci-dessous en indiquant la référence {reference}."
        ),
        "transfer_no_date": "Merci de virer {amount} sur le compte ci-dessous en indiquant la référence {reference}.",
        "direct_debit": (
            "Le montant de {amount} sera prélevé par prélèvement SEPA sur le compte {iban} "
            "(mandat {mandate}, ICS {creditor})."
        ),
        "refund": "Le montant de {amount} sera remboursé ou imputé sur les factures ouvertes.",
        "account_holder": "Titulaire",
        "iban": "IBAN",
        "bic": "BIC",
        "reference": "Référence",
        "page": "Page",
        "page_of": "sur",
        "contact": "Contact",
    },
}

CATEGORY_NAMES: dict[str, dict[VatCategoryCode, str]] = {
    "en": {
        VatCategoryCode.STANDARD: "Standard rate",
        VatCategoryCode.ZERO: "Zero rated",
        VatCategoryCode.EXEMPT: "Exempt",
        VatCategoryCode.REVERSE_CHARGE: "Reverse charge",
        VatCategoryCode.INTRA_COMMUNITY: "Intra-Community supply",
        VatCategoryCode.EXPORT: "Export outside the EU",
        VatCategoryCode.OUTSIDE_SCOPE: "Not subject to VAT",
    },
    "de": {
        VatCategoryCode.STANDARD: "Regelsatz",
        VatCategoryCode.ZERO: "Nullsatz",
        VatCategoryCode.EXEMPT: "Steuerbefreit",
        VatCategoryCode.REVERSE_CHARGE: "Steuerschuldnerschaft des Leistungsempfängers",
        VatCategoryCode.INTRA_COMMUNITY: "Innergemeinschaftliche Lieferung",
        VatCategoryCode.EXPORT: "Ausfuhrlieferung",
        VatCategoryCode.OUTSIDE_SCOPE: "Nicht steuerbar",
    },
    "fr": {
        VatCategoryCode.STANDARD: "Taux normal",
        VatCategoryCode.ZERO: "Taux zéro",
        VatCategoryCode.EXEMPT: "Exonéré",
        VatCategoryCode.REVERSE_CHARGE: "Autoliquidation",
        VatCategoryCode.INTRA_COMMUNITY: "Livraison intracommunautaire",
        VatCategoryCode.EXPORT: "Exportation hors UE",
        VatCategoryCode.OUTSIDE_SCOPE: "Hors champ de la TVA",
    },
}

#: Unit names (UN/ECE Rec 20 codes) per language: (one, several). Unknown codes print as the code.
UNIT_NAMES: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "C62": ("pc", "pcs"),
        "H87": ("pc", "pcs"),
        "MON": ("month", "months"),
        "DAY": ("day", "days"),
        "HUR": ("h", "h"),
        "ANN": ("year", "years"),
        "LS": ("lump sum", "lump sum"),
    },
    "de": {
        "C62": ("Stk.", "Stk."),
        "H87": ("Stk.", "Stk."),
        "MON": ("Monat", "Monate"),
        "DAY": ("Tag", "Tage"),
        "HUR": ("Std.", "Std."),
        "ANN": ("Jahr", "Jahre"),
        "LS": ("pauschal", "pauschal"),
    },
    "fr": {
        "C62": ("pce", "pces"),
        "H87": ("pce", "pces"),
        "MON": ("mois", "mois"),
        "DAY": ("jour", "jours"),
        "HUR": ("h", "h"),
        "ANN": ("an", "ans"),
        "LS": ("forfait", "forfait"),
    },
}


def parse_locale(name: str) -> Locale:
    """The Babel locale for ``de_DE``/``de-DE``/``de``; English (US) when unknown."""
    try:
        return Locale.parse((name or DEFAULT_LOCALE).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        return Locale.parse(DEFAULT_LOCALE)


@dataclass(frozen=True)
class Formatter:
    """Formats values for one locale; ``language`` picks the labels."""

    locale: Locale

    @classmethod
    def for_locale(cls, name: str) -> Formatter:
        return cls(parse_locale(name))

    @property
    def language(self) -> str:
        return self.locale.language if self.locale.language in LABELS else "en"

    @property
    def labels(self) -> dict[str, str]:
        return LABELS[self.language]

    def money(self, money: Money) -> str:
        """An amount with exactly its currency's ISO 4217 decimals (``7.467,25 €``, ``¥1,000``)."""
        return self._currency(money.amount, money.currency, money.exponent, money.exponent)

    def price(self, money: Money) -> str:
        """A unit price: at least the currency's decimals, more when the price has them."""
        own = max(-money.amount.normalize().as_tuple().exponent, 0)  # type: ignore[operator]
        return self._currency(money.amount, money.currency, money.exponent, max(own, money.exponent))

    def _currency(self, amount: Decimal, currency: str, min_digits: int, max_digits: int) -> str:
        # The locale's currency pattern with the fraction digits forced: Babel would otherwise use
        # CLDR's digits for the currency, which differ from ISO 4217 for a few (IQD, RSD, …).
        pattern = copy.copy(self.locale.currency_formats["standard"])
        pattern.frac_prec = (min_digits, max_digits)
        return pattern.apply(amount, self.locale, currency=currency, currency_digits=False)

    def quantity(self, value: Decimal) -> str:
        return format_decimal(value.normalize(), locale=self.locale, decimal_quantization=False)

    def percent(self, rate: Decimal) -> str:
        return format_percent(rate / 100, locale=self.locale, decimal_quantization=False)

    def date(self, day: date) -> str:
        return format_date(day, format="medium", locale=self.locale)

    def period(self, period: Period) -> str:
        """A half-open period shown with its inclusive last day: ``01.02.2027 – 28.02.2027``."""
        last = period.end - timedelta(days=1) if period.end > period.start else period.end
        return f"{self.date(period.start)} – {self.date(last)}"

    def unit(self, code: str, quantity: Decimal = Decimal(2)) -> str:
        names = UNIT_NAMES[self.language].get(code)
        if names is None:
            return code
        return names[0] if abs(quantity) == 1 else names[1]

    def category(self, code: VatCategoryCode) -> str:
        return CATEGORY_NAMES[self.language].get(code, code.value)
