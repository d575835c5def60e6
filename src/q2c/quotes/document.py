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

import hashlib
import json
import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_datetime
from babel.numbers import format_currency, format_decimal
from django.template.loader import render_to_string

from q2c.platform import pdf

logger = logging.getLogger(__name__)

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
    """The PDF bytes and the fetcher (whose ``refused`` list shows what was kept out).

    A document rendered ahead by :class:`RenderAhead` for the same data, moment and preview flag
    is taken instead of rendering again: the rendering is a pure function of those three.
    """
    ahead = _take_ahead(data, created, preview)
    if ahead is not None:
        fetcher = pdf.StaticFilesFetcher()
        fetcher.refused.extend(ahead[1])
        return ahead[0], fetcher
    return _render(data, created=created, preview=preview)


def _render(
    data: dict[str, Any], *, created: datetime, preview: bool
) -> tuple[bytes, pdf.StaticFilesFetcher]:
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



# ------------------------------------------------------------------ rendering ahead
#
# A batch that knows which quotes it will send (the demo company knows on the day a quote is
# submitted that it goes out on the next working day) can render their documents on another
# core while it does the rest of its day. Only this module's own renderer fills the store, keyed
# by the SHA-256 of the canonical data, the creation moment and the preview flag; a send whose
# data or moment differ (the quote changed, the day moved) misses and renders as always, so the
# bytes sent never depend on whether a document was rendered ahead.

_AHEAD_MAX = 256
_ahead: dict[str, tuple[bytes, tuple[str, ...]]] = {}
_ahead_lock = threading.Lock()


def _ahead_key(data: dict[str, Any], created: datetime, preview: bool) -> str:
    blob = json.dumps([data, created.isoformat(), preview], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _take_ahead(data: dict[str, Any], created: datetime, preview: bool) -> tuple[bytes, tuple[str, ...]] | None:
    if not _ahead:
        return None
    with _ahead_lock:
        return _ahead.pop(_ahead_key(data, created, preview), None)


def _render_in_worker(data: dict[str, Any], created: datetime, preview: bool) -> tuple[bytes, tuple[str, ...]]:
    content, fetcher = _render(data, created=created, preview=preview)
    return content, tuple(fetcher.refused)


class RenderAhead:
    """Render quote documents in one worker process (forked, so it shares the loaded project and
    never touches the database) and keep them for the sends that will ask for them.

    ``submit`` queues a document; ``collect`` waits for what was queued and stores it. Used
    outside a web request only; a worker that fails leaves the sends to render inline.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._pending: list[tuple[str, Future[tuple[bytes, tuple[str, ...]]]]] = []
        self._broken = False

    def submit(self, data: dict[str, Any], *, created: datetime, preview: bool = False) -> None:
        if self._broken:
            return
        if self._pool is None:
            if "fork" not in multiprocessing.get_all_start_methods():  # Windows: render at send
                self._broken = True
                return
            self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"))
        try:
            future = self._pool.submit(_render_in_worker, data, created, preview)
        except (BrokenProcessPool, RuntimeError):
            self._broken = True
            return
        self._pending.append((_ahead_key(data, created, preview), future))

    def collect(self) -> int:
        """Store every queued document (waiting for those not finished); the number stored."""
        stored = 0
        pending, self._pending = self._pending, []
        for key, future in pending:
            try:
                result = future.result()
            except Exception:  # a broken worker: these sends render inline, as without it
                logger.warning("rendering a quote document ahead failed; it renders at send", exc_info=True)
                self._broken = True
                continue
            with _ahead_lock:
                while len(_ahead) >= _AHEAD_MAX:
                    _ahead.pop(next(iter(_ahead)))
                _ahead[key] = result
            stored += 1
        return stored

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        self._pending = []

