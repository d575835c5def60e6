"""Issuing invoices: one draft by hand (:func:`issue`) and many priced invoices at once for a bill
run (:func:`issue_bulk`).

Both take the gapless number inside the issuing transaction (``INV-2027-000001``: the entity's
prefix, the issue year, per entity and year), capture the exchange rate to the entity currency,
compute the due date from the payment terms, store the VAT breakdown, the posting and the content
hash, and record the issue event whose handler posts to the ledger — all or nothing. An invoice
that lacks data the law requires is refused with ``invoicing.missing_data`` naming each missing
item (``q2c.invoicing.documents.missing_data``).

:func:`issue` also renders the entity's document formats inside the transaction and stores each
file with its SHA-256. :func:`issue_bulk` writes whole batches with a fixed number of statements
(explicit ids, COPY / executemany) and one ``invoicing.invoices.issued`` event per entity and
issue date; its documents are rendered right after the batch commits, by a task, from the same
frozen rows (rendering is reproducible, docs/e-invoicing.md) — or inside the batch when the
entity's ``render_in_bill_run`` setting says so.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.money import Money, Rounding, currency_exponent
from q2c.invoicing import build, calc, errors, fx, partydata, posting
from q2c.invoicing import events as ev
from q2c.invoicing.documents import model as doc
from q2c.invoicing.documents.errors import MissingInvoiceData
from q2c.invoicing.documents.render import DocumentFormat, render_documents, require_complete
from q2c.invoicing.domain import InvoiceStatus, PaymentTerms, convert_minor, move
from q2c.invoicing.models import DocumentFile, Invoice, InvoiceLine
from q2c.invoicing.services import common
from q2c.parties.models import Account, LegalEntity
from q2c.platform import events, numbering
from q2c.platform.events import DomainEvent
from q2c.platform.numbering import NumberFormat
from q2c.tax.engine import RoundingMethod

NUMBER_KIND = "invoice"
Hook = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class BulkInvoice:
    """A priced invoice ready to issue (the bill run builds these from schedules)."""

    entity_id: int
    account_id: int
    currency: str
    issue_date: date
    priced: calc.Priced
    terms: PaymentTerms
    seller: Mapping[str, Any]
    buyer: Mapping[str, Any]
    base_currency: str
    rate: Decimal | None = None
    rate_date: date | None = None
    prefix: str = "INV"
    tax_method: str = "per_rate"
    rounding: str = "half_up"
    contract_reference: str = ""
    buyer_reference: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Issued:
    invoice_id: int
    number: str
    entity_id: int
    account_id: int
    currency: str
    total_minor: int
    tax_minor: int
    total_base_minor: int


def tax_context(
    entity: LegalEntity, seller: Mapping[str, Any], buyer: Mapping[str, Any], tax_date: date
) -> calc.TaxContext:
    """The tax engine's view of a document between this entity and this buyer."""
    return calc.TaxContext(
        seller=partydata.tax_seller(seller),
        buyer=partydata.tax_buyer(buyer),
        tax_date=tax_date,
        method=RoundingMethod(entity.tax_rounding or "per_rate"),
        rounding="half_even" if entity.rounding_mode == "half_even" else "half_up",
        ship_from=partydata.ship_from(seller),
        ship_to=partydata.ship_to(buyer),
    )


def base_amounts(
    priced: calc.Priced,
    currency: str,
    base_currency: str,
    rate: Decimal | None,
    rounding: Rounding = "half_up",
) -> tuple[list[int], list[int], list[int]]:
    """Lines' net, lines' tax and rows' tax in the entity currency (each converted once)."""
    if currency == base_currency or rate is None:
        return (
            [p.net_minor for p in priced.lines],
            [p.tax_minor for p in priced.lines],
            [r.tax_minor for r in priced.rows],
        )
    fe, te = currency_exponent(currency), currency_exponent(base_currency)
    return (
        [convert_minor(p.net_minor, rate, fe, te, rounding) for p in priced.lines],
        [convert_minor(p.tax_minor, rate, fe, te, rounding) for p in priced.lines],
        [convert_minor(r.tax_minor, rate, fe, te, rounding) for r in priced.rows],
    )


