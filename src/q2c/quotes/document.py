"""The quote document: the data it shows, its HTML and its PDF.

:func:`document_data` turns a quote's priced snapshot, its seller and its customer into plain,
already formatted text (amounts and dates in the customer's locale with Babel); the sent
document stores exactly this data, so the public acceptance page shows the same words as the PDF.
:func:`render_html` fills ``quotes/document.html`` (Django auto-escaping: a customer called
``<img src=file:///etc/passwd>`` is printed as text) and :func:`render_pdf` renders it with
``q2c.platform.pdf``, whose URL fetcher serves only the app's static files. The stylesheet
(static ``quotes/document.css``, also used by the public acceptance page) is given to the
renderer rather than linked from the HTML, so it is parsed once per process, not per document.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from django.template.loader import render_to_string

from q2c.platform import pdf

DEFAULT_LOCALE = "en"

#: The document's stylesheet (a static file).
STYLESHEET = "quotes/document.css"

_PERIODS = {
    "month": "per month",
    "quarter": "per quarter",
    "half_year": "per half-year",
    "year": "per year",
}
_FREQUENCY = {"month": "monthly", "quarter": "quarterly", "half_year": "half-yearly", "year": "yearly"}


def babel_locale(tag: str | None) -> Locale:
    """A Babel locale from a BCP 47 tag (``de-DE``); unknown tags fall back to English."""
    try:
        return Locale.parse((tag or DEFAULT_LOCALE).replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(DEFAULT_LOCALE)


class Formatter:
    """Amounts, numbers and dates for one locale (display only: nothing here computes)."""

    def __init__(self, tag: str | None, currency: str) -> None:
        self.locale = babel_locale(tag)
        self.currency = currency

    def money(self, amount: Decimal | str | None) -> str:
        if amount is None or amount == "":
            return ""
        # currency_digits=True: the currency's own minor unit, never a float in between.
        return format_currency(Decimal(str(amount)), self.currency, locale=self.locale)

    def number(self, value: Decimal | str | None) -> str:
        if value is None or value == "":
            return ""
        return format_decimal(Decimal(str(value)), locale=self.locale, decimal_quantization=False)

    def unit_price(self, value: Decimal | str | None) -> str:
        """A unit price keeps the decimals it has (0.002 per call), at least the currency's."""
        if value is None or value == "":
            return ""
        return format_currency(
            Decimal(str(value)), self.currency, locale=self.locale, decimal_quantization=False
        )

    def date(self, value: date | None) -> str:
        return format_date(value, format="long", locale=self.locale) if value else ""

    def datetime(self, value: datetime | None, tz: str) -> str:
        from zoneinfo import ZoneInfo

        return (
            format_datetime(value, format="medium", tzinfo=ZoneInfo(tz), locale=self.locale) if value else ""
        )


def _address(lines: list[str]) -> list[str]:
    return [line for line in lines if line and line.strip()]


