"""Documents of issued invoices and credit notes after issue: which formats a customer gets, the
files to attach to its e-mail, re-sending, rendering a format that was not chosen at issue, the
reproducibility check and the export of stored documents to a directory.

A stored document is never replaced: :func:`ensure_documents` renders only formats that have no
file yet (from the frozen rows — the same rows give the same bytes, docs/e-invoicing.md), and
:func:`verify_documents` renders the stored ones again and refuses (``invoicing.document_not_reproducible``)
when the bytes differ from the stored SHA-256.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from q2c.core import clock
from q2c.invoicing import build, errors
from q2c.invoicing import events as ev
from q2c.invoicing.documents.errors import DocumentNotReproducible
from q2c.invoicing.documents.render import DocumentFormat, render_documents, rerender
from q2c.invoicing.domain import InvoiceStatus
from q2c.invoicing.models import (
    AccountInvoicing,
    CreditNote,
    CreditNoteLine,
    DocumentFile,
    EmailDelivery,
    Invoice,
    InvoiceLine,
    InvoicingSettings,
    PartySnapshot,
)
from q2c.invoicing.services import common
from q2c.platform import events
from q2c.platform.events import DomainEvent

DOC_TYPES = ("invoice", "credit_note")
PDF_FORMATS = ("facturx", "pdf")  # the first one stored is the PDF an e-mail carries
XML_FORMATS = ("ubl", "cii")


# --------------------------------------------------------------------------- settings


def formats_for(entity: InvoicingSettings, account: AccountInvoicing | None) -> list[str]:
    """The formats rendered at issue for this customer: its own list, else the entity's."""
    own = common.formats_of(account.formats) if account is not None else []
    return own or common.formats_of(entity.formats)


def sends_email(entity: InvoicingSettings, account: AccountInvoicing | None) -> bool:
    if account is not None and account.send_email is not None:
        return bool(account.send_email)
    return bool(entity.send_email)


def attaches_xml(entity: InvoicingSettings, account: AccountInvoicing | None) -> bool:
    if account is not None and account.email_xml is not None:
        return bool(account.email_xml)
    return bool(entity.email_xml)


def attachment_formats(formats: Sequence[str], with_xml: bool) -> list[str]:
    """What an e-mail carries among ``formats``: one PDF (the Factur-X one when there is one, as it
    is the PDF with the XML inside) and, when the customer wants it, the e-invoice XML."""
    have = set(formats)
    out = [next((f for f in PDF_FORMATS if f in have), "")]
    if with_xml:
        out += [f for f in XML_FORMATS if f in have]
    return [f for f in out if f]


# --------------------------------------------------------------------------- e-mail


def queue_email(
    doc_type: str, doc_id: int, to: str, formats: Sequence[str], *, requested_by: str = ""
) -> EmailDelivery:
    """Log an e-mail of a document and enqueue its sending once the current transaction commits."""
    from q2c.invoicing import tasks

    return tasks.queue_delivery(doc_type, doc_id, to, formats, requested_by=requested_by)


def _check_doc_type(doc_type: str) -> None:
    if doc_type not in DOC_TYPES:
        raise errors.InvalidInvoice(f"documents are of an invoice or a credit note, not '{doc_type}'",
                                    code=errors.INVALID_DELIVERY, field="doc_type")  # fmt: skip


def _issued(doc_type: str, doc_id: int) -> Invoice | CreditNote:
    _check_doc_type(doc_type)
    found: Invoice | CreditNote | None
    if doc_type == "invoice":
        found = Invoice.objects.filter(pk=doc_id).first()
        if found is not None and (found.status == InvoiceStatus.DRAFT or not found.number):
            raise errors.InvoiceConflict(
                "a draft has no documents to send; issue it first", code=errors.NOT_ISSUED, field="status"
            )
    else:
        found = CreditNote.objects.filter(pk=doc_id).first()
    if found is None:
        raise errors.InvoiceNotFound(f"no {doc_type.replace('_', ' ')} {doc_id}", field="id")
    return found


def _buyer_email(record: Invoice | CreditNote) -> str:
    data = (
        PartySnapshot.objects.filter(pk=int(record.buyer_snapshot_id or 0))
        .values_list("data", flat=True)
        .first()
    )
    return str((data or {}).get("email") or "")