def _posting(
    entity_id: int, day: date, priced: calc.Priced, net_base: list[int], rows_tax_base: list[int]
) -> dict[str, int]:
    return posting.invoice_posting(
        entity_id,
        day,
        total_base=sum(net_base) + sum(rows_tax_base),
        lines=[
            (p.line.posting, p.line.revenue_category, p.line.contract_id, nb)
            for p, nb in zip(priced.lines, net_base, strict=True)
        ],
        taxes=[(r.tax_code, tb) for r, tb in zip(priced.rows, rows_tax_base, strict=True)],
    )


def _representative(item: BulkInvoice, number: str, due: date) -> doc.InvoiceDocument:
    """A document with the invoice's parties and VAT categories, for the legal-content check."""
    cur = item.currency
    zero = Money.zero(cur)
    deliver_to = next((r.deliver_to_country for r in item.priced.rows if r.deliver_to_country), "")
    lines = tuple(
        doc.InvoiceLine(str(i + 1), p.line.description or "line", p.line.quantity, "C62", zero, zero,
                        doc.VatRate(doc.VatCategoryCode(p.vat_category), p.percent))
        for i, p in enumerate(item.priced.lines)
    )  # fmt: skip
    rows = tuple(
        doc.TaxSubtotal(
            doc.VatRate(doc.VatCategoryCode(r.category), r.percent), zero, zero, r.mention, r.reason_code
        )
        for r in item.priced.rows
    )
    total = Money.from_minor(item.priced.total_minor, cur)
    return doc.InvoiceDocument(
        kind=doc.DocumentKind.INVOICE,
        number=number,
        issue_date=item.issue_date,
        currency=cur,
        seller=partydata.document_seller(item.seller),
        buyer=partydata.document_buyer(item.buyer, deliver_to=deliver_to),
        lines=lines,
        tax_summary=rows,
        totals=doc.Totals(zero, zero, zero, total, total),
        due_date=due,
        payment_terms=item.terms.text(),
        payment_means=doc.PaymentMeans(
            doc.PaymentMeansKind.CREDIT_TRANSFER, reference=doc.creditor_reference(number)
        )
        if item.seller.get("iban")
        else None,
        delivery_date=item.priced.delivery_date,
    )


def _shape(party: Mapping[str, Any]) -> tuple[Any, ...]:
    """What ``missing_data`` looks at in a party: which fields are filled, and a well-formed country."""
    g = party.get
    country = g("country") or ""
    return (
        bool((g("name") or "").strip()),
        bool((g("street") or "").strip()),
        bool((g("city") or "").strip()),
        bool((g("postal_code") or "").strip()),
        bool((g("vat_id") or "").strip()),
        bool(g("iban")),
        bool(g("creditor_id")),
        len(country) == 2 and country.isupper(),
    )


def _cached_shape(party: Mapping[str, Any], memo: dict[Any, Any] | None) -> tuple[Any, ...]:
    if memo is None:
        return _shape(party)
    # The memo holds the party itself beside its shape, so its id cannot be reused meanwhile.
    entry = memo.get(("shape", id(party)))
    if entry is None or entry[0] is not party:
        entry = memo[("shape", id(party))] = (party, _shape(party))
    return entry[1]  # type: ignore[no-any-return]


def legal_problems(
    item: BulkInvoice, memo: dict[Any, list[doc.MissingItem]] | None = None
) -> list[doc.MissingItem]:
    """What the law needs and ``item`` would lack (``documents.missing_data``), memoised on what
    it depends on: which fields of the seller and buyer are filled (``missing_data`` checks
    presence, not values), the VAT categories and mentions, the delivery data."""
    key = (
        _cached_shape(item.seller, memo),
        _cached_shape(item.buyer, memo),
        item.prefix,
        bool(item.priced.lines),
        bool(item.priced.delivery_date),
        tuple(
            sorted(
                (r.category, bool(r.mention or r.reason_code), bool(r.deliver_to_country))
                for r in item.priced.rows
            )
        ),
        frozenset(p.vat_category for p in item.priced.lines),
    )
    if memo is not None and key in memo:
        return memo[key]
    number = NumberFormat(item.prefix or "INV").format(1, item.issue_date.year)
    found = doc.missing_data(_representative(item, number, item.terms.due_date(item.issue_date)))
    if memo is not None:
        memo[key] = found
    return found


