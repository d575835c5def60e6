"""Credit notes — the only correction of an issued invoice — and re-issue.

:func:`credit` credits an issued invoice in full or in part (per line, by quantity or by net
amount), with a reason code. Tax follows the invoice's VAT breakdown: each credited line keeps its
category and rate; per rate (the default) the credit note's tax is round(Σ credited nets × rate)
shared over its lines by largest remainder, per line each line's own; a line credited to the end
gives back exactly the tax it still carries, so crediting everything always returns exactly the
invoice's tax. The credit note takes its amount off the invoice's open amount first (the invoice
becomes paid when nothing is left: Stripe's rule); what goes beyond the open amount (the invoice
was already paid) is owed to the customer (customer credits). Posting: the invoice's posting
reversed for what is credited (deferred revenue and tax payable debited), AR and customer credits
credited.

:func:`reissue` credits an invoice in full (reason ``reissue``) and opens a draft copy of it to be
corrected and issued — the way to "change" an issued invoice.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum

from q2c.core import clock
from q2c.core.money import Money, Rounding, allocate_minor, currency_exponent, to_decimal
from q2c.invoicing import build, errors
from q2c.invoicing import events as ev
from q2c.invoicing import posting as book
from q2c.invoicing.domain import (
    ISSUED_STATES,
    CreditReason,
    InvoiceStatus,
    convert_minor,
    move,
    status_after_settlement,
)
from q2c.invoicing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine, PartySnapshot
from q2c.invoicing.services import common
from q2c.invoicing.services.drafts import create_draft
from q2c.invoicing.services.issue import render_and_store
from q2c.invoicing.services.settle import _today, open_base_of
from q2c.ledger import chart
from q2c.parties.models import LegalEntity
from q2c.platform import events, numbering
from q2c.platform.events import DomainEvent
from q2c.platform.numbering import NumberFormat
from q2c.tax.engine import tax_of

NUMBER_KIND = "credit_note"
_KEEP = (chart.AR, chart.CUSTOMER_CREDITS)


@dataclass(frozen=True)
class CreditLine:
    """Credit one invoice line: a ``quantity`` of it, or a net ``amount`` (invoice currency)."""

    line_id: int
    quantity: Decimal | None = None
    amount: Decimal | None = None


def _credited_so_far(invoice: Invoice) -> dict[int, tuple[int, int, int, int]]:
    rows = (
        CreditNoteLine.objects.filter(credit_note__invoice=invoice)
        .values("invoice_line_id")
        .annotate(n=Sum("net_minor"), t=Sum("tax_minor"), nb=Sum("net_base_minor"), tb=Sum("tax_base_minor"))
    )
    return {
        r["invoice_line_id"]: (int(r["n"] or 0), int(r["t"] or 0), int(r["nb"] or 0), int(r["tb"] or 0))
        for r in rows
    }


def credit(
    invoice_id: int,
    *,
    reason_code: str,
    reason: str = "",
    lines: Sequence[CreditLine] | None = None,
    full: bool = False,
    actor: Any = None,
    formats: Sequence[str] | None = None,
) -> CreditNote:
    """Issue a credit note against an issued invoice (``full`` or ``lines``).

    Errors (nothing written): ``invoicing.not_found``; ``invoicing.invalid_credit`` (unknown
    reason, no lines, a line of another invoice, a quantity or amount not above zero);
    ``invoicing.credit_exceeds_invoice`` (more than the line has left to credit);
    ``invoice.invalid_transition`` (409: a draft or a void invoice).
    """
    who = common.actor_name(actor)
    if reason_code not in CreditReason._value2member_map_:
        raise errors.InvalidCredit(
            f"the reason is one of {', '.join(r.value for r in CreditReason)}", field="reason_code"
        )
    if not full and not lines:
        raise errors.InvalidCredit("credit the whole invoice (full) or name the lines", field="lines")
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        if invoice.status not in ISSUED_STATES or invoice.status == InvoiceStatus.VOID:
            move(invoice.status, InvoiceStatus.PAID)  # 409 naming the state
        if invoice.status == InvoiceStatus.VOID:
            raise errors.InvoiceConflict(f"invoice {invoice.number} is void", field="status")
        cur, base = invoice.currency, invoice.base_currency
        exp = currency_exponent(cur)
        rows = {ln.pk: ln for ln in InvoiceLine.objects.filter(invoice=invoice).order_by("position")}
        done = _credited_so_far(invoice)
        wanted: list[tuple[InvoiceLine, int, Decimal | None]] = []  # line, net, quantity shown
        if full:
            for ln in rows.values():
                left = int(ln.net_minor) - done.get(ln.pk, (0, 0, 0, 0))[0]  # type: ignore[attr-defined]
                if left > 0:
                    wanted.append((ln, left, None))
            if not wanted:
                raise errors.InvalidCredit(
                    f"nothing is left to credit on {invoice.number}",
                    code=errors.CREDIT_EXCEEDS,
                    field="lines",
                )
        else:
            seen: set[int] = set()
            for i, cl in enumerate(lines or ()):
                found = rows.get(cl.line_id)
                if found is None or cl.line_id in seen:
                    raise errors.InvalidCredit(
                        f"line {cl.line_id} is not a line of {invoice.number} (or is named twice)",
                        field=f"lines[{i}].line_id",
                    )
                seen.add(cl.line_id)
                ln = found
                line_net = int(ln.net_minor)  # type: ignore[attr-defined]
                left = line_net - done.get(ln.pk, (0, 0, 0, 0))[0]
                if (cl.quantity is None) == (cl.amount is None):
                    raise errors.InvalidCredit("give a quantity or an amount", field=f"lines[{i}]")
                if cl.quantity is not None:
                    q = to_decimal(cl.quantity, field=f"lines[{i}].quantity")
                    qty = Decimal(ln.quantity)
                    if q <= 0 or qty <= 0 or q > qty:
                        raise errors.InvalidCredit(
                            f"a quantity above 0 and at most {qty}", field=f"lines[{i}].quantity"
                        )
                    net = (
                        left
                        if q == qty
                        else int((Decimal(line_net) * q / qty).quantize(Decimal(1), rounding=ROUND_HALF_UP))
                    )
                    shown: Decimal | None = q
                else:
                    amt = to_decimal(cl.amount, field=f"lines[{i}].amount")
                    if amt <= 0 or amt != amt.quantize(Decimal(1).scaleb(-exp)):
                        raise errors.InvalidCredit(
                            f"an amount above 0 with at most {exp} decimals", field=f"lines[{i}].amount"
                        )
                    net = int(amt.scaleb(exp))
                    shown = None
                if net > left:
                    raise errors.InvalidCredit(
                        f"line {ln.position} has {Money.from_minor(max(left, 0), cur)} left to credit",
                        code=errors.CREDIT_EXCEEDS,
                        field=f"lines[{i}]",
                    )
                wanted.append((ln, net, shown))

        # Tax per VAT row of the invoice: lines credited to the end give back what they carry.
        rounding: Rounding = "half_even" if invoice.rounding == "half_even" else "half_up"
        taxes: dict[int, int] = {}
        groups: dict[str, list[tuple[InvoiceLine, int]]] = defaultdict(list)
        for ln, net, _ in wanted:
            left = int(ln.net_minor) - done.get(ln.pk, (0, 0, 0, 0))[0]  # type: ignore[attr-defined]
            if net == left:
                taxes[ln.pk] = int(ln.tax_minor) - done.get(ln.pk, (0, 0, 0, 0))[1]  # type: ignore[attr-defined]
            else:
                groups[ln.tax_code or ln.vat_category].append((ln, net))
        for members in groups.values():
            percent = Decimal(members[0][0].tax_percent or 0)
            if invoice.tax_method == "per_line" or percent == 0:
                for ln, net in members:
                    taxes[ln.pk] = tax_of(net, percent, rounding)
            else:
                total = tax_of(sum(n for _, n in members), percent, rounding)
                for (ln, _), t in zip(members, allocate_minor(total, [n for _, n in members]), strict=True):
                    taxes[ln.pk] = t

        closes = all(
            done.get(ln.pk, (0, 0, 0, 0))[0] + sum(n for w, n, _ in wanted if w.pk == ln.pk)
            >= int(ln.net_minor)  # type: ignore[attr-defined]
            for ln in rows.values()
            if int(ln.net_minor) > 0  # type: ignore[attr-defined]
        )
        same = cur == base or invoice.rate is None
        fe, te = exp, currency_exponent(base)
        lines_out = []
        for ln, net, shown in wanted:
            tax = taxes[ln.pk]
            left_nb = int(ln.net_base_minor) - done.get(ln.pk, (0, 0, 0, 0))[2]  # type: ignore[attr-defined]
            left_tb = int(ln.tax_base_minor) - done.get(ln.pk, (0, 0, 0, 0))[3]  # type: ignore[attr-defined]
            left = int(ln.net_minor) - done.get(ln.pk, (0, 0, 0, 0))[0]  # type: ignore[attr-defined]
            if same:
                nb, tb = net, tax
            elif net == left:
                nb, tb = left_nb, left_tb
            else:
                nb, tb = convert_minor(net, invoice.rate, fe, te), convert_minor(tax, invoice.rate, fe, te)  # type: ignore[arg-type]
            unit = Decimal(ln.print_unit_price or ln.unit_price)
            whole = net == int(ln.net_minor)  # type: ignore[attr-defined]
            quantity = shown if shown is not None else (Decimal(ln.quantity) if whole else Decimal(1))
            if quantity * unit * Decimal(1).scaleb(exp) != net or Decimal(ln.base_quantity or 1) != 1:
                quantity, unit = Decimal(1), Decimal(net).scaleb(-exp)
            lines_out.append((ln, net, tax, nb, tb, quantity, unit))

        # The credit note's posting: the invoice's reversed (closing one takes exactly what is left).
        if closes and not same:
            previous: dict[str, int] = {}
            for p in CreditNote.objects.filter(invoice=invoice).values_list("posting", flat=True):
                book.add(previous, {k: v for k, v in p.items() if k not in _KEEP})
            reversal = {k: -v - previous.get(k, 0) for k, v in invoice.posting.items() if k not in _KEEP}
            for k, v in previous.items():
                reversal.setdefault(k, -v)
            reversal = {k: v for k, v in reversal.items() if v}
        else:
            reversal = book.invoice_posting(
                invoice.entity_id, _today(invoice), total_base=0,
                lines=[(ln.posting, ln.revenue_category, ln.contract_id, nb) for ln, _, _, nb, _, _, _ in lines_out],
                taxes=[(ln.tax_code, tb) for ln, _, _, _, tb, _, _ in lines_out], sign=-1, ar_part=0,
            )  # fmt: skip
        net_total = sum(x[1] for x in lines_out)
        tax_total = sum(x[2] for x in lines_out)
        total = net_total + tax_total
        total_base = sum(reversal.values())
        open_minor = max(invoice.open_minor, 0)
        applied = min(total, open_minor)
        before = open_base_of(invoice, open_minor)
        after = open_base_of(invoice, open_minor - applied)
        applied_base = min(before - after, total_base)
        to_balance_base = total_base - applied_base
        posting_map = dict(reversal)
        if applied_base:
            posting_map[chart.AR] = posting_map.get(chart.AR, 0) - applied_base
        if to_balance_base:
            posting_map[chart.CUSTOMER_CREDITS] = posting_map.get(chart.CUSTOMER_CREDITS, 0) - to_balance_base

        entity = LegalEntity.objects.get(pk=invoice.entity_id)
        day = _today(invoice)
        seq = numbering.take(entity.pk, NUMBER_KIND, year=day.year)
        number = NumberFormat(entity.credit_note_prefix or "CN").format(seq, day.year)
        by_code: dict[str, dict[str, Any]] = {}
        original_rows = {r["tax_code"]: r for r in invoice.tax_summary}
        for ln, net, tax, *_ in lines_out:
            r: dict[str, Any] = by_code.setdefault(
                ln.tax_code, {**original_rows.get(ln.tax_code, {}), "taxable": 0, "tax": 0}
            )
            r["taxable"] += net
            r["tax"] += tax
        now = clock.now()
        note = CreditNote(
            entity_id=entity.pk, account_id=invoice.account_id, invoice=invoice, number=number, year=day.year,
            seq=seq, reason_code=reason_code, reason=str(reason or "")[:2000], currency=cur, issue_date=day,
            base_currency=base, rate=invoice.rate, tax_summary=list(by_code.values()), posting=posting_map,
            seller_snapshot_id=int(invoice.seller_snapshot_id or 0), buyer_snapshot_id=int(invoice.buyer_snapshot_id or 0),
            issued_at=now, issued_by=who,
        )  # fmt: skip
        note.net, note.tax, note.total = (Money.from_minor(v, cur) for v in (net_total, tax_total, total))
        note.applied, note.to_balance = Money.from_minor(applied, cur), Money.from_minor(total - applied, cur)
        note.net_base = Money.from_minor(sum(x[3] for x in lines_out), base)
        note.tax_base = Money.from_minor(total_base - sum(x[3] for x in lines_out), base)
        note.total_base = Money.from_minor(total_base, base)
        note.applied_base, note.to_balance_base = (
            Money.from_minor(applied_base, base),
            Money.from_minor(to_balance_base, base),
        )
        note.save()
        credit_rows = []
        for pos, (ln, net, tax, nb, tb, quantity, unit) in enumerate(lines_out):
            row = CreditNoteLine(
                credit_note=note, invoice_line=ln, position=pos + 1, description=ln.description, quantity=quantity,
                unit_price=unit, currency=cur, vat_category=ln.vat_category, tax_percent=ln.tax_percent,
                tax_code=ln.tax_code, posting=ln.posting, revenue_category=ln.revenue_category,
                contract_id=ln.contract_id, base_currency=base,
            )  # fmt: skip
            row.net, row.tax = Money.from_minor(net, cur), Money.from_minor(tax, cur)
            row.net_base, row.tax_base = Money.from_minor(nb, base), Money.from_minor(tb, base)
            credit_rows.append(row)
            ln.credited = Money.from_minor(int(ln.credited_minor) + net, cur)  # type: ignore[attr-defined]
            ln.save(update_fields=["credited_minor"])
        CreditNoteLine.objects.bulk_create(credit_rows)
        snaps = {
            s.pk: s
            for s in PartySnapshot.objects.filter(pk__in=[note.seller_snapshot_id, note.buyer_snapshot_id])
        }
        seller, buyer = snaps[note.seller_snapshot_id], snaps[note.buyer_snapshot_id]
        head = {"entity_id": entity.pk, "account_id": invoice.account_id, "number": number, "issue_date": day,
                "currency": cur, "net_minor": net_total, "tax_minor": tax_total, "total_minor": total,
                "base_currency": base, "total_base_minor": total_base, "payment_terms": invoice.number}  # fmt: skip
        texts = [
            build.line_text(
                {
                    "position": r.position,
                    "description": r.description,
                    "quantity": r.quantity,
                    "unit_price": r.unit_price,
                    "net_minor": r.__dict__["net_minor"],
                    "tax_minor": r.__dict__["tax_minor"],
                    "vat_category": r.vat_category,
                    "tax_percent": r.tax_percent,
                    "source_type": "invoice_line",
                    "source_id": r.invoice_line_id,
                }
            )
            for r in credit_rows
        ]
        note.content_sha256 = build.content_sha256(
            number,
            build.content_record(
                build.head_text(head),
                texts,
                json.dumps(note.tax_summary, sort_keys=True),
                seller.sha256,
                buyer.sha256,
            ),
        )
        note.save(update_fields=["content_sha256"])

        invoice.credited = Money.from_minor(int(invoice.credited_minor) + applied, cur)  # type: ignore[attr-defined]
        invoice.credited_base = Money.from_minor(int(invoice.credited_base_minor) + applied_base, base)  # type: ignore[attr-defined]
        if invoice.status in (InvoiceStatus.ISSUED, InvoiceStatus.PARTIALLY_PAID):
            settled = int(invoice.paid_minor) + int(invoice.credited_minor) + int(invoice.written_off_minor)  # type: ignore[attr-defined]
            target = status_after_settlement(int(invoice.total_minor), settled)  # type: ignore[attr-defined]
            if target != invoice.status:
                invoice.status = move(invoice.status, target)
        invoice.updated_at = now
        invoice.save()

        from q2c.invoicing.services import documents as docsvc

        settings = common.settings_for(entity.pk)
        acct = common.account_settings([invoice.account_id]).get(invoice.account_id)
        document = build.credit_note_document(note, credit_rows, invoice, seller.data, buyer.data)
        chosen = list(formats) if formats is not None else docsvc.formats_for(settings, acct)
        stored = render_and_store("credit_note", note.pk, document, chosen)
        events.record(
            DomainEvent(
                ev.CREDIT_NOTE_ISSUED,
                "invoicing.credit_note",
                note.pk,
                {
                    "credit_note_id": note.pk,
                    "number": number,
                    "invoice_id": invoice.pk,
                    "invoice_number": invoice.number,
                    "account_id": invoice.account_id,
                    "reason_code": reason_code,
                    "date": day,
                    "currency": cur,
                    "net": note.net,
                    "tax": note.tax,
                    "total": note.total,
                    "applied": note.applied,
                    "to_balance": note.to_balance,
                    "base_currency": base,
                    "total_base": note.total_base,
                    "posting": posting_map,
                    "full": bool(full or closes),
                },
                entity_id=entity.pk,
                actor=who,
            )
        )
        email = buyer.data.get("email")
        if email and docsvc.sends_email(settings, acct):
            docsvc.queue_email(
                "credit_note", note.pk, email,
                docsvc.attachment_formats([f.format for f in stored], docsvc.attaches_xml(settings, acct)),
            )  # fmt: skip
    return note


def reissue(invoice_id: int, *, reason: str = "", actor: Any = None) -> tuple[CreditNote, Invoice]:
    """Credit an issued invoice in full (reason ``reissue``) and open a draft copy to correct.

    Errors: those of :func:`credit`.
    """
    with transaction.atomic():
        note = credit(invoice_id, reason_code=CreditReason.REISSUE, reason=reason, full=True, actor=actor)
        invoice = Invoice.objects.get(pk=invoice_id)
        lines = [
            {
                "description": ln.description,
                "detail": ln.detail,
                "item_id": ln.item_id,
                "unit_code": ln.unit_code,
                "quantity": Decimal(ln.quantity),
                "unit_price": Decimal(ln.unit_price),
                "share_num": ln.share_num,
                "share_den": ln.share_den,
                "discount": Money.from_minor(int(ln.discount_minor), ln.currency).amount,  # type: ignore[attr-defined]
                "tax_category": ln.tax_category,
                "supply_type": ln.supply_type,
                "tiers": ln.tiers or None,
                "service_start": ln.service_start,
                "service_end": ln.service_end,
                "delivery_date": ln.delivery_date,
                "source_type": ln.source_type,
                "source_id": ln.source_id,
                "contract_id": ln.contract_id,
                "contract_number": ln.contract_number,
                "contract_line_key": ln.contract_line_key,
                "revenue_category": ln.revenue_category,
                "posting": ln.posting,
            }
            for ln in InvoiceLine.objects.filter(invoice=invoice).order_by("position")
        ]
        draft = create_draft(
            account_id=invoice.account_id, lines=lines, currency=invoice.currency, notes=invoice.notes,
            buyer_reference=invoice.buyer_reference, terms_days=invoice.terms_days, replaces_id=invoice.pk, actor=actor,
        )  # fmt: skip
    return note, draft
