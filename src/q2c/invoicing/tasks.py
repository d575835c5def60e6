"""Background work of invoicing (run by ``q2c worker``), always enqueued after the issuing
transaction commits (``platform.events.enqueue_after_commit``): never for a rolled-back issue.

- :func:`render_batch` renders the documents of invoices issued by a bill run (from their frozen
  rows; reproducible bytes) and stores each file with its SHA-256, then queues their e-mails;
- :func:`send_document` e-mails one document to the customer with the PDF attached; a failure
  is logged in the delivery (``EmailDelivery``: attempts, last error) and retried with a growing
  delay, up to :data:`MAX_ATTEMPTS`; then the delivery is marked failed and shows in the UI.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from q2c.core import clock
from q2c.invoicing import build
from q2c.invoicing import events as ev
from q2c.invoicing.documents.render import DocumentFormat, render_documents
from q2c.invoicing.models import (
    AccountInvoicing,
    CreditNote,
    DocumentFile,
    EmailDelivery,
    Invoice,
    InvoiceLine,
    PartySnapshot,
)
from q2c.invoicing.services import common
from q2c.invoicing.services import documents as docsvc
from q2c.platform import events
from q2c.platform.events import DomainEvent, enqueue_after_commit

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def queue_delivery(
    doc_type: str, doc_id: int, to: str, formats: Sequence[str] = (), *, requested_by: str = ""
) -> EmailDelivery:
    """Log an e-mail to send (with the files of ``formats``; none given: every stored file) and
    enqueue it once the current transaction commits."""
    delivery = EmailDelivery.objects.create(
        doc_type=doc_type, doc_id=doc_id, to=to[:300], queued_at=clock.now(),
        attachments=",".join(formats)[:200], requested_by=requested_by[:150],
    )  # fmt: skip
    enqueue_send(delivery.pk)
    return delivery


def enqueue_send(delivery_id: int) -> None:
    enqueue_after_commit(send_document, delivery_id)


def queue_rendering(invoice_ids: Sequence[int]) -> None:
    """Render (and then e-mail) a committed batch of bill-run invoices, in the background."""
    if invoice_ids:
        enqueue_after_commit(render_batch, list(invoice_ids))


def render_invoice(invoice: Invoice, formats: Sequence[str]) -> list[DocumentFile]:
    """Render and store an issued invoice's missing documents (idempotent per format)."""
    have = set(
        DocumentFile.objects.filter(doc_type="invoice", doc_id=invoice.pk).values_list("format", flat=True)
    )
    wanted = [DocumentFormat(f) for f in formats if f in DocumentFormat._value2member_map_ and f not in have]
    if not wanted:
        return []
    lines = list(InvoiceLine.objects.filter(invoice=invoice).order_by("position"))
    seller_id, buyer_id = int(invoice.seller_snapshot_id or 0), int(invoice.buyer_snapshot_id or 0)
    snaps = {s.pk: s.data for s in PartySnapshot.objects.filter(pk__in=[seller_id, buyer_id])}
    document = build.invoice_document(invoice, lines, snaps[seller_id], snaps[buyer_id])
    files = render_documents(document, wanted)
    now = clock.now()
    out = [
        DocumentFile(doc_type="invoice", doc_id=invoice.pk, format=f.format.value, filename=f.filename,
                     content_type=f.content_type, content=f.content, sha256=f.sha256, created_at=now)
        for f in files.values()
    ]  # fmt: skip
    DocumentFile.objects.bulk_create(out, ignore_conflicts=True)
    return out


@task()
def render_batch(invoice_ids: list[int]) -> int:
    """Render the documents of issued invoices and queue their e-mails; returns invoices rendered."""
    done = 0
    invoices = list(Invoice.objects.filter(pk__in=invoice_ids).order_by("id"))
    settings = common.settings_map([i.entity_id for i in invoices])
    per_account = common.account_settings([i.account_id for i in invoices])
    for invoice in invoices:
        setting = settings[invoice.entity_id]
        try:
            with transaction.atomic():
                acct: AccountInvoicing | None = per_account.get(invoice.account_id)
                formats = docsvc.formats_for(setting, acct)
                files = render_invoice(invoice, formats)
                if files:
                    events.record(
                        DomainEvent(ev.DOCUMENT_RENDERED, "invoicing.invoice", invoice.pk,
                                    {"invoice_id": invoice.pk, "number": invoice.number,
                                     "files": {f.format: f.sha256 for f in files}}, entity_id=invoice.entity_id)
                    )  # fmt: skip
                send = docsvc.sends_email(setting, acct)
                email = (
                    PartySnapshot.objects.filter(pk=int(invoice.buyer_snapshot_id or 0))
                    .values_list("data", flat=True)
                    .first()
                    or {}
                ).get("email")
                if (
                    send
                    and email
                    and not EmailDelivery.objects.filter(doc_type="invoice", doc_id=invoice.pk).exists()
                ):
                    queue_delivery(
                        "invoice", invoice.pk, email,
                        docsvc.attachment_formats(formats, docsvc.attaches_xml(setting, acct)),
                    )  # fmt: skip
            done += 1
        except Exception:  # one invoice's document must not hold up the others; it is retried later
            log.exception("documents of invoice %s not rendered", invoice.pk)
    return done


def _document(doc_type: str, doc_id: int) -> tuple[str, list[DocumentFile]]:
    if doc_type == "credit_note":
        note = CreditNote.objects.get(pk=doc_id)
        number = note.number
    else:
        invoice = Invoice.objects.get(pk=doc_id)
        number = invoice.number
    return number, list(DocumentFile.objects.filter(doc_type=doc_type, doc_id=doc_id).order_by("format"))


@task()
def send_document(delivery_id: int) -> str:
    """Send one queued e-mail; retried on failure (see the module docstring)."""
    delivery = EmailDelivery.objects.filter(pk=delivery_id).first()
    if delivery is None or delivery.status == EmailDelivery.Status.SENT:
        return "nothing to do"
    number, files = _document(delivery.doc_type, delivery.doc_id)
    wanted = common.formats_of(delivery.attachments)
    if wanted:
        files = [f for f in files if f.format in wanted]
    kind = "Credit note" if delivery.doc_type == "credit_note" else "Invoice"
    try:
        message = EmailMessage(
            subject=f"{kind} {number}",
            body=f"Please find attached {kind.lower()} {number}.",
            to=[delivery.to],
        )
        for f in files:
            message.attach(f.filename, bytes(f.content), f.content_type)
        message.send()
    except Exception as exc:
        attempts = delivery.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts,
            last_error=str(exc)[:2000],
            status=EmailDelivery.Status.FAILED if failed else EmailDelivery.Status.QUEUED,
        )
        if not failed:
            _retry(delivery.pk, attempts)
        return "failed" if failed else "retrying"
    now = clock.now()
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            status=EmailDelivery.Status.SENT, sent_at=now, attempts=delivery.attempts + 1, last_error=""
        )
        events.record(DomainEvent(ev.DOCUMENT_SENT, f"invoicing.{delivery.doc_type}", delivery.doc_id,
                                  {"number": number, "to": delivery.to, "delivery_id": delivery.pk}))  # fmt: skip
    return "sent"


def _retry(delivery_id: int, attempts: int) -> None:
    task_: Any = send_document
    backend = task_.get_backend()
    if getattr(backend, "supports_defer", False):
        # Wall-clock time (the worker's), not the business clock. 1, 4, 9, 16 minutes: a mail server that is down for a while gets time to come back.
        task_.using(run_after=timezone.now() + timedelta(minutes=attempts * attempts)).enqueue(delivery_id)
    else:
        task_.enqueue(delivery_id)