def refuse_missing(found: Sequence[doc.MissingItem]) -> None:
    if found:
        listed = "; ".join(m.message for m in found)
        raise MissingInvoiceData(
            f"the invoice cannot be issued until it states: {listed}",
            field=found[0].field,
            details=[m.as_dict() for m in found],
        )


INVOICE_COLUMNS = (
    "id", "entity_id", "account_id", "status", "number", "year", "seq", "currency", "issue_date", "due_date",
    "tax_date", "delivery_date", "service_start", "service_end", "terms_basis", "terms_days", "payment_terms",
    "net_minor", "tax_minor", "total_minor", "paid_minor", "credited_minor", "written_off_minor", "base_currency",
    "rate", "rate_date", "net_base_minor", "tax_base_minor", "total_base_minor", "paid_base_minor",
    "credited_base_minor", "written_off_base_minor", "tax_method", "rounding", "seller_snapshot_id",
    "buyer_snapshot_id", "tax_summary", "posting", "content_sha256", "buyer_reference", "order_reference",
    "contract_reference", "notes", "origin", "bill_run_id", "issued_at", "issued_by", "void_reason",
    "created_at", "created_by", "updated_at",
)  # fmt: skip
LINE_COLUMNS = (
    "invoice_id", "position", "description", "detail", "item_id", "unit_code", "quantity", "unit_price",
    "print_unit_price", "base_quantity", "share_num", "share_den", "currency", "gross_minor", "discount_minor",
    "net_minor", "tax_minor", "credited_minor", "tax_category", "vat_category", "tax_percent", "tax_jurisdiction",
    "tax_mention", "tax_reason_code", "tax_code", "service_start", "service_end", "delivery_date", "source_type",
    "source_id", "contract_id", "contract_number", "contract_line_key", "schedule_id", "revenue_category",
    "posting", "base_currency", "net_base_minor", "tax_base_minor", "tiers", "supply_type",
)  # fmt: skip
_ID, _NUMBER, _SEQ, _SHA = (INVOICE_COLUMNS.index(c) for c in ("id", "number", "seq", "content_sha256"))
_LINE_HASH = [LINE_COLUMNS.index(f) - 1 for f in build.LINE_HASH_FIELDS]  # in lines without their invoice id
_HEAD_HASH = [INVOICE_COLUMNS.index(f) for f in build.HEAD_HASH_FIELDS]


def _line_values(p: calc.PricedLine, i: int, currency: str, base: str, nb: int, tb: int) -> tuple[Any, ...]:
    """A line as ``LINE_COLUMNS`` without its invoice id, database-ready (dates as ISO text)."""
    ln = p.line
    d = common.db_date
    return (
        i + 1, ln.description[:300], ln.detail, ln.item_id, ln.unit_code, str(ln.quantity),
        str(ln.unit_price), str(p.print_unit_price), str(p.base_quantity), ln.share_num, ln.share_den, currency,
        p.gross_minor, ln.discount_minor, p.net_minor, p.tax_minor, 0, str(ln.tax_category), p.vat_category,
        str(p.percent), p.jurisdiction, p.mention[:300], p.reason_code, p.tax_code, d(ln.service_start),
        d(ln.service_end), d(ln.delivery_date), ln.source_type, ln.source_id, ln.contract_id, ln.contract_number,
        ln.contract_line_key, ln.schedule_id, ln.revenue_category, str(ln.posting), base, nb, tb,
        build.tiers_text(ln.tiers), ln.supply_type,
    )  # fmt: skip