def resend(doc_type: str, doc_id: int, *, to: str = "", actor: Any = None) -> EmailDelivery:
    """E-mail an issued invoice or credit note again (to its customer's invoice address, or ``to``),
    with the files stored at issue. A new delivery is logged; earlier ones stay as they were.

    Errors: ``invoicing.not_found`` (404), ``invoicing.not_issued`` (409, a draft),
    ``invoicing.invalid_delivery`` (422: a malformed address, no address, no documents).
    """
    who = common.actor_name(actor)
    address = str(to or "").strip()
    if address:
        if len(address) > 254:
            raise errors.InvalidInvoice("an e-mail address has at most 254 characters",
                                        code=errors.INVALID_DELIVERY, field="to")  # fmt: skip
        try:
            validate_email(address)
        except DjangoValidationError:
            raise errors.InvalidInvoice(f"'{address[:60]}' is not an e-mail address",
                                        code=errors.INVALID_DELIVERY, field="to") from None  # fmt: skip
    with transaction.atomic():
        record = _issued(doc_type, doc_id)
        address = address or _buyer_email(record)
        if not address:
            raise errors.InvalidInvoice("the customer has no invoice e-mail address; give one",
                                        code=errors.INVALID_DELIVERY, field="to")  # fmt: skip
        stored = list(
            DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id).values_list("format", flat=True)
        )
        entity = common.settings_for(record.entity_id)
        account = common.account_settings([record.account_id]).get(record.account_id)
        formats = attachment_formats(stored, attaches_xml(entity, account))
        if not formats:
            raise errors.InvalidInvoice(f"{record.number} has no rendered documents to send yet",
                                        code=errors.INVALID_DELIVERY, field="documents")  # fmt: skip
        delivery = queue_email(doc_type, doc_id, address, formats, requested_by=who)
        events.record(DomainEvent(ev.DOCUMENT_RESEND, f"invoicing.{doc_type}", doc_id,
                                  {"number": record.number, "to": address, "delivery_id": delivery.pk},
                                  entity_id=record.entity_id, actor=who))  # fmt: skip
    return delivery


# --------------------------------------------------------------------------- rendering after issue


def document_of(doc_type: str, record: Invoice | CreditNote) -> Any:
    """The ``InvoiceDocument`` of an issued invoice or credit note, from its frozen rows."""
    snaps = {
        s.pk: s.data
        for s in PartySnapshot.objects.filter(pk__in=[record.seller_snapshot_id, record.buyer_snapshot_id])
    }
    seller, buyer = snaps[int(record.seller_snapshot_id or 0)], snaps[int(record.buyer_snapshot_id or 0)]
    if doc_type == "invoice":
        lines = list(InvoiceLine.objects.filter(invoice_id=record.pk).order_by("position"))
        return build.invoice_document(record, lines, seller, buyer)
    assert isinstance(record, CreditNote)
    note_lines = list(CreditNoteLine.objects.filter(credit_note_id=record.pk).order_by("position"))
    invoice = Invoice.objects.get(pk=record.invoice_id)
    return build.credit_note_document(record, note_lines, invoice, seller, buyer)


def ensure_documents(doc_type: str, doc_id: int, formats: Sequence[str]) -> list[DocumentFile]:
    """The stored files of ``formats``, rendering (and storing, with their SHA-256) those not stored
    yet. Stored files are returned as they are, never rendered again."""
    record = _issued(doc_type, doc_id)
    wanted = [DocumentFormat(f) for f in formats]
    have = {f.format: f for f in DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id)}
    missing = [f for f in wanted if f.value not in have]
    if missing:
        files = render_documents(document_of(doc_type, record), missing)
        now = clock.now()
        with transaction.atomic():
            DocumentFile.objects.bulk_create(
                [DocumentFile(doc_type=doc_type, doc_id=doc_id, format=f.format.value, filename=f.filename,
                              content_type=f.content_type, content=f.content, sha256=f.sha256, created_at=now)
                 for f in files.values()],
                ignore_conflicts=True,  # another process stored the same bytes meanwhile
            )  # fmt: skip
        have = {f.format: f for f in DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id)}
    return [have[f.value] for f in wanted]


@dataclass(frozen=True, slots=True)
class Verified:
    format: str
    sha256: str
    stored_ok: bool  # the stored bytes still hash to the stored SHA-256
    reproduced: bool  # rendering the frozen rows again gives the same bytes


