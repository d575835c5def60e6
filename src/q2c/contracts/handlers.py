"""Reactions of contracts to events of lower apps, registered in ``q2c.wiring``.

- ``quotes.quote.accepted`` → :func:`on_quote_accepted`, synchronously inside the acceptance
  transaction (an error aborts the acceptance): an amendment quote applies its amendment; a
  renewal quote creates the next-term contract linked to the contract it renews; any other quote
  creates a contract.
- ``quotes.quote.rejected`` / ``withdrawn`` / ``expired`` → :func:`on_quote_closed`: a proposed
  amendment waiting for that quote is withdrawn.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from dataclasses import replace

from q2c.contracts.domain import AmendmentStatus
from q2c.contracts.models import Amendment, Contract
from q2c.contracts.services import amendments, common, creation, quoting
from q2c.platform.events import DomainEvent


def on_quote_accepted(event: DomainEvent) -> None:
    payload = event.payload
    quote_id = int(payload["quote_id"])
    proposed = Amendment.objects.filter(quote_id=quote_id, status=AmendmentStatus.PROPOSED).first()
    acceptance = payload.get("acceptance") or {}
    if proposed is not None:
        amendments.apply_quoted_amendment(
            proposed.pk,
            priced_lines=list(payload.get("lines") or []),
            document_sha256=str(acceptance.get("document_sha256") or ""),
            actor=event.actor,
        )
        return
    settings = common.settings_for(int(payload["entity_id"]))
    new = quoting.new_contract_from_quote(
        payload, signature_on_acceptance=bool(settings.signature_on_acceptance)
    )
    previous = Contract.objects.filter(renewal_quote_id=quote_id).first()
    if previous is not None:
        # The next term keeps the terms the quote does not carry.
        new = replace(
            new,
            previous_contract_id=previous.pk,
            renewal_uplift_percent=previous.renewal_uplift_percent,
            notice_days=previous.notice_days,
            non_cancellable=previous.non_cancellable,
            governing_law=previous.governing_law,
            billing_day=previous.billing_day,
            billing_settings=dict(previous.billing_settings or {}),
            title=previous.title,
            owner_id=new.owner_id or previous.owner_id,
        )
    creation.create_contract(new, actor=event.actor or "customer")


def on_quote_closed(event: DomainEvent) -> None:
    quote_id = int(event.aggregate_id)
    for amendment in Amendment.objects.filter(quote_id=quote_id, status=AmendmentStatus.PROPOSED):
        amendments.withdraw_amendment(
            amendment.pk, actor=event.actor or "system", reason=f"quote {event.type.rsplit('.', 1)[-1]}"
        )
