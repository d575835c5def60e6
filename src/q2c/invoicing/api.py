"""The invoicing API (mounted at ``/api/v1/invoicing/``): invoices (list with filters, totals and
aging, drafts, issue, void, write-off, payments), credit notes and re-issue, documents, exchange
rates, settings. Thin: checks the role, calls ``services``/``queries``, shapes the answer. Who may
call what is written in docs/permissions.md (section invoicing).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from q2c.core.money import Money, to_decimal
from q2c.invoicing import queries, services
from q2c.invoicing.models import CreditNote, ExchangeRate, InvoicingSettings
from q2c.invoicing.schemas import (
    CreditIn,
    CreditNoteLineOut,
    CreditNoteOut,
    CreditNoteSummaryOut,
    DeliveryOut,
    DocumentOut,
    DraftIn,
    ImportedOut,
    InvoiceFilterIn,
    InvoiceLineOut,
    InvoiceOut,
    InvoiceSummaryOut,
    InvoicingPaymentIn,
    InvoicingResendIn,
    InvoicingSettingsOut,
    LinesIn,
    RateIn,
    RateOut,
    RatesImportIn,
    ReasonIn,
    ReissueOut,
    SettingsIn,
    TotalsOut,
)
from q2c.platform.api import body_limit
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["invoicing"])

#: Who reads invoices, credit notes and rates.
READERS = (Role.FINANCE, Role.VIEWER, Role.SALES_MANAGER)
#: Who writes them.
WRITERS = (Role.FINANCE,)


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None) or request.user


def _filter(f: InvoiceFilterIn) -> queries.InvoiceFilter:
    return queries.InvoiceFilter(
        status=f.status or "", account_id=f.account_id, entity_id=f.entity_id, currency=f.currency or "",
        issued_from=f.issued_from, issued_to=f.issued_to, overdue=f.overdue, bill_run_id=f.bill_run_id, q=f.q or "",
    )  # fmt: skip


def _out(invoice_id: int) -> InvoiceOut:
    invoice = queries.invoice(invoice_id)
    out = InvoiceOut.from_orm(invoice)
    out.lines = [InvoiceLineOut.from_orm(ln) for ln in queries.lines(invoice_id)]
    out.credit_notes = [CreditNoteSummaryOut.from_orm(n) for n in queries.credit_notes(invoice_id)]
    out.documents = [DocumentOut(**d) for d in queries.documents("invoice", invoice_id)]
    out.deliveries = [DeliveryOut.from_orm(d) for d in queries.deliveries("invoice", invoice_id)]
    return out


# --------------------------------------------------------------------------- invoices


@router.get(
    "/invoices", response=Page[InvoiceSummaryOut], operation_id="invoicing_list_invoices", summary="Invoices"
)
def list_invoices(
    request: HttpRequest, filters: Query[InvoiceFilterIn], paging: Query[PageParams]
) -> dict[str, Any]:
    require(request, *READERS)
    return paginate(queries.invoices(_filter(filters)), paging)


@router.get(
    "/invoices/totals",
    response=TotalsOut,
    operation_id="invoicing_invoice_totals",
    summary="Totals and aging",
)
def invoice_totals(request: HttpRequest, filters: Query[InvoiceFilterIn]) -> dict[str, Any]:
    require(request, *READERS)
    s = queries.summary(queries.invoices(_filter(filters)))
    return {
        "count": s.count,
        "total": {k: str(v.amount) for k, v in s.total.items()},
        "open": {k: str(v.amount) for k, v in s.open.items()},
        "aging": {k: {b: str(m.amount) for b, m in v.items()} for k, v in s.aging.items()},
    }


@router.post(
    "/invoices",
    response={201: InvoiceOut},
    operation_id="invoicing_create_draft",
    summary="Create a draft invoice",
)
def create_draft(request: HttpRequest, payload: DraftIn, response: HttpResponse) -> Status[InvoiceOut]:
    require(request, *WRITERS)
    data = payload.dict()
    invoice = services.create_draft(actor=_actor(request), **data)
    response["Location"] = f"{request.path}/{invoice.pk}"
    return Status(201, _out(invoice.pk))


@router.get(
    "/invoices/{invoice_id}", response=InvoiceOut, operation_id="invoicing_get_invoice", summary="An invoice"
)
def get_invoice(request: HttpRequest, invoice_id: int) -> InvoiceOut:
    require(request, *READERS)
    return _out(invoice_id)


@router.put(
    "/invoices/{invoice_id}/lines",
    response=InvoiceOut,
    operation_id="invoicing_replace_lines",
    summary="Replace a draft's lines",
)
def replace_lines(request: HttpRequest, invoice_id: int, payload: LinesIn) -> InvoiceOut:
    require(request, *WRITERS)
    services.replace_lines(invoice_id, [line.dict() for line in payload.lines], actor=_actor(request))
    return _out(invoice_id)


@router.delete(
    "/invoices/{invoice_id}",
    response={204: None},
    operation_id="invoicing_discard_draft",
    summary="Discard a draft",
)
def discard_draft(request: HttpRequest, invoice_id: int) -> Status[None]:
    require(request, *WRITERS)
    services.discard_draft(invoice_id, actor=_actor(request))
    return Status(204, None)


@router.post(
    "/invoices/{invoice_id}/issue",
    response=InvoiceOut,
    operation_id="invoicing_issue_invoice",
    summary="Issue a draft",
)
def issue_invoice(request: HttpRequest, invoice_id: int) -> InvoiceOut:
    require(request, *WRITERS)
    services.issue(invoice_id, actor=_actor(request))
    return _out(invoice_id)


@router.post(
    "/invoices/{invoice_id}/void",
    response=InvoiceOut,
    operation_id="invoicing_void_invoice",
    summary="Void an issued invoice",
)
def void_invoice(request: HttpRequest, invoice_id: int, payload: ReasonIn) -> InvoiceOut:
    require(request, *WRITERS)
    services.void(invoice_id, reason=payload.reason, actor=_actor(request))
    return _out(invoice_id)


@router.post(
    "/invoices/{invoice_id}/write-off",
    response=InvoiceOut,
    operation_id="invoicing_write_off_invoice",
    summary="Write an invoice off",
)
def write_off(request: HttpRequest, invoice_id: int, payload: ReasonIn) -> InvoiceOut:
    require(request, *WRITERS)
    services.write_off(invoice_id, reason=payload.reason, actor=_actor(request))
    return _out(invoice_id)


@router.post(
    "/invoices/{invoice_id}/payments",
    response=InvoiceOut,
    operation_id="invoicing_apply_payment",
    summary="Apply a payment",
)
def apply_payment(request: HttpRequest, invoice_id: int, payload: InvoicingPaymentIn) -> InvoiceOut:
    require(request, *WRITERS)
    invoice = queries.invoice(invoice_id)
    amount = Money(to_decimal(payload.amount, field="amount"), invoice.currency)
    base = None
    if payload.base_amount is not None:
        base = Money(
            to_decimal(payload.base_amount, field="base_amount"), invoice.base_currency or invoice.currency
        )
    services.apply_payment(
        invoice_id, amount, base_amount=base, actor=_actor(request), reference=payload.reference
    )
    return _out(invoice_id)


@router.post(
    "/invoices/{invoice_id}/credit-notes",
    response={201: CreditNoteOut},
    operation_id="invoicing_credit_invoice",
    summary="Issue a credit note",
)
def credit_invoice(
    request: HttpRequest, invoice_id: int, payload: CreditIn, response: HttpResponse
) -> Status[Any]:
    require(request, *WRITERS)
    lines = [
        services.CreditLine(
            line.line_id,
            quantity=None if line.quantity is None else to_decimal(line.quantity, field="quantity"),
            amount=None if line.amount is None else to_decimal(line.amount, field="amount"),
        )
        for line in payload.lines
    ]
    note = services.credit(
        invoice_id,
        reason_code=payload.reason_code,
        reason=payload.reason,
        lines=lines,
        full=payload.full,
        actor=_actor(request),
    )
    response["Location"] = f"/api/v1/invoicing/credit-notes/{note.pk}"
    return Status(201, _note_out(note.pk))


@router.post(
    "/invoices/{invoice_id}/reissue",
    response={201: ReissueOut},
    operation_id="invoicing_reissue_invoice",
    summary="Credit in full and open a corrected copy",
)
def reissue(request: HttpRequest, invoice_id: int, payload: ReasonIn) -> Status[Any]:
    require(request, *WRITERS)
    note, draft = services.reissue(invoice_id, reason=payload.reason, actor=_actor(request))
    return Status(201, {"credit_note": note, "draft": draft})


@router.get(
    "/invoices/{invoice_id}/documents/{fmt}",
    operation_id="invoicing_invoice_document",
    summary="A rendered document (pdf, ubl, cii, facturx)",
)
def invoice_document(request: HttpRequest, invoice_id: int, fmt: str) -> HttpResponse:
    require(request, *READERS)
    return _file(queries.document_file("invoice", invoice_id, fmt))


# --------------------------------------------------------------------------- credit notes


def _note_out(note_id: int) -> CreditNoteOut:
    out = CreditNoteOut.from_orm(queries.credit_note(note_id))
    out.lines = [CreditNoteLineOut.from_orm(ln) for ln in queries.credit_note_lines(note_id)]
    out.documents = [DocumentOut(**d) for d in queries.documents("credit_note", note_id)]
    return out


@router.get(
    "/credit-notes",
    response=Page[CreditNoteSummaryOut],
    operation_id="invoicing_list_credit_notes",
    summary="Credit notes",
)
def list_credit_notes(
    request: HttpRequest, paging: Query[PageParams], invoice_id: int | None = None
) -> dict[str, Any]:
    require(request, *READERS)
    qs = CreditNote.objects.order_by("-id")
    if invoice_id:
        qs = qs.filter(invoice_id=invoice_id)
    return paginate(qs, paging)


@router.get(
    "/credit-notes/{credit_note_id}",
    response=CreditNoteOut,
    operation_id="invoicing_get_credit_note",
    summary="A credit note",
)
def get_credit_note(request: HttpRequest, credit_note_id: int) -> CreditNoteOut:
    require(request, *READERS)
    return _note_out(credit_note_id)


@router.get(
    "/credit-notes/{credit_note_id}/documents/{fmt}",
    operation_id="invoicing_credit_note_document",
    summary="A credit note's rendered document",
)
def credit_note_document(request: HttpRequest, credit_note_id: int, fmt: str) -> HttpResponse:
    require(request, *READERS)
    return _file(queries.document_file("credit_note", credit_note_id, fmt))


@router.post(
    "/invoices/{invoice_id}/deliveries",
    response={202: DeliveryOut},
    operation_id="invoicing_resend_invoice",
    summary="E-mail an issued invoice again",
)
def resend_invoice(request: HttpRequest, invoice_id: int, payload: InvoicingResendIn) -> Status[Any]:
    require(request, *WRITERS)
    from q2c.invoicing.services import documents

    return Status(202, documents.resend("invoice", invoice_id, to=payload.to, actor=_actor(request)))


@router.post(
    "/credit-notes/{credit_note_id}/deliveries",
    response={202: DeliveryOut},
    operation_id="invoicing_resend_credit_note",
    summary="E-mail a credit note again",
)
def resend_credit_note(request: HttpRequest, credit_note_id: int, payload: InvoicingResendIn) -> Status[Any]:
    require(request, *WRITERS)
    from q2c.invoicing.services import documents

    return Status(202, documents.resend("credit_note", credit_note_id, to=payload.to, actor=_actor(request)))


def _file(f: Any) -> HttpResponse:
    response = HttpResponse(bytes(f.content), content_type=f.content_type)
    response["Content-Disposition"] = f'attachment; filename="{f.filename}"'
    response["X-Content-SHA256"] = f.sha256
    return response


# --------------------------------------------------------------------------- rates and settings


@router.get("/rates", response=Page[RateOut], operation_id="invoicing_list_rates", summary="Exchange rates")
def list_rates(
    request: HttpRequest, paging: Query[PageParams], base: str | None = None, quote: str | None = None
) -> dict[str, Any]:
    require(request, *READERS)
    qs = ExchangeRate.objects.order_by("base", "quote", "-day", "id")
    if base:
        qs = qs.filter(base=base.upper())
    if quote:
        qs = qs.filter(quote=quote.upper())
    return paginate(qs, paging)


@router.post(
    "/rates", response={201: RateOut}, operation_id="invoicing_set_rate", summary="Enter an exchange rate"
)
def set_rate(request: HttpRequest, payload: RateIn) -> Status[ExchangeRate]:
    require(request, *WRITERS)
    return Status(
        201,
        services.set_rate(
            payload.base,
            payload.quote,
            payload.day,
            str(payload.rate),
            source=payload.source,
            actor=_actor(request),
        ),
    )


@router.post(
    "/rates/import",
    response=ImportedOut,
    operation_id="invoicing_import_rates",
    summary="Import exchange rates (CSV)",
)
@body_limit(3 * 1024 * 1024)
def import_rates(request: HttpRequest, payload: RatesImportIn) -> dict[str, int]:
    require(request, *WRITERS)
    return {"rows": services.import_rates(payload.csv, source=payload.source, actor=_actor(request))}


def _settings_out(entity_id: int) -> dict[str, Any]:
    s = InvoicingSettings.objects.filter(entity_id=entity_id).first() or InvoicingSettings(
        entity_id=entity_id
    )
    return {
        "entity_id": entity_id, "terms_basis": s.terms_basis, "formats": s.formats, "send_email": s.send_email,
        "email_xml": s.email_xml, "fx_max_age_days": s.fx_max_age_days, "render_in_bill_run": s.render_in_bill_run,
    }  # fmt: skip


@router.get(
    "/settings/{entity_id}",
    response=InvoicingSettingsOut,
    operation_id="invoicing_get_settings",
    summary="An entity's invoicing settings",
)
def get_settings(request: HttpRequest, entity_id: int) -> dict[str, Any]:
    require(request, *READERS)
    from q2c.parties.models import LegalEntity

    if not LegalEntity.objects.filter(pk=entity_id).exists():
        from q2c.invoicing.errors import InvoiceNotFound

        raise InvoiceNotFound(f"no legal entity {entity_id}", field="entity_id")
    return _settings_out(entity_id)


@router.put(
    "/settings/{entity_id}",
    response=InvoicingSettingsOut,
    operation_id="invoicing_save_settings",
    summary="Change an entity's invoicing settings",
)
def save_settings(request: HttpRequest, entity_id: int, payload: SettingsIn) -> dict[str, Any]:
    require(request, *WRITERS)
    services.save_settings(entity_id, actor=_actor(request), **payload.dict(exclude_none=True))
    return _settings_out(entity_id)