def verify_documents(doc_type: str, doc_id: int) -> list[Verified]:
    """Check each stored document of an issued invoice or credit note: its bytes against its stored
    SHA-256, and a fresh rendering from the frozen rows against them.

    Errors: ``invoicing.document_not_reproducible`` (409) naming the first format that differs —
    serve the stored copy; never overwrite an issued document.
    """
    record = _issued(doc_type, doc_id)
    files = list(DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id).order_by("format"))
    document = document_of(doc_type, record) if files else None
    out = []
    for f in files:
        content = bytes(f.content)
        if hashlib.sha256(content).hexdigest() != f.sha256:
            raise DocumentNotReproducible(
                f"the stored {f.format} document of {record.number} no longer matches its SHA-256",
                field="format",
            )
        assert document is not None
        rerender(document, f.format, f.sha256)
        out.append(Verified(f.format, f.sha256, True, True))
    return out


# --------------------------------------------------------------------------- export


@dataclass(frozen=True, slots=True)
class Exported:
    doc_type: str
    number: str
    path: Path
    sha256: str


_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def issued_documents(
    *, entity_id: int | None = None, date_from: date | None = None, date_to: date | None = None,
    kinds: Sequence[str] = DOC_TYPES,
) -> Iterator[tuple[str, int]]:  # fmt: skip
    """``(doc_type, id)`` of the issued invoices (void ones included: they were issued) and credit
    notes, by issue date and number."""
    if "invoice" in kinds:
        qs = Invoice.objects.exclude(status=InvoiceStatus.DRAFT).exclude(number="")
        if entity_id is not None:
            qs = qs.filter(entity_id=entity_id)
        if date_from:
            qs = qs.filter(issue_date__gte=date_from)
        if date_to:
            qs = qs.filter(issue_date__lte=date_to)
        for pk in qs.order_by("entity_id", "year", "seq").values_list("pk", flat=True).iterator():
            yield "invoice", pk
    if "credit_note" in kinds:
        notes = CreditNote.objects.all()
        if entity_id is not None:
            notes = notes.filter(entity_id=entity_id)
        if date_from:
            notes = notes.filter(issue_date__gte=date_from)
        if date_to:
            notes = notes.filter(issue_date__lte=date_to)
        for pk in notes.order_by("entity_id", "year", "seq").values_list("pk", flat=True).iterator():
            yield "credit_note", pk


def export_documents(
    out_dir: Path, fmt: str, *, entity_id: int | None = None, date_from: date | None = None,
    date_to: date | None = None, kinds: Sequence[str] = DOC_TYPES,
) -> list[Exported]:  # fmt: skip
    """Write one file per issued document in ``fmt`` into ``out_dir`` (which must exist): the stored
    copy, or — for a format not chosen at issue, or a bill-run invoice not rendered yet — rendered
    from the frozen rows, validated and stored first. A file already in the directory with other
    content is not overwritten (``invoicing.export_conflict``).

    Errors: ``invoicing.invalid_export`` (unknown format, not a directory), ``invoicing.missing_data``
    / ``invoicing.einvoice_invalid`` from rendering.
    """
    if fmt not in DocumentFormat._value2member_map_:
        raise errors.InvalidInvoice(f"formats are {', '.join(f.value for f in DocumentFormat)}",
                                    code=errors.INVALID_EXPORT, field="--format")  # fmt: skip
    if not out_dir.is_dir():
        raise errors.InvalidInvoice(
            f"{out_dir} is not a directory", code=errors.INVALID_EXPORT, field="--out"
        )
    for kind in kinds:
        _check_doc_type(kind)
    written: list[Exported] = []
    for doc_type, doc_id in issued_documents(
        entity_id=entity_id, date_from=date_from, date_to=date_to, kinds=kinds
    ):
        (stored,) = ensure_documents(doc_type, doc_id, [fmt])
        name = stored.filename
        if not _SAFE.match(name):  # names come from document numbers; never a path
            raise errors.InvalidInvoice(
                f"unsafe file name {name!r}", code=errors.INVALID_EXPORT, field="filename"
            )
        target = out_dir / name
        content = bytes(stored.content)
        if target.exists() and target.read_bytes() != content:
            raise errors.InvalidInvoice(f"{target} exists with other content; export into an empty directory",
                                        code=errors.EXPORT_CONFLICT, field="--out")  # fmt: skip
        target.write_bytes(content)
        number = name.split(".", 1)[0]
        written.append(Exported(doc_type, number, target, stored.sha256))
    return written