def document_data(quote: Any, *, generated_at: datetime) -> dict[str, Any]:
    """Everything the document shows, as text. ``quote`` has ``entity``, ``account`` loaded."""
    entity, account = quote.entity, quote.account
    fmt = Formatter(account.locale, quote.currency)
    pricing = quote.pricing or {}
    priced = pricing.get("lines", [])
    totals = pricing.get("totals", {})

    def row(line: dict[str, Any], depth: int) -> dict[str, Any]:
        kind = line.get("charge_kind", "")
        period = _PERIODS.get(line.get("billing_period") or "", "")
        if kind == "recurring":
            when = period
        elif kind == "usage":
            when = "as used"
        else:
            when = "once"
        rate_card = [
            {
                "range": (
                    f"{fmt.number(t['lower'])} – {fmt.number(t['upper'])}"
                    if t.get("upper") is not None
                    else f"above {fmt.number(t['lower'])}"
                ),
                "price": fmt.unit_price(t["unit_price"]),
            }
            for t in line.get("rate_card", [])
        ]
        return {
            "key": line.get("key", ""),
            "depth": depth,
            "sku": line.get("sku", ""),
            "name": line.get("name", ""),
            "description": line.get("description", ""),
            "charge_kind": kind,
            "when": when,
            "quantity": fmt.number(line.get("quantity")),
            "unit": line.get("unit", ""),
            "list_amount": fmt.money(line.get("list_amount")),
            "discount": (
                f"{fmt.number(line.get('manual_discount_percent'))} %"
                if Decimal(str(line.get("manual_discount_percent") or "0")) != 0
                else ""
            ),
            "net_unit_price": fmt.unit_price(line.get("net_unit_price")),
            "net": fmt.money(line.get("net")) if kind != "usage" else "",
            "rate_card": rate_card,
        }

    # A quote line may price as several charges (one row each); a bundle's options follow it,
    # indented, in the order the rep entered them.
    groups: dict[str, list[dict[str, Any]]] = {}
    for line in priced:
        groups.setdefault(str(line.get("key", "")), []).append(line)
    child_keys: dict[str, list[str]] = {}
    top: list[str] = []
    for key, charges in groups.items():
        parent = str(charges[0].get("parent") or "")
        if parent and parent in groups and parent != key:
            child_keys.setdefault(parent, []).append(key)
        else:
            top.append(key)
    rows: list[dict[str, Any]] = []

    def walk(key: str, depth: int, trail: frozenset[str]) -> None:
        for line in groups[key]:
            rows.append(row(line, depth))
        for child in child_keys.get(key, []):
            if child not in trail:
                walk(child, depth + 1, trail | {child})

    for key in top:
        walk(key, 0, frozenset({key}))

    recurring = [
        {"label": _PERIODS.get(period, period), "amount": fmt.money(amount)}
        for period, amount in (totals.get("recurring") or {}).items()
    ]
    tz = entity.time_zone or "UTC"
    seller_address = _address(
        [
            entity.address_line1,
            entity.address_line2,
            f"{entity.postal_code} {entity.city}".strip(),
            entity.region,
            entity.country,
        ]
    )
    customer_address = _address(
        [
            account.billing_line1,
            account.billing_line2,
            f"{account.billing_postal_code} {account.billing_city}".strip(),
            account.billing_region,
            account.country,
        ]
    )
    return {
        "lang": str(fmt.locale).replace("_", "-"),
        "title": quote.title or "Quote",
        "number": quote.number,
        "version": quote.version,
        "label": f"{quote.number} v{quote.version}",
        "issued": fmt.date(_local_date(generated_at, tz)),
        "valid_until": fmt.date(quote.valid_until),
        "seller": {
            "name": entity.name,
            "address": seller_address,
            "tax_id": entity.tax_id,
            "registration": entity.registration,
            "email": entity.email,
        },
        "customer": {
            "name": account.name,
            "address": customer_address,
            "tax_id": account.tax_id,
            "contact": quote.contact_name,
            "email": quote.contact_email,
        },
        "introduction": quote.introduction,
        "rows": rows,
        "currency": quote.currency,
        "totals": {
            "one_time": fmt.money(totals.get("one_time")),
            "recurring": recurring,
            "mrr": fmt.money(totals.get("mrr")),
            "arr": fmt.money(totals.get("arr")),
            "tcv": fmt.money(totals.get("tcv")),
            "list_tcv": fmt.money(totals.get("list_tcv")),
            "discount": fmt.money(totals.get("discount")),
            "discount_percent": f"{fmt.number(totals.get('discount_percent') or '0')} %",
            "has_discount": Decimal(str(totals.get("discount") or "0")) != 0,
        },
        "has_usage": any(line.get("charge_kind") == "usage" for line in priced),
        "terms": {
            "start_date": fmt.date(quote.start_date),
            "term_months": quote.term_months,
            "billing_frequency": _FREQUENCY.get(quote.billing_frequency, quote.billing_frequency),
            "payment_terms_days": quote.payment_terms_days,
            "auto_renew": quote.auto_renew,
            "custom": quote.terms,
        },
        "prices_note": "All prices exclude VAT, which is added at the rate in force on the invoice date.",
    }


def _local_date(moment: datetime, tz: str) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(tz)).date()


def render_html(data: dict[str, Any], *, preview: bool = False) -> str:
    return render_to_string("quotes/document.html", {"doc": data, "preview": preview})


def render_pdf(
    data: dict[str, Any], *, created: datetime, preview: bool = False
) -> tuple[bytes, pdf.StaticFilesFetcher]:
    """The PDF bytes and the fetcher (whose ``refused`` list shows what was kept out)."""
    fetcher = pdf.StaticFilesFetcher()
    content = pdf.render_pdf(
        render_html(data, preview=preview),
        key=f"quote:{data['label']}",
        created=created,
        fetcher=fetcher,
        title=f"{data['title']} {data['label']}",
        lang=data.get("lang"),
        stylesheets=(STYLESHEET,),
    )
    return content, fetcher