def _line_text(values: tuple[Any, ...]) -> str:
    return build.hash_text(values[i] for i in _LINE_HASH)


@dataclass
class Prepared:
    """A batch ready to issue: every row built, only numbers and ids left to fill in (so the
    transaction that takes the numbers is short — parallel workers wait on the counter briefly)."""

    items: Sequence[BulkInvoice]
    rows: list[list[Any]]
    lines: list[list[tuple[Any, ...]]]
    records: list[bytes]
    books: list[dict[str, int]]
    base_totals: list[int]
    actor: str
    bill_run_id: int | None
    #: Invoice ids once :func:`write_lines` has run (in the issuing transaction).
    ids: list[int] | None = None


def write_lines(prep: Prepared) -> list[int]:
    """Give the batch its invoice ids and write its lines — inside the issuing transaction, before
    the numbers are taken (foreign keys are checked at commit), so the numbering lock is held only
    for the invoices themselves and the posting. Returns the ids, in the order of the items."""
    if prep.ids is None:
        prep.ids = common.reserve_ids(Invoice, len(prep.items))
        rows = [
            (invoice_id, *v) for invoice_id, lines in zip(prep.ids, prep.lines, strict=True) for v in lines
        ]
        common.write_rows(InvoiceLine._meta.db_table, LINE_COLUMNS, rows, ready=True)
    return prep.ids


def prepare_bulk(
    items: Sequence[BulkInvoice], *, actor: Any = "", bill_run_id: int | None = None, checked: bool = False
) -> Prepared:
    """Build a batch's rows outside the issuing transaction (party snapshots are stored here: they
    are content-addressed, so one left behind by a batch that then fails is harmless).

    ``checked``: the caller already ran :func:`legal_problems` on every item (the bill run does,
    per account, to report and skip accounts whose data is incomplete). Errors:
    ``invoicing.missing_data``, ``invoicing.empty_invoice``.
    """
    who = common.actor_name(actor)
    memo: dict[Any, list[doc.MissingItem]] = {}
    for item in items:
        if not item.priced.lines:
            raise errors.InvalidInvoice(
                "an invoice needs at least one line", code=errors.EMPTY_INVOICE, field="lines"
            )
        if not checked:
            refuse_missing(legal_problems(item, memo))
    distinct: dict[int, Mapping[str, Any]] = {}
    for item in items:
        distinct.setdefault(id(item.seller), item.seller)
        distinct.setdefault(id(item.buyer), item.buyer)
    order = list(distinct)
    with transaction.atomic():
        snaps = dict(zip(order, partydata.snapshot_rows([dict(distinct[k]) for k in order]), strict=True))
    stamp = common.db_datetime(clock.now())
    d = common.db_date
    origin = "bill_run" if bill_run_id is not None else "bulk"
    out = Prepared(items, [], [], [], [], [], who, bill_run_id)
    for item in items:
        pr = item.priced
        cur, base = item.currency, item.base_currency
        due = item.terms.due_date(item.issue_date)
        net_base, tax_base_lines, rows_tax_base = base_amounts(pr, cur, base, item.rate, item.rounding)  # type: ignore[arg-type]
        nb, tb = sum(net_base), sum(rows_tax_base)
        book = _posting(item.entity_id, item.issue_date, pr, net_base, rows_tax_base)
        starts = [p.line.service_start for p in pr.lines if p.line.service_start]
        ends = [p.line.service_end for p in pr.lines if p.line.service_end]
        tax_json = build.summary_text(pr.rows)
        lines = [
            _line_values(p, k, cur, base, net_base[k], tax_base_lines[k]) for k, p in enumerate(pr.lines)
        ]
        seller_id, seller_sha = snaps[id(item.seller)]
        buyer_id, buyer_sha = snaps[id(item.buyer)]
        row = [
            None, item.entity_id, item.account_id, InvoiceStatus.ISSUED.value, None, item.issue_date.year, None, cur,
            d(item.issue_date), d(due), d(item.issue_date), d(pr.delivery_date), d(min(starts)) if starts else None,
            d(max(ends)) if ends else None, item.terms.basis.value, item.terms.days, item.terms.text(),
            pr.net_minor, pr.tax_minor, pr.total_minor, 0, 0, 0, base,
            None if cur == base or item.rate is None else str(item.rate), d(item.rate_date) if cur != base else None,
            nb, tb, nb + tb, 0, 0, 0, item.tax_method, item.rounding, seller_id, buyer_id,
            tax_json, build.posting_text(book), None, item.buyer_reference, "", item.contract_reference,
            item.notes, origin, bill_run_id, stamp, who, "", stamp, who, stamp,
        ]  # fmt: skip
        out.rows.append(row)
        out.lines.append(lines)
        out.records.append(
            build.content_record(
                build.hash_text(row[k] for k in _HEAD_HASH),
                [_line_text(v) for v in lines],
                tax_json,
                seller_sha,
                buyer_sha,
            )
        )
        out.books.append(book)
        out.base_totals.append(nb + tb)
    return out


