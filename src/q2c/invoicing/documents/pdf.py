"""Invoice and credit-note PDFs from HTML/CSS templates, in the customer's language and formats.

The document is turned into a view model of display strings (Babel, :mod:`.formatting`) and
rendered with a Django template; every value reaches the HTML through autoescaping, so names and
descriptions containing markup print as text. The HTML becomes a PDF through
:func:`q2c.platform.pdf.render_pdf`, whose URL fetcher serves only the app's static files.

Templates are looked up per entity first, so an entity can restyle its documents without code:
``invoicing/<entity_slug>/invoice.html`` (``credit_note.html`` for credit notes, falling back to
its ``invoice.html``), then the defaults ``invoicing/credit_note.html`` / ``invoicing/invoice.html``.
An override usually ``{% extends "invoicing/invoice.html" %}`` and replaces blocks.

Must not import the ORM or any q2c app above ``core``, ``platform`` and ``tax``.
"""

from __future__ import annotations

import re
from typing import Any

from django.template.loader import select_template
from django.templatetags.static import static
from django.utils.html import format_html
from django.utils.safestring import SafeString

from q2c.invoicing.documents.formatting import Formatter
from q2c.invoicing.documents.model import (
    AllowanceCharge,
    DocumentKind,
    InvoiceDocument,
    PaymentMeansKind,
)
from q2c.platform.pdf import StaticFilesFetcher, render_pdf
from q2c.tax.categories import VatCategoryCode

_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def template_names(doc: InvoiceDocument) -> list[str]:
    """Template names tried in order: the entity's own, then the defaults."""
    slug = doc.seller.slug
    own = slug if slug and _SLUG.fullmatch(slug) else ""
    if doc.kind is DocumentKind.CREDIT_NOTE:
        names = [f"invoicing/{own}/credit_note.html", f"invoicing/{own}/invoice.html"] if own else []
        return [*names, "invoicing/credit_note.html", "invoicing/invoice.html"]
    return [f"invoicing/{own}/invoice.html", "invoicing/invoice.html"] if own else ["invoicing/invoice.html"]


