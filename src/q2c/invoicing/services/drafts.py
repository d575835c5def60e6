"""Draft invoices written by hand: create, replace the lines, discard. A draft has no number and
posts nothing; :func:`q2c.invoicing.services.issue` turns it into an invoice.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.core.money import Money, check_currency, currency_exponent, to_decimal
from q2c.invoicing import build, errors
from q2c.invoicing import events as ev
from q2c.invoicing.domain import InvoiceStatus, Posting
from q2c.invoicing.models import Invoice, InvoiceLine
from q2c.invoicing.services import common
from q2c.parties.models import Account
from q2c.platform import events
from q2c.platform.events import DomainEvent
from q2c.tax.categories import TaxCategory

MAX_LINES = 500


def _line(i: int, raw: Mapping[str, Any], currency: str) -> dict[str, Any]:
    where = f"lines[{i}]"

    def fail(field: str, message: str) -> ValidationError:
        return errors.InvalidInvoice(message, field=f"{where}.{field}")

    description = str(raw.get("description") or "").strip()
    if not description or len(description) > 300:
        raise fail("description", "a line needs a description of 1 to 300 characters")
    tiers = build.normalize_tiers(raw.get("tiers"), currency, field=f"{where}.tiers")
    try:
        quantity = to_decimal(raw.get("quantity", 1), field=f"{where}.quantity")
        # A tiered usage line's amount is the sum of its tiers; its unit price is then derived.
        unit_price = to_decimal(
            raw.get("unit_price") if not tiers or raw.get("unit_price") is not None else 0,
            field=f"{where}.unit_price",
        )
    except TypeError as exc:
        raise fail("unit_price", str(exc)) from None
    if quantity <= 0:
        raise fail("quantity", "the quantity must be above zero")
    gross = Money.zero(currency)
    if tiers:
        gross = Money(sum((Decimal(t["amount"]) for t in tiers), Decimal(0)), currency)
        if sum(Decimal(t["quantity"]) for t in tiers) != quantity:
            raise fail("tiers", "the tiers' quantities must add up to the line's quantity")
        with localcontext() as ctx:
            ctx.prec = 28
            unit_price = gross.amount / quantity
    category = str(raw.get("tax_category") or "")
    if category not in TaxCategory._value2member_map_:
        raise fail(
            "tax_category", f"'{category}' is not a tax category ({', '.join(c.value for c in TaxCategory)})"
        )
    supply_type = str(raw.get("supply_type") or "")
    if supply_type not in ("", "goods", "services"):
        raise fail(
            "supply_type", "the supply type is goods or services (or left out where the category says)"
        )
    discount = to_decimal(raw.get("discount") or 0, field=f"{where}.discount")
    exp = currency_exponent(currency)
    if discount < 0 or discount != discount.quantize(Decimal(1).scaleb(-exp)):
        raise fail("discount", f"the discount is a non-negative amount with at most {exp} decimals")
    start, end = raw.get("service_start"), raw.get("service_end")
    for name, value in (("service_start", start), ("service_end", end)):
        if value is not None and not isinstance(value, date):
            raise fail(name, "a date")
    if (start is None) != (end is None) or (start and end and end <= start):
        raise fail("service_end", "a service period needs a start and a later (exclusive) end")
    posting = str(raw.get("posting") or (Posting.DEFERRED if raw.get("contract_id") else Posting.REVENUE))
    if posting not in Posting._value2member_map_:
        raise fail("posting", f"posting is one of {', '.join(p.value for p in Posting)}")
    return {
        "position": i + 1,
        "description": description,
        "detail": str(raw.get("detail") or "")[:2000],
        "item_id": str(raw.get("item_id") or "")[:64],
        "unit_code": str(raw.get("unit_code") or "C62")[:5],
        "quantity": quantity,
        "unit_price": unit_price,
        "share_num": int(raw.get("share_num") or 1),
        "share_den": int(raw.get("share_den") or 1),
        "currency": currency,
        "discount": Money(discount, currency),
        "tax_category": category,
        "service_start": start,
        "service_end": end,
        "delivery_date": raw.get("delivery_date"),
        "source_type": str(raw.get("source_type") or "manual"),
        "source_id": str(raw.get("source_id") or ""),
        "contract_id": raw.get("contract_id"),
        "contract_number": str(raw.get("contract_number") or ""),
        "contract_line_key": str(raw.get("contract_line_key") or ""),
        "revenue_category": str(raw.get("revenue_category") or "other"),
        "posting": posting,
        "tiers": tiers,
        "gross": gross,
        "supply_type": supply_type,
    }


def _lines(raw_lines: Sequence[Mapping[str, Any]], currency: str) -> list[dict[str, Any]]:
    if not raw_lines:
        raise errors.InvalidInvoice(
            "an invoice needs at least one line", code=errors.EMPTY_INVOICE, field="lines"
        )
    if len(raw_lines) > MAX_LINES:
        raise errors.InvalidInvoice(f"at most {MAX_LINES} lines", field="lines")
    return [_line(i, raw, currency) for i, raw in enumerate(raw_lines)]


def create_draft(
    *,
    account_id: int,
    lines: Sequence[Mapping[str, Any]],
    currency: str | None = None,
    notes: str = "",
    buyer_reference: str = "",
    terms_days: int | None = None,
    replaces_id: int | None = None,
    actor: Any = None,
) -> Invoice:
    """A draft invoice for a customer (its entity's), in the customer's currency unless given.

    Errors: ``invoicing.not_found`` (no such account), ``invoicing.invalid_line`` (naming
    ``lines[i].field``), ``invoicing.empty_invoice``, ``money.invalid_currency``.
    """
    who = common.actor_name(actor)
    account = Account.objects.filter(pk=account_id).first() if isinstance(account_id, int) else None
    if account is None:
        raise errors.InvoiceNotFound(f"no customer account {account_id}", field="account_id")
    cur = check_currency(currency or account.currency)
    values = _lines(lines, cur)
    if terms_days is not None and not (isinstance(terms_days, int) and 0 <= terms_days <= 365):
        raise errors.InvalidInvoice(
            "payment terms are 0 to 365 days", code=errors.INVALID_TERMS, field="terms_days"
        )
    now = clock.now()
    with transaction.atomic():
        invoice = Invoice.objects.create(
            entity_id=account.entity_id,
            account=account,
            currency=cur,
            notes=str(notes or "")[:4000],
            buyer_reference=str(buyer_reference or "")[:100],
            terms_days=terms_days,
            replaces_id=replaces_id,
            created_at=now,
            created_by=who,
            updated_at=now,
        )
        InvoiceLine.objects.bulk_create([InvoiceLine(invoice=invoice, **v) for v in values])
        events.record(
            DomainEvent(ev.INVOICE_CREATED, "invoicing.invoice", invoice.pk,
                        {"invoice_id": invoice.pk, "account_id": account.pk, "currency": cur, "lines": len(values)},
                        entity_id=account.entity_id, actor=who)
        )  # fmt: skip
    return invoice


def replace_lines(invoice_id: int, lines: Sequence[Mapping[str, Any]], *, actor: Any = None) -> Invoice:
    """Replace a draft's lines. Errors: ``invoicing.not_draft`` (409) once issued, line errors."""
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise errors.InvoiceConflict(
                f"invoice {invoice.number} is issued; correct it with a credit note", field="status"
            )
        values = _lines(lines, invoice.currency)
        InvoiceLine.objects.filter(invoice=invoice).delete()
        InvoiceLine.objects.bulk_create([InvoiceLine(invoice=invoice, **v) for v in values])
        invoice.updated_at = clock.now()
        invoice.save(update_fields=["updated_at"])
    return invoice


def discard_draft(invoice_id: int, *, actor: Any = None) -> None:
    """Delete a draft (it has no number, so no gap). Errors: ``invoicing.not_draft`` once issued."""
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        if invoice.status != InvoiceStatus.DRAFT:
            raise errors.InvoiceConflict(
                f"invoice {invoice.number} is issued and is never deleted", field="status"
            )
        events.record(
            DomainEvent(ev.INVOICE_DISCARDED, "invoicing.invoice", invoice.pk, {"invoice_id": invoice.pk},
                        entity_id=invoice.entity_id, actor=common.actor_name(actor))
        )  # fmt: skip
        InvoiceLine.objects.filter(invoice=invoice).delete()
        invoice.delete()
