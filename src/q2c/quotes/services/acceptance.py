"""The customer's side: open a signed link, accept (typed name, title, agreement) or reject
(with a reason); and the daily expiry of quotes past their validity date.

Acceptance records the signature evidence — signer, business-clock time, IP address, user agent
and the SHA-256 of the document behind the link — marks the quote accepted and its opportunity
closed won, and records ``quotes.quote.accepted`` whose payload is
:func:`q2c.quotes.queries.contract_payload` (the contracts app's handler runs inside this same
transaction; if it fails, nothing is accepted).

Refusals: a tampered link answers 404 ``links.tampered`` (nothing is at that address), an expired
one 410 ``links.expired`` (``q2c.platform.links`` checks both; neither is a 403, since the link,
not a role, is the key to these pages); a
version already decided 409 ``quotes.already_decided`` (the first decision stands — also under a
race, by the unique acceptance row); a document replaced by an edit or a re-send 409
``quotes.link_not_current``; a superseded version 409 ``quotes.superseded``; a quote no longer
sent (edited back to draft, withdrawn, expired) 409 ``quote.invalid_transition``; past its
validity 409 ``quotes.past_validity``.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import IntegrityError, transaction

from q2c.platform import links
from q2c.quotes import errors as codes
from q2c.quotes import events as ev
from q2c.quotes.domain import EXPIRABLE, QuoteStatus, move_quote
from q2c.quotes.errors import LinkExpired, LinkInvalid, QuoteConflict, QuoteInvalid
from q2c.quotes.models import Acceptance, Opportunity, Quote, QuoteDocument
from q2c.quotes.queries import contract_payload
from q2c.quotes.services.common import locked, mail, now, record, today
from q2c.quotes.services.opportunities import _text, win
from q2c.quotes.services.quotes import void_approvals
from q2c.quotes.services.sending import LINK_PURPOSE

MAX_USER_AGENT = 1000


@dataclass(frozen=True)
class Opened:
    document: QuoteDocument
    quote: Quote
    acceptance: Acceptance | None

    @property
    def open_for_decision(self) -> bool:
        q = self.quote
        return (
            self.acceptance is None
            and self.document.is_current
            and q.status == QuoteStatus.SENT
            and q.superseded_at is None
            and q.is_primary
            and q.valid_until >= today(q.entity.time_zone)
        )


def read_link(token: str) -> int:
    """The document id a link opens. A tampered link (or one for another purpose) answers 404
    ``links.tampered`` — nothing is at that address; an expired one 410 ``links.expired``."""
    try:
        claims = links.read_token(token, LINK_PURPOSE)
    except links.LinkError as exc:
        if exc.code == "links.expired":
            raise LinkExpired(exc.message, field="token") from None
        raise LinkInvalid("this link is not valid", field="token") from None
    try:
        return int(claims.object_id)
    except ValueError:
        raise LinkInvalid("this link is not valid", field="token") from None


def open_link(token: str) -> Opened:
    """The document behind a link (404 when tampered with, 410 when expired)."""
    document_id = read_link(token)
    document = (
        QuoteDocument.objects.select_related("quote__entity", "quote__account").filter(pk=document_id).first()
    )
    if document is None:
        raise LinkInvalid("this link is not valid", field="token")
    quote = document.quote
    return Opened(document=document, quote=quote, acceptance=Acceptance.objects.filter(quote=quote).first())


def _evidence(ip: str | None, user_agent: str | None) -> tuple[str | None, str]:
    import ipaddress

    address = None
    if ip:
        try:
            address = str(ipaddress.ip_address(ip.strip()))
        except ValueError:
            address = None
    return address, (user_agent or "")[:MAX_USER_AGENT]


def _lock_for_decision(token: str, target: QuoteStatus) -> tuple[QuoteDocument, Quote]:
    opened = open_link(token)
    quote = locked(Quote.objects.select_related("entity", "account", "owner"), opened.quote.pk, "quote")
    document = QuoteDocument.objects.get(pk=opened.document.pk)
    if Acceptance.objects.filter(quote=quote).exists():
        raise QuoteConflict(
            f"quote {quote.label} has been decided already; the first decision stands",
            code=codes.ALREADY_DECIDED,
            field="token",
        )
    if quote.superseded_at is not None or not quote.is_primary:
        raise QuoteConflict(
            f"quote {quote.label} has been replaced by a newer version", code=codes.SUPERSEDED, field="token"
        )
    move_quote(QuoteStatus(quote.status), target)  # 409 unless sent (withdrawn, expired, edited)
    if not document.is_current:
        raise QuoteConflict(
            "this quote was sent again after this link; use the link of the latest e-mail",
            code=codes.LINK_NOT_CURRENT,
            field="token",
        )
    if quote.valid_until < today(quote.entity.time_zone):
        raise QuoteConflict(
            f"quote {quote.label} was valid until {quote.valid_until}",
            code=codes.PAST_VALIDITY,
            field="token",
        )
    return document, quote


def _decide(
    token: str,
    outcome: str,
    *,
    signer_name: str,
    signer_title: str,
    reason: str,
    ip: str | None,
    user_agent: str | None,
) -> Acceptance:
    address, agent = _evidence(ip, user_agent)
    target = QuoteStatus.ACCEPTED if outcome == Acceptance.Outcome.ACCEPTED else QuoteStatus.REJECTED
    with transaction.atomic():
        document, quote = _lock_for_decision(token, target)
        moment = now()
        try:
            with transaction.atomic():
                acceptance = Acceptance.objects.create(
                    quote=quote,
                    document=document,
                    outcome=outcome,
                    signer_name=signer_name,
                    signer_title=signer_title,
                    reason=reason,
                    decided_at=moment,
                    ip_address=address,
                    user_agent=agent,
                    document_sha256=document.sha256,
                )
        except IntegrityError:
            raise QuoteConflict(
                f"quote {quote.label} has been decided already; the first decision stands",
                code=codes.ALREADY_DECIDED,
                field="token",
            ) from None
        quote.status = target
        quote.decided_at = moment
        quote.updated_at = moment
        quote.lock_version += 1
        quote.save()
        customer = signer_name or quote.account.name
        if target is QuoteStatus.ACCEPTED:
            opp = locked(Opportunity.objects.select_related("entity"), quote.opportunity_id, "opportunity")
            win(opp, actor=customer, note=f"quote {quote.label} accepted")
            record(
                ev.QUOTE_ACCEPTED,
                "quote",
                quote.pk,
                entity_id=quote.entity_id,
                actor=customer,
                payload=contract_payload(quote, acceptance),
                ip_address=address,
                user_agent=agent,
            )
        else:
            record(
                ev.QUOTE_REJECTED,
                "quote",
                quote.pk,
                entity_id=quote.entity_id,
                actor=customer,
                number=quote.number,
                version=quote.version,
                reason=reason,
                document_sha256=document.sha256,
                ip_address=address,
                user_agent=agent,
            )
        verb = "accepted" if target is QuoteStatus.ACCEPTED else "declined"
        mail(
            f"Quote {quote.label} {verb} by {quote.account.name}",
            f"{customer} {verb} quote {quote.label}." + (f"\n\nReason: {reason}" if reason else ""),
            [quote.owner.email],
        )
    return acceptance


def accept_quote(
    token: str,
    *,
    signer_name: str,
    signer_title: str,
    agree: bool,
    ip: str | None = None,
    user_agent: str | None = None,
) -> Acceptance:
    """Accept the quote behind a link: typed full name, title, and the agreement box ticked."""
    read_link(token)  # a bad link is refused before anything else is said
    name = _text(signer_name, "signer_name", required=True)
    title = _text(signer_title, "signer_title", required=True)
    if agree is not True:
        raise QuoteInvalid(
            "tick the box to agree to the quote and its terms",
            code="quotes.agreement_required",
            field="agree",
        )
    return _decide(
        token,
        Acceptance.Outcome.ACCEPTED,
        signer_name=name,
        signer_title=title,
        reason="",
        ip=ip,
        user_agent=user_agent,
    )


def reject_quote(
    token: str,
    *,
    reason: str,
    signer_name: str = "",
    ip: str | None = None,
    user_agent: str | None = None,
) -> Acceptance:
    """Decline the quote behind a link, with a reason."""
    read_link(token)
    why = _text(reason, "reason", required=True, max_length=4000)
    name = _text(signer_name, "signer_name")
    return _decide(
        token,
        Acceptance.Outcome.REJECTED,
        signer_name=name,
        signer_title="",
        reason=why,
        ip=ip,
        user_agent=user_agent,
    )


def expire_quotes(day: date) -> dict[str, Any]:
    """Daily job: quotes approved or sent whose validity date is before ``day`` become expired.

    Idempotent for a date: a second run finds nothing left to expire.
    """
    expired: list[str] = []
    ids = list(
        Quote.objects.filter(status__in=list(EXPIRABLE), valid_until__lt=day)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    for quote_id in ids:
        with transaction.atomic():
            quote = locked(Quote.objects.select_related("entity"), quote_id, "quote")
            if quote.status not in EXPIRABLE or quote.valid_until >= day:
                continue  # changed since we looked
            status = QuoteStatus(quote.status)
            move_quote(status, QuoteStatus.EXPIRED)
            void_approvals(quote, actor="system", why="expired")
            moment = now()
            quote.status = QuoteStatus.EXPIRED
            quote.decided_at = moment
            quote.updated_at = moment
            quote.lock_version += 1
            quote.save()
            record(
                ev.QUOTE_EXPIRED,
                "quote",
                quote.pk,
                entity_id=quote.entity_id,
                actor="system",
                number=quote.number,
                version=quote.version,
                from_status=str(status),
                valid_until=quote.valid_until,
                business_date=day,
            )
            expired.append(quote.label)
    return {"expired": len(expired), "quotes": expired}