def write_prepared(prep: Prepared, *, batch: str = "", hook: Hook | None = None) -> list[Issued]:
    """Issue a prepared batch inside the caller's transaction: ids and lines (:func:`write_lines`,
    unless the caller did), numbers (a block per entity and year, in the order given), the
    invoices, and one ``invoicing.invoices.issued`` event per entity and issue date, whose handler
    posts the batch's entry. ``hook(point)`` is called at ``"numbered"`` (numbers taken, invoices
    not written) and ``"posted"`` (all written and posted, not committed) — the bill run's crash
    points.
    """
    items = prep.items
    if not items:
        return []
    with transaction.atomic():
        ids = write_lines(prep)
        groups: dict[tuple[int, int], list[int]] = defaultdict(list)
        for i, item in enumerate(items):
            groups[(item.entity_id, item.issue_date.year)].append(i)
        seqs: dict[int, int] = {}
        for (entity_id, year), indexes in sorted(groups.items()):
            block = numbering.take_block(entity_id, NUMBER_KIND, len(indexes), year=year)
            for i, seq in zip(indexes, block, strict=True):
                seqs[i] = seq
        if hook:
            hook("numbered")
        inv_rows: list[tuple[Any, ...]] = []
        formats: dict[str, NumberFormat] = {}
        out: list[Issued] = []
        per_batch: dict[tuple[int, date], dict[str, Any]] = {}
        for i, (item, invoice_id) in enumerate(zip(items, ids, strict=True)):
            pr = item.priced
            fmt = formats.get(item.prefix)
            if fmt is None:
                fmt = formats[item.prefix] = NumberFormat(item.prefix or "INV")
            number = fmt.format(seqs[i], item.issue_date.year)
            row = prep.rows[i]
            row[_ID], row[_NUMBER], row[_SEQ] = invoice_id, number, seqs[i]
            row[_SHA] = build.content_sha256(number, prep.records[i])
            inv_rows.append(tuple(row))
            total_base = prep.base_totals[i]
            b = per_batch.get((item.entity_id, item.issue_date))
            if b is None:
                b = per_batch[(item.entity_id, item.issue_date)] = {
                    "posting": {}, "invoices": [], "totals": defaultdict(int), "base_currency": item.base_currency,
                }  # fmt: skip
            posting.add(b["posting"], prep.books[i])
            b["invoices"].append(f"{invoice_id} {number} {item.account_id} {pr.total_minor} {total_base}")
            b["totals"][item.currency] += pr.total_minor
            out.append(
                Issued(
                    invoice_id,
                    number,
                    item.entity_id,
                    item.account_id,
                    item.currency,
                    pr.total_minor,
                    pr.tax_minor,
                    total_base,
                )
            )
        common.write_rows(Invoice._meta.db_table, INVOICE_COLUMNS, inv_rows, ready=True)
        key = batch or str(ids[0])
        events.record_many(
            DomainEvent(
                ev.INVOICES_ISSUED,
                "invoicing.invoice_batch",
                f"{key}-{entity_id}-{day.isoformat()}",
                {
                    "batch": f"{key}-{day.isoformat()}",
                    "entity_id": entity_id,
                    "date": day,
                    "bill_run_id": prep.bill_run_id,
                    "base_currency": b["base_currency"],
                    "count": len(b["invoices"]),
                    "totals": dict(b["totals"]),
                    "posting": b["posting"],
                    "first": b["invoices"][0].split(" ")[1],
                    "last": b["invoices"][-1].split(" ")[1],
                    # One line per invoice, "invoice_id number account_id total_minor
                    # total_base_minor": a text table keeps a 500-invoice payload cheap to record.
                    "columns": "invoice_id number account_id total_minor total_base_minor",
                    "invoices": "\n".join(b["invoices"]),
                },
                entity_id=entity_id,
                actor=prep.actor,
            )
            for (entity_id, day), b in sorted(per_batch.items())
        )
        if hook:
            hook("posted")
    return out