def _css_string(text: str) -> str:
    """A CSS string literal (labels go into ``@page`` content, where HTML escaping does not apply)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


def _adjustment(fmt: Formatter, ac: AllowanceCharge) -> dict[str, Any]:
    labels = fmt.labels
    kind = labels["charge"] if ac.is_charge else labels["allowance"]
    detail = ac.reason
    if ac.percent is not None and ac.base_amount is not None:
        detail = f"{ac.reason} ({fmt.percent(ac.percent)} × {fmt.money(ac.base_amount)})"
    return {
        "label": f"{kind}: {detail}" if detail else kind,
        "amount": fmt.money(ac.amount if ac.is_charge else -ac.amount),
        "vat": fmt.percent(ac.vat.rate) if ac.vat else "",
    }


def context(doc: InvoiceDocument) -> dict[str, Any]:
    """The template context: the document plus every value already formatted for display."""
    fmt = Formatter.for_locale(doc.buyer.locale)
    labels = fmt.labels
    credit = doc.kind is DocumentKind.CREDIT_NOTE
    title = labels["credit_note" if credit else "invoice"]

    meta: list[tuple[str, str]] = [
        (labels["number"], doc.number),
        (labels["issue_date"], fmt.date(doc.issue_date)),
    ]
    if doc.due_date:
        meta.append((labels["due_date"], fmt.date(doc.due_date)))
    if doc.delivery_date:
        meta.append((labels["delivery_date"], fmt.date(doc.delivery_date)))
    if doc.invoice_period:
        meta.append((labels["invoice_period"], fmt.period(doc.invoice_period)))
    if doc.buyer.customer_number:
        meta.append((labels["customer_number"], doc.buyer.customer_number))
    if doc.buyer.vat_id:
        meta.append((labels["buyer_vat_id"], doc.buyer.vat_id))
    if doc.order_reference:
        meta.append((labels["order_reference"], doc.order_reference))
    if doc.contract_reference:
        meta.append((labels["contract_reference"], doc.contract_reference))
    if doc.buyer_reference:
        meta.append((labels["buyer_reference"], doc.buyer_reference))
    if doc.buyer.deliver_to_country:
        meta.append((labels["deliver_to"], doc.buyer.deliver_to_country))
    corrects = ""
    if doc.preceding_invoice:
        corrects = f"{labels['corrects']} {doc.preceding_invoice.number}"
        if doc.preceding_invoice.issue_date:
            corrects += f" {labels['of']} {fmt.date(doc.preceding_invoice.issue_date)}"

    lines = []
    for line in doc.lines:
        lines.append(
            {
                "id": line.id,
                "description": line.description,
                "detail": line.detail,
                "note": line.note,
                "item_id": line.item_id,
                "period": fmt.period(line.service_period) if line.service_period else "",
                "quantity": fmt.quantity(line.quantity),
                "unit": fmt.unit(line.unit_code, line.quantity),
                "unit_price": labels["tiered"] if line.tiers else fmt.price(line.unit_price),
                "base_quantity": (
                    fmt.quantity(line.price_base_quantity)
                    if line.price_base_quantity != 1 and not line.tiers
                    else ""
                ),
                "vat": fmt.percent(line.vat.rate),
                "amount": fmt.money(line.net_amount),
                "tiers": [
                    {
                        "label": (
                            f"{labels['tier']} {n}: {fmt.quantity(t.lower)} – "
                            f"{fmt.quantity(t.upper) if t.upper is not None else '…'}"
                        ),
                        "quantity": fmt.quantity(t.quantity),
                        "unit_price": fmt.price(t.unit_price),
                        "amount": fmt.money(t.amount),
                    }
                    for n, t in enumerate(line.tiers, start=1)
                ],
                "adjustments": [_adjustment(fmt, ac) for ac in line.allowances_charges],
            }
        )

    tax_rows = [
        {
            "category": fmt.category(sub.vat.category),
            "code": sub.vat.category.value,
            "rate": fmt.percent(sub.vat.rate)
            if sub.vat.category is not VatCategoryCode.OUTSIDE_SCOPE
            else "",
            "taxable": fmt.money(sub.taxable_amount),
            "tax": fmt.money(sub.tax_amount),
            "mention": sub.exemption_reason,
        }
        for sub in doc.tax_summary
    ]
    mentions = [sub.exemption_reason for sub in doc.tax_summary if sub.exemption_reason]

    t = doc.totals
    totals: list[tuple[str, str, str]] = []
    if doc.allowances_charges:
        totals.append((labels["line_total"], fmt.money(t.line_net), ""))
    doc_adjustments = [_adjustment(fmt, ac) for ac in doc.allowances_charges]
    totals_after: list[tuple[str, str, str]] = [
        (labels["net_total"], fmt.money(t.net), "net"),
        (labels["vat_total"], fmt.money(t.tax), ""),
        (labels["total"], fmt.money(t.total), "grand"),
    ]
    if t.prepaid:
        totals_after.append((labels["prepaid"], fmt.money(-t.prepaid), ""))
    if t.rounding:
        totals_after.append((labels["rounding"], fmt.money(t.rounding), ""))
    if t.prepaid or t.rounding or credit:
        totals_after.append(
            (labels["credit_total" if credit else "payable"], fmt.money(t.payable), "payable")
        )

    payment_text: SafeString | str = ""
    bank_rows: list[tuple[str, str]] = []
    pm = doc.payment_means
    if credit:
        payment_text = format_html(labels["refund"], amount=fmt.money(t.payable))
    elif pm and pm.kind is PaymentMeansKind.CREDIT_TRANSFER:
        iban = pm.iban or doc.seller.iban
        bic = pm.bic or doc.seller.bic
        holder = pm.account_name or doc.seller.account_name or doc.seller.name
        key = "transfer" if doc.due_date else "transfer_no_date"
        payment_text = format_html(
            labels[key],
            amount=fmt.money(t.payable),
            date=fmt.date(doc.due_date) if doc.due_date else "",
            reference=pm.reference or doc.number,
        )
        bank_rows = [(labels["account_holder"], holder), (labels["iban"], _group(iban))]
        if bic:
            bank_rows.append((labels["bic"], bic))
        bank_rows.append((labels["reference"], pm.reference or doc.number))
    elif pm and pm.kind is PaymentMeansKind.DIRECT_DEBIT:
        payment_text = format_html(
            labels["direct_debit"],
            amount=fmt.money(t.payable),
            iban=_mask(pm.debtor_iban) if pm.debtor_iban else "—",
            mandate=pm.mandate_id,
            creditor=doc.seller.creditor_id,
        )

    seller = doc.seller
    seller_ids: list[tuple[str, str]] = []
    if seller.vat_id:
        seller_ids.append((labels["seller_vat_id"], seller.vat_id))
    if seller.tax_number:
        seller_ids.append((labels["tax_number"], seller.tax_number))

    return {
        "doc": doc,
        "lang": fmt.language,
        "labels": labels,
        "title": title,
        "is_credit_note": credit,
        "logo_url": static(seller.logo) if seller.logo else "",
        "seller": seller,
        "seller_ids": seller_ids,
        "seller_bank": [(labels["iban"], _group(seller.iban)), (labels["bic"], seller.bic)]
        if seller.iban
        else [],
        "buyer": doc.buyer,
        "meta": meta,
        "corrects": corrects,
        "lines": lines,
        "tax_rows": tax_rows,
        "mentions": mentions,
        "totals_before": totals,
        "doc_adjustments": doc_adjustments,
        "totals_after": totals_after,
        "payment_terms": doc.payment_terms,
        "payment_text": payment_text,
        "bank_rows": bank_rows,
        "notes": doc.notes,
        "page_label_css": _css_string(labels["page"] + " "),
        "page_of_css": _css_string(" " + labels["page_of"] + " "),
    }


def _group(iban: str) -> str:
    """An IBAN in groups of four, as printed on paper."""
    compact = iban.replace(" ", "")
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4))


def _mask(iban: str) -> str:
    compact = iban.replace(" ", "")
    return compact[:4] + "…" + compact[-4:] if len(compact) > 8 else compact


def invoice_html(doc: InvoiceDocument) -> str:
    """The HTML of the invoice or credit note (the entity's template if it has one)."""
    template = select_template(template_names(doc))
    return template.render(context(doc))


def invoice_pdf(
    doc: InvoiceDocument,
    *,
    pdf_variant: str | None = None,
    fetcher: StaticFilesFetcher | None = None,
) -> bytes:
    """The PDF of the invoice or credit note; the same document gives the same bytes."""
    fmt = Formatter.for_locale(doc.buyer.locale)
    title = f"{fmt.labels['credit_note' if doc.is_credit_note else 'invoice']} {doc.number}"
    return render_pdf(
        invoice_html(doc),
        key=f"{doc.kind.value}:{doc.seller.vat_id or doc.seller.name}:{doc.number}",
        created=doc.issue_date,
        fetcher=fetcher,
        pdf_variant=pdf_variant,
        title=title,
        lang=str(fmt.locale).replace("_", "-"),
    )
