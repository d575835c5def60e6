"""Sending a quote: render its document, store it with its SHA-256, email a signed link.

The document is rendered inside the send use case, from the quote's priced snapshot, so the hash
the customer later accepts is the hash of what was sent. The link (``q2c.platform.links``) opens
this document for the purpose ``quote-acceptance`` until the end of the quote's validity date in
the seller's time zone. Editing the quote afterwards retires the document: its link no longer
accepts anything.

Errors: ``InvalidTransition`` (409) unless the quote is approved, ``QuoteConflict`` (409) for a
version that is not primary or superseded, ``QuoteInvalid`` (422) past its validity date or with
nobody to send to.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from q2c.platform import links
from q2c.quotes import access
from q2c.quotes import document as doc
from q2c.quotes import errors as codes
from q2c.quotes import events as ev
from q2c.quotes.domain import QuoteStatus, move_quote
from q2c.quotes.errors import QuoteConflict, QuoteInvalid
from q2c.quotes.models import Quote, QuoteDocument
from q2c.quotes.services.common import actor_name, check_version, locked, mail, now, record, today
from q2c.quotes.services.quotes import _email, _refuse_final, get_quote, retire_documents

LINK_PURPOSE = "quote-acceptance"


@dataclass(frozen=True)
class Sent:
    quote: Quote
    document: QuoteDocument
    token: str
    url: str


def link_expiry(quote: Quote) -> datetime:
    """The end of the validity date in the seller's zone (the link works all of that day)."""
    tz = ZoneInfo(quote.entity.time_zone or "UTC")
    return datetime.combine(quote.valid_until + timedelta(days=1), time(0, 0), tzinfo=tz)


def acceptance_path(token: str) -> str:
    return f"/quotes/accept/{token}/"


def send_quote(
    quote_id: int,
    *,
    actor: Any,
    to: str = "",
    message: str = "",
    lock_version: int | None = None,
    base_url: str = "",
) -> Sent:
    """Send an approved quote: render and store the PDF (with its SHA-256), move it to sent and
    email the customer a signed link to accept or reject it.

    ``to`` defaults to the quote's contact e-mail. ``base_url`` (``https://q2c.example.com``)
    makes the emailed link absolute.
    """
    get_quote(quote_id, actor)
    recipient = _email(to, "to")
    from q2c.quotes.services.opportunities import _text

    note = _text(message, "message", max_length=4000)
    with transaction.atomic():
        quote = locked(Quote.objects.select_related("entity", "account", "owner"), quote_id, "quote")
        access.check_edit(actor, quote.owner_id)
        check_version(quote, lock_version, "quote")
        _refuse_final(quote)
        move_quote(QuoteStatus(quote.status), QuoteStatus.SENT)  # 409 unless approved
        if quote.superseded_at is not None:
            raise QuoteConflict(
                f"quote {quote.label} has a newer version", code=codes.SUPERSEDED, field="quote_id"
            )
        if not quote.is_primary:
            raise QuoteConflict(
                f"quote {quote.label} is not the opportunity's primary quote; make it primary first",
                code=codes.NOT_PRIMARY,
                field="quote_id",
            )
        if quote.valid_until < today(quote.entity.time_zone):
            raise QuoteInvalid(
                f"the quote was valid until {quote.valid_until}; revise it first",
                code=codes.PAST_VALIDITY,
                field="valid_until",
            )
        recipient = recipient or quote.contact_email
        if not recipient:
            raise QuoteInvalid(
                "there is no e-mail address to send the quote to", code=codes.NO_RECIPIENT, field="to"
            )
        moment = now()
        data = doc.document_data(quote, generated_at=moment)
        pdf, _fetcher = doc.render_pdf(data, created=moment)
        digest = hashlib.sha256(pdf).hexdigest()
        retire_documents(quote)
        expires = link_expiry(quote)
        document = QuoteDocument.objects.create(
            quote=quote,
            sha256=digest,
            pdf=pdf,
            data=data,
            filename=f"{quote.number}-v{quote.version}.pdf",
            sent_to=recipient,
            sent_by=actor_name(actor),
            created_at=moment,
            link_expires_at=expires,
            is_current=True,
        )
        token = links.make_token(LINK_PURPOSE, document.pk, expires)
        url = f"{base_url.rstrip('/')}{acceptance_path(token)}"
        quote.status = QuoteStatus.SENT
        quote.sent_at = moment
        quote.updated_at = moment
        quote.lock_version += 1
        quote.save()
        record(
            ev.QUOTE_SENT,
            "quote",
            quote.pk,
            entity_id=quote.entity_id,
            actor=actor,
            number=quote.number,
            version=quote.version,
            document_id=document.pk,
            sha256=digest,
            to=recipient,
            link_expires_at=expires,
            tcv=quote.tcv,
        )
        body = (
            f"Dear {quote.contact_name or quote.account.name},\n\n"
            + (f"{note}\n\n" if note else "")
            + f"please find our quote {quote.label} at the link below. You can review it and accept or "
            f"decline it online until {quote.valid_until.isoformat()}.\n\n{url}\n\n"
            f"Document fingerprint (SHA-256): {digest}\n\n{quote.entity.name}\n"
        )
        mail(f"Quote {quote.label} from {quote.entity.name}", body, [recipient])
    return Sent(quote=quote, document=document, token=token, url=url)


def preview_pdf(quote_id: int, *, actor: Any) -> bytes:
    """The document as it would be sent now, marked as a preview (nothing is stored)."""
    quote = get_quote(quote_id, actor)
    data = doc.document_data(quote, generated_at=now())
    pdf, _ = doc.render_pdf(data, created=now(), preview=True)
    return pdf