def issue_bulk(
    items: Sequence[BulkInvoice],
    *,
    actor: Any = "",
    bill_run_id: int | None = None,
    batch: str = "",
    hook: Hook | None = None,
    checked: bool = False,
) -> list[Issued]:
    """Issue priced invoices at once: :func:`prepare_bulk` then :func:`write_prepared`, in one
    transaction (a savepoint inside the caller's). Returns them numbered, in the order given.

    ``batch`` names the batch's ledger entry (unique per entity: the same batch cannot post
    twice). Errors (nothing is written): ``invoicing.missing_data``, ``invoicing.empty_invoice``,
    ledger errors (closed period, no book).
    """
    with transaction.atomic():
        prep = prepare_bulk(items, actor=actor, bill_run_id=bill_run_id, checked=checked)
        return write_prepared(prep, batch=batch, hook=hook)


# --- one invoice by hand ------------------------------------------------------------------------


def _draft_lines(rows: Sequence[InvoiceLine]) -> list[calc.DraftLine]:
    return [
        calc.DraftLine(
            description=r.description,
            quantity=Decimal(r.quantity),
            unit_price=Decimal(r.unit_price),
            tax_category=r.tax_category,
            share_num=int(r.share_num),
            share_den=int(r.share_den),
            discount_minor=int(r.discount_minor),  # type: ignore[attr-defined]
            item_id=r.item_id,
            unit_code=r.unit_code,
            service_start=r.service_start,
            service_end=r.service_end,
            delivery_date=r.delivery_date,
            source_type=r.source_type,
            source_id=r.source_id,
            contract_id=r.contract_id,
            contract_number=r.contract_number,
            contract_line_key=r.contract_line_key,
            schedule_id=r.schedule_id,
            revenue_category=r.revenue_category,
            posting=r.posting,
            detail=r.detail,
            # A tiered usage line's amount is the sum of its tiers, fixed when it was drafted.
            gross_minor=int(r.gross_minor) if r.tiers else None,  # type: ignore[attr-defined]
            tiers=tuple(r.tiers or ()),
            supply_type=r.supply_type,
        )
        for r in rows
    ]


def render_and_store(
    doc_type: str, doc_id: int, document: doc.InvoiceDocument, formats: Sequence[str]
) -> list[DocumentFile]:
    """Render ``formats`` (refusing a document that lacks required data) and store each with its hash."""
    wanted = [DocumentFormat(f) for f in formats if f in DocumentFormat._value2member_map_]
    if not wanted:
        require_complete(document)
        return []
    files = render_documents(document, wanted)
    now = clock.now()
    return [
        DocumentFile.objects.create(
            doc_type=doc_type,
            doc_id=doc_id,
            format=f.format.value,
            filename=f.filename,
            content_type=f.content_type,
            content=f.content,
            sha256=f.sha256,
            created_at=now,
        )
        for f in files.values()
    ]


