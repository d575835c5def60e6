"""From stored invoices and credit notes to the document model the renderers take, and the content
hash an issued document carries.

``invoice_document`` / ``credit_note_document`` build an ``InvoiceDocument`` from the rows as
issued (amounts, tax breakdown and the frozen seller and buyer snapshots), computing nothing: the
same rows always give the same document, hence the same bytes (docs/e-invoicing.md).

``content_sha256`` is the SHA-256 of a canonical text of an issued invoice's legal content
(header, lines, VAT breakdown, seller and buyer snapshot hashes): stored in the issuing transaction,
for invoices issued one by one and by bill runs alike, it is the evidence of what was issued;
rendered files carry their own SHA-256 (``DocumentFile``).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core.money import Money
from q2c.core.periods import Period
from q2c.invoicing import partydata
from q2c.invoicing.documents import model as doc
from q2c.tax.categories import VatCategoryCode

HEAD_HASH_FIELDS = (
    "entity_id", "account_id", "issue_date", "due_date", "currency", "net_minor", "tax_minor",
    "total_minor", "base_currency", "rate", "net_base_minor", "tax_base_minor", "total_base_minor", "payment_terms",
)  # fmt: skip
LINE_HASH_FIELDS = (
    "position", "description", "item_id", "quantity", "unit_price", "share_num", "share_den", "gross_minor",
    "discount_minor", "net_minor", "tax_minor", "vat_category", "tax_percent", "service_start", "service_end",
    "source_type", "source_id", "tiers", "supply_type",
)  # fmt: skip


def hash_text(values: Iterable[Any]) -> str:
    """Values as one line of the hashed record (unit separators between them): ``str`` of each
    (a date's is its ISO form, as the bulk writer stores it), empty for None."""
    return "\x1f".join(["" if v is None else str(v) for v in values])


def head_text(head: Mapping[str, Any]) -> str:
    return hash_text(head.get(f) for f in HEAD_HASH_FIELDS)


def line_text(line: Mapping[str, Any]) -> str:
    return hash_text(line.get(f) for f in LINE_HASH_FIELDS)


def tiers_text(tiers: Sequence[Mapping[str, Any]]) -> str:
    """A line's tier breakdown as stored (canonical JSON text; ``[]`` for none)."""
    if not tiers:
        return "[]"
    return json.dumps([dict(t) for t in tiers], sort_keys=True)


TIER_KEYS = ("lower", "upper", "quantity", "unit_price", "amount")
MAX_TIERS = 50


def normalize_tiers(raw: Any, currency: str, *, field: str = "tiers") -> list[dict[str, Any]]:
    """Check and normalise a usage line's tier breakdown (as given by a caller) to what is stored:
    dicts of ``lower`` (first unit, inclusive), ``upper`` (last unit, or None for no bound),
    ``quantity``, ``unit_price`` and ``amount`` (at most the currency's decimals), decimal text.

    Errors: ``ValidationError`` naming ``{field}[i].key``.
    """
    from q2c.core.errors import ValidationError
    from q2c.core.money import currency_exponent, to_decimal

    if raw is None or raw == []:
        return []
    if not isinstance(raw, list | tuple) or len(raw) > MAX_TIERS:
        raise ValidationError(f"tiers are a list of at most {MAX_TIERS} tiers", field=field)
    exp = currency_exponent(currency)
    out: list[dict[str, Any]] = []
    for i, tier in enumerate(raw):
        where = f"{field}[{i}]"
        if not isinstance(tier, Mapping):
            raise ValidationError("a tier has lower, upper, quantity, unit_price and amount", field=where)
        values: dict[str, Decimal | None] = {}
        for key in TIER_KEYS:
            value = tier.get(key)
            if key == "upper" and value in (None, ""):
                values[key] = None
                continue
            try:
                number = to_decimal(value, field=f"{where}.{key}")
            except TypeError as exc:
                raise ValidationError(str(exc), field=f"{where}.{key}") from None
            if not number.is_finite() or number < 0 or abs(number) >= Decimal("1e15"):
                raise ValidationError("a non-negative amount below 10^15", field=f"{where}.{key}")
            values[key] = number
        lower, upper, amount = values["lower"], values["upper"], values["amount"]
        assert lower is not None and amount is not None
        if upper is not None and upper < lower:
            raise ValidationError("a tier's last unit is not below its first", field=f"{where}.upper")
        if amount != amount.quantize(Decimal(1).scaleb(-exp)):
            raise ValidationError(f"the amount has at most {exp} decimals", field=f"{where}.amount")
        out.append({k: (None if v is None else str(v)) for k, v in values.items()})
    return out


def content_record(head: str, lines: Sequence[str], tax_json: str, seller_sha: str, buyer_sha: str) -> bytes:
    """An issued document's content but its number: head and lines (``head_text``/``line_text``,
    fields in the fixed orders above), the VAT breakdown as stored (JSON), the parties' snapshot
    hashes — one record per part (record separators)."""
    return "\x1e".join([head, *lines, tax_json, seller_sha, buyer_sha]).encode()


def content_sha256(number: str, record: bytes) -> str:
    """SHA-256 of the number followed by the content record (:func:`content_record`)."""
    return hashlib.sha256(number.encode() + b"\x1e" + record).hexdigest()


def summary_json(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """The VAT breakdown as stored on the invoice (``calc.TaxRow`` → JSON)."""
    return [
        {
            "jurisdiction": r.jurisdiction,
            "category": r.category,
            "percent": str(r.percent),
            "taxable": r.taxable_minor,
            "tax": r.tax_minor,
            "mention": r.mention,
            "reason_code": r.reason_code,
            "tax_code": r.tax_code,
            "deliver_to": r.deliver_to_country,
            "delivery_date": r.delivery_date.isoformat() if r.delivery_date else None,
        }
        for r in rows
    ]


_ROW_TEMPLATES: dict[tuple[Any, ...], tuple[str, str, str]] = {}


def summary_text(rows: Sequence[Any]) -> str:
    """``json.dumps(summary_json(rows), sort_keys=True)``, built from cached pieces: a row's text
    is fixed but for its two amounts (the bill run's hot path; a test checks the equality)."""
    parts = []
    for r in rows:
        key = (
            r.jurisdiction,
            r.category,
            r.percent,
            r.mention,
            r.reason_code,
            r.tax_code,
            r.deliver_to_country,
            r.delivery_date,
        )
        pieces = _ROW_TEMPLATES.get(key)
        if pieces is None:
            # Keys sorted: category, deliver_to, delivery_date, jurisdiction, mention, percent,
            # reason_code, tax, tax_code, taxable — the two amounts split the text in three.
            marker = json.dumps(
                {"category": r.category, "deliver_to": r.deliver_to_country,
                 "delivery_date": r.delivery_date.isoformat() if r.delivery_date else None,
                 "jurisdiction": r.jurisdiction, "mention": r.mention, "percent": str(r.percent),
                 "reason_code": r.reason_code, "tax": -1, "tax_code": r.tax_code, "taxable": -2},
                sort_keys=True,
            )  # fmt: skip
            head, rest = marker.split('"tax": -1', 1)
            middle, tail = rest.split('"taxable": -2', 1)
            pieces = _ROW_TEMPLATES[key] = (head + '"tax": ', middle + '"taxable": ', tail)
        parts.append(f"{pieces[0]}{r.tax_minor}{pieces[1]}{r.taxable_minor}{pieces[2]}")
    return "[" + ", ".join(parts) + "]"


def posting_text(posting: Mapping[str, int]) -> str:
    """``json.dumps(posting, sort_keys=True)`` for a posting (account keys need no escaping)."""
    return "{" + ", ".join(f'"{k}": {posting[k]}' for k in sorted(posting)) + "}"


def _m(minor: int, currency: str) -> Money:
    return Money.from_minor(int(minor), currency)


def _tiers(tiers: Sequence[Mapping[str, Any]], currency: str) -> tuple[doc.UsageTier, ...]:
    return tuple(
        doc.UsageTier(
            lower=Decimal(t["lower"]),
            upper=None if t.get("upper") in (None, "") else Decimal(t["upper"]),
            quantity=Decimal(t["quantity"]),
            unit_price=Money(Decimal(t["unit_price"]), currency),
            amount=Money(Decimal(t["amount"]), currency),
        )
        for t in tiers
    )


def _lines(rows: Sequence[Any], currency: str) -> tuple[doc.InvoiceLine, ...]:
    out = []
    for row in rows:
        discount = int(row.discount_minor)
        period = Period(row.service_start, row.service_end) if row.service_start and row.service_end else None
        out.append(
            doc.InvoiceLine(
                id=str(row.position),
                description=row.description,
                quantity=Decimal(row.quantity),
                unit_code=row.unit_code or "C62",
                unit_price=Money(
                    Decimal(row.print_unit_price if row.print_unit_price is not None else row.unit_price),
                    currency,
                ),
                net_amount=_m(row.net_minor, currency),
                vat=doc.VatRate(VatCategoryCode(row.vat_category), Decimal(row.tax_percent or 0)),
                price_base_quantity=Decimal(row.base_quantity or 1),
                service_period=period if period and period.days > 0 else None,
                item_id=row.item_id,
                note=f"Contract {row.contract_number}" if row.contract_number else "",
                detail=row.detail,
                tiers=_tiers(getattr(row, "tiers", None) or (), currency),
                allowances_charges=(
                    doc.AllowanceCharge(_m(discount, currency), "Discount", reason_code="95"),
                )
                if discount
                else (),
            )
        )
    return tuple(out)


def _summary(rows: Sequence[Mapping[str, Any]], currency: str, sign: int = 1) -> tuple[doc.TaxSubtotal, ...]:
    return tuple(
        doc.TaxSubtotal(
            vat=doc.VatRate(VatCategoryCode(r["category"]), Decimal(r["percent"])),
            taxable_amount=_m(sign * r["taxable"], currency),
            tax_amount=_m(sign * r["tax"], currency),
            exemption_reason=r.get("mention", "") if r["category"] != "S" else "",
            exemption_reason_code=r.get("reason_code", "") if r["category"] != "S" else "",
        )
        for r in rows
    )


def _deliver_to(rows: Sequence[Mapping[str, Any]]) -> tuple[str, date | None]:
    for r in rows:
        if r.get("deliver_to"):
            when = r.get("delivery_date")
            return r["deliver_to"], date.fromisoformat(when) if when else None
    return "", None


def _parties(
    seller: Mapping[str, Any], buyer: Mapping[str, Any], deliver_to: str, categories: Iterable[str]
) -> tuple[doc.Seller, doc.Buyer]:
    """The document's seller and buyer. A document with a line outside the scope of VAT (category
    O) states no VAT identifiers (EN 16931 BR-O-02): the seller's VAT id travels as its tax
    registration (BT-32) instead, the buyer's is left out; and as the seller must still be
    identified (BR-CO-26), a seller without a legal registration (BT-30) is identified by its
    VAT number as seller identifier (BT-29)."""
    s = partydata.document_seller(seller)
    b = partydata.document_buyer(buyer, deliver_to=deliver_to)
    if VatCategoryCode.OUTSIDE_SCOPE.value in set(categories) and (s.vat_id or b.vat_id):
        ident = "" if s.legal_registration else s.vat_id
        s = dataclasses.replace(s, vat_id="", tax_number=s.tax_number or s.vat_id, identifier=ident)
        b = dataclasses.replace(b, vat_id="")
    return s, b


def invoice_document(
    invoice: Any, lines: Sequence[Any], seller: Mapping[str, Any], buyer: Mapping[str, Any]
) -> doc.InvoiceDocument:
    """The document of an invoice (issued, or a draft being issued with its number set)."""
    cur = invoice.currency
    deliver_to, delivered = _deliver_to(invoice.tax_summary)
    net = _m(invoice.net_minor, cur)
    total = _m(invoice.total_minor, cur)
    starts = [ln.service_start for ln in lines if ln.service_start]
    ends = [ln.service_end for ln in lines if ln.service_end]
    period = Period(min(starts), max(ends)) if starts and ends and max(ends) > min(starts) else None
    notes = tuple(n for n in (seller.get("note", ""), invoice.notes) if n)
    means = (
        doc.PaymentMeans(
            doc.PaymentMeansKind.CREDIT_TRANSFER, reference=doc.creditor_reference(invoice.number)
        )
        if seller.get("iban")
        else None
    )
    doc_seller, doc_buyer = _parties(
        seller,
        buyer,
        deliver_to,
        [r["category"] for r in invoice.tax_summary] + [ln.vat_category for ln in lines],
    )
    return doc.InvoiceDocument(
        kind=doc.DocumentKind.INVOICE,
        number=invoice.number,
        issue_date=invoice.issue_date,
        currency=cur,
        seller=doc_seller,
        buyer=doc_buyer,
        lines=_lines(lines, cur),
        tax_summary=_summary(invoice.tax_summary, cur),
        totals=doc.Totals(line_net=net, net=net, tax=_m(invoice.tax_minor, cur), total=total, payable=total),
        due_date=invoice.due_date,
        payment_terms=invoice.payment_terms,
        payment_means=means,
        delivery_date=invoice.delivery_date or delivered,
        invoice_period=period,
        contract_reference=invoice.contract_reference,
        buyer_reference=invoice.buyer_reference,
        order_reference=invoice.order_reference,
        notes=notes,
    )


def credit_note_document(
    note: Any, lines: Sequence[Any], invoice: Any, seller: Mapping[str, Any], buyer: Mapping[str, Any]
) -> doc.InvoiceDocument:
    cur = note.currency
    deliver_to, delivered = _deliver_to(note.tax_summary)
    net = _m(note.net_minor, cur)
    total = _m(note.total_minor, cur)
    doc_lines = tuple(
        doc.InvoiceLine(
            id=str(ln.position),
            description=ln.description,
            quantity=Decimal(ln.quantity),
            unit_code="C62",
            unit_price=Money(Decimal(ln.unit_price), cur),
            net_amount=_m(ln.net_minor, cur),
            vat=doc.VatRate(VatCategoryCode(ln.vat_category), Decimal(ln.tax_percent or 0)),
        )
        for ln in lines
    )
    doc_seller, doc_buyer = _parties(
        seller,
        buyer,
        deliver_to,
        [r["category"] for r in note.tax_summary] + [ln.vat_category for ln in lines],
    )
    return doc.InvoiceDocument(
        kind=doc.DocumentKind.CREDIT_NOTE,
        number=note.number,
        issue_date=note.issue_date,
        currency=cur,
        seller=doc_seller,
        buyer=doc_buyer,
        lines=doc_lines,
        tax_summary=_summary(note.tax_summary, cur),
        totals=doc.Totals(line_net=net, net=net, tax=_m(note.tax_minor, cur), total=total, payable=total),
        preceding_invoice=doc.PrecedingInvoice(invoice.number, invoice.issue_date),
        delivery_date=delivered,
        contract_reference=invoice.contract_reference,
        buyer_reference=invoice.buyer_reference,
        notes=tuple(n for n in (f"Reason: {note.reason_code}", note.reason) if n),
    )