def issue(invoice_id: int, *, actor: Any = None, formats: Sequence[str] | None = None) -> Invoice:
    """Issue a draft: number, tax, rate, due date, documents, posting — one transaction.

    Errors (nothing written): ``invoicing.not_found`` (404), ``invoice.invalid_transition`` (409,
    not a draft), ``invoicing.empty_invoice``, ``invoicing.rate_missing``, ``invoicing.missing_data``
    (naming each missing item), the tax engine's ``tax.*``, ledger errors (``ledger.period_closed``
    409, ``ledger.no_book`` 404).
    """
    from q2c.tax.services import load_ruleset

    who = common.actor_name(actor)
    with transaction.atomic():
        invoice = common.lock_invoice(invoice_id)
        target = move(invoice.status, InvoiceStatus.ISSUED)
        rows = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
        if not rows:
            raise errors.InvalidInvoice(
                "an invoice needs at least one line", code=errors.EMPTY_INVOICE, field="lines"
            )
        entity = LegalEntity.objects.get(pk=invoice.entity_id)
        account = Account.objects.get(pk=invoice.account_id)
        settings = common.settings_for(entity.pk)
        acct = common.account_settings([account.pk]).get(account.pk)
        day = clock.today(entity.time_zone)
        seller = partydata.seller_data(entity, partydata.default_banks([entity.pk]).get(entity.pk))
        buyer = partydata.buyer_data(
            partydata.account_row(account), partydata.billing_emails([account.pk]).get(account.pk, "")
        )
        ctx = tax_context(entity, seller, buyer, day)
        priced = calc.price(
            _draft_lines(rows), invoice.currency, ctx, load_ruleset(day), rounding=ctx.rounding
        )
        if priced.total_minor < 0:
            raise errors.InvalidInvoice(
                "the invoice total is negative: issue a credit note instead",
                code=errors.NEGATIVE_TOTAL,
                field="lines",
            )
        terms = common.terms(
            entity, settings, account.payment_terms_days, acct.terms_basis if acct else "",
            days=invoice.terms_days,
        )  # fmt: skip
        rate, rate_day = fx.rates_for(
            [(invoice.currency, entity.base_currency)], day, max_age_days=settings.fx_max_age_days
        )[(invoice.currency, entity.base_currency)]
        item = BulkInvoice(
            entity.pk, account.pk, invoice.currency, day, priced, terms, seller, buyer, entity.base_currency,
            rate, rate_day, entity.invoice_prefix, ctx.method.value, ctx.rounding,
            invoice.contract_reference, invoice.buyer_reference or (acct.buyer_reference if acct else ""), invoice.notes,
        )  # fmt: skip
        refuse_missing(legal_problems(item))
        seq = numbering.take(entity.pk, NUMBER_KIND, year=day.year)
        number = NumberFormat(entity.invoice_prefix or "INV").format(seq, day.year)
        net_base, tax_base_lines, rows_tax_base = base_amounts(
            priced, invoice.currency, entity.base_currency, rate, ctx.rounding
        )
        book = _posting(entity.pk, day, priced, net_base, rows_tax_base)
        (seller_id, seller_sha), (buyer_id, buyer_sha) = partydata.snapshot_rows([seller, buyer])
        same = invoice.currency == entity.base_currency
        invoice.status = target
        invoice.number, invoice.year, invoice.seq = number, day.year, seq
        invoice.issue_date = invoice.tax_date = day
        invoice.due_date = terms.due_date(day)
        invoice.terms_basis, invoice.terms_days, invoice.payment_terms = (
            terms.basis.value,
            terms.days,
            terms.text(),
        )
        invoice.delivery_date = priced.delivery_date
        starts = [ln.service_start for ln in rows if ln.service_start]
        ends = [ln.service_end for ln in rows if ln.service_end]
        invoice.service_start, invoice.service_end = (
            (min(starts) if starts else None),
            (max(ends) if ends else None),
        )
        cur = invoice.currency
        invoice.net, invoice.tax = (
            Money.from_minor(priced.net_minor, cur),
            Money.from_minor(priced.tax_minor, cur),
        )
        invoice.total = Money.from_minor(priced.total_minor, cur)
        invoice.base_currency = entity.base_currency
        invoice.rate, invoice.rate_date = (None, None) if same else (rate, rate_day)
        nb, tb = sum(net_base), sum(rows_tax_base)
        base = entity.base_currency
        invoice.net_base, invoice.tax_base = Money.from_minor(nb, base), Money.from_minor(tb, base)
        invoice.total_base = Money.from_minor(nb + tb, base)
        invoice.tax_method, invoice.rounding = ctx.method.value, ctx.rounding
        invoice.seller_snapshot_id, invoice.buyer_snapshot_id = seller_id, buyer_id
        invoice.tax_summary = build.summary_json(priced.rows)
        invoice.posting = book
        invoice.buyer_reference = item.buyer_reference
        invoice.issued_at, invoice.issued_by, invoice.updated_at = clock.now(), who, clock.now()
        line_values = []
        for k, (row, p) in enumerate(zip(rows, priced.lines, strict=True)):
            row.position = k + 1
            row.print_unit_price, row.base_quantity = p.print_unit_price, p.base_quantity
            row.gross, row.net, row.tax = (
                Money.from_minor(v, cur) for v in (p.gross_minor, p.net_minor, p.tax_minor)
            )
            row.vat_category, row.tax_percent, row.tax_jurisdiction = (
                p.vat_category,
                p.percent,
                p.jurisdiction,
            )
            row.tax_mention, row.tax_reason_code, row.tax_code = p.mention[:300], p.reason_code, p.tax_code
            row.base_currency = base
            row.net_base, row.tax_base = (
                Money.from_minor(net_base[k], base),
                Money.from_minor(tax_base_lines[k], base),
            )
            row.save()
            line_values.append(_line_text(_line_values(p, k, cur, base, net_base[k], tax_base_lines[k])))
        head = {f: getattr(invoice, f, None) for f in build.HEAD_HASH_FIELDS}
        head.update(rate=None if same else str(rate), issue_date=day, due_date=invoice.due_date)
        invoice.content_sha256 = build.content_sha256(
            number,
            build.content_record(
                build.head_text(head),
                line_values,
                json.dumps(invoice.tax_summary, sort_keys=True),
                seller_sha,
                buyer_sha,
            ),
        )
        invoice.save()
        document = build.invoice_document(invoice, rows, seller, buyer)
        from q2c.invoicing.services import documents as docsvc

        chosen = list(formats) if formats is not None else docsvc.formats_for(settings, acct)
        stored = render_and_store("invoice", invoice.pk, document, chosen)
        original = None
        if not same:
            amounts = {"ar": priced.total_minor}
            for r in priced.rows:
                if r.tax_minor:
                    amounts[f"tax_payable.{r.tax_code}"] = (
                        amounts.get(f"tax_payable.{r.tax_code}", 0) + r.tax_minor
                    )
            original = {"currency": cur, "rate": str(rate), "amounts": amounts}
        events.record(
            DomainEvent(
                ev.INVOICE_ISSUED,
                "invoicing.invoice",
                invoice.pk,
                {
                    "invoice_id": invoice.pk,
                    "number": number,
                    "entity_id": entity.pk,
                    "account_id": account.pk,
                    "account_name": account.name,
                    "date": day,
                    "due_date": invoice.due_date,
                    "currency": cur,
                    "net": invoice.net,
                    "tax": invoice.tax,
                    "total": invoice.total,
                    "base_currency": base,
                    "total_base": invoice.total_base,
                    "rate": None if same else str(rate),
                    "posting": book,
                    "original": original,
                    "content_sha256": invoice.content_sha256,
                },
                entity_id=entity.pk,
                actor=who,
            )
        )
        if docsvc.sends_email(settings, acct) and buyer.get("email"):
            docsvc.queue_email(
                "invoice", invoice.pk, buyer["email"],
                docsvc.attachment_formats([f.format for f in stored], docsvc.attaches_xml(settings, acct)),
            )  # fmt: skip
    return invoice
