"""SEPA Direct Debit (Core): mandates, collection files in pain.008.001.08 with pre-notification,
settlement on the collection date, and returns/rejects by reason code.

- :func:`create_mandate` / :func:`revoke_mandate` — IBAN and BIC validated by schwifty, the
  mandate reference (UMR) and the signature date;
- :func:`create_collection` — the open EUR invoices of customers with an active mandate (or those
  named), one pending direct-debit payment each, the pain.008.001.08 file built with sepaxml and
  validated against its schema, a pre-notification e-mail per debtor after commit; the
  collection date must leave the pre-notification period (entity setting, EPC default 14 days);
- :func:`settle_collection` — the money arrived on the collection date: each payment received
  and applied to its invoice;
- :func:`record_return` — an R-transaction with its reason code: before settlement a reject
  (the payment fails), after it a return (the payment is reversed and its invoice reopened).

Must not import any q2c app above payments.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from typing import Any

from django.core.mail import send_mail
from django.db import IntegrityError, transaction

from q2c.core import clock
from q2c.core.errors import ValidationError
from q2c.core.money import Money
from q2c.invoicing.services import common as invoicing_common
from q2c.parties.models import Account, BankAccount, LegalEntity
from q2c.payments import domain, errors, sepa
from q2c.payments import events as ev
from q2c.payments.domain import MandateStatus, Method, PaymentStatus
from q2c.payments.models import Collection, Mandate, Payment
from q2c.payments.services import adjust, common, receive
from q2c.payments.services.receive import Allocation, open_amounts
from q2c.platform import events
from q2c.platform.events import DomainEvent

PAIN = "pain.008.001.08"


def _text(value: Any, field: str, limit: int) -> str:
    text = str(value or "").strip()
    if not text or len(text) > limit or "<" in text or ">" in text:
        raise errors.InvalidPayment(f"{field} is 1–{limit} characters without < or >", code=errors.INVALID_MANDATE, field=field)
    return text


def create_mandate(
    account_id: int,
    *,
    iban: str,
    debtor_name: str,
    signed_on: date,
    reference: str = "",
    bic: str = "",
    actor: Any = None,
) -> Mandate:
    """A SEPA Core mandate of a customer. ``reference`` (the UMR) defaults to ``<account>-<n>``.
    Errors: ``payments.invalid_iban`` / ``payments.invalid_bic`` / ``payments.invalid_mandate``
    (422), ``payments.duplicate`` (409: the reference is taken)."""
    who = common.actor_name(actor)
    account = Account.objects.filter(pk=account_id).first() if isinstance(account_id, int) and not isinstance(account_id, bool) else None
    if account is None:
        raise errors.InvalidPayment(f"no customer account {account_id}", code=errors.INVALID_MANDATE, field="account_id")
    compact = sepa.check_iban(iban)
    bic_code = sepa.check_bic(bic, compact)
    name = _text(debtor_name, "debtor_name", 70)
    if not isinstance(signed_on, date) or signed_on > common.today(account.entity_id):
        raise errors.InvalidPayment("the signature date is a date not in the future", code=errors.INVALID_MANDATE, field="signed_on")
    try:
        with transaction.atomic():
            ref = reference or f"Q2C-{account.pk}-{Mandate.objects.filter(account_id=account.pk).count() + 1}"
            ref = sepa.check_identifier(ref, "reference")
            mandate = Mandate.objects.create(
                entity_id=account.entity_id, account_id=account.pk, reference=ref, debtor_name=name, iban=compact,
                bic=bic_code, signed_on=signed_on, created_at=clock.now(), created_by=who,
            )  # fmt: skip
            events.record(DomainEvent(ev.MANDATE_CREATED, "payments.mandate", mandate.pk,
                                      {"mandate_id": mandate.pk, "account_id": account.pk, "reference": ref,
                                       "iban_last4": compact[-4:], "signed_on": signed_on},
                                      entity_id=account.entity_id, actor=who))  # fmt: skip
    except IntegrityError as exc:
        raise errors.PaymentConflict(f"the mandate reference {reference} is taken", code=errors.DUPLICATE, field="reference") from exc
    return mandate


def revoke_mandate(mandate_id: int, *, actor: Any = None) -> Mandate:
    who = common.actor_name(actor)
    with transaction.atomic():
        mandate = common.locked(Mandate.objects.all(), mandate_id, "mandate")
        mandate.status = domain.move_mandate(mandate.status, MandateStatus.REVOKED)
        mandate.save(update_fields=["status"])
        events.record(DomainEvent(ev.MANDATE_REVOKED, "payments.mandate", mandate.pk, {"mandate_id": mandate.pk,
                                  "account_id": mandate.account_id}, entity_id=mandate.entity_id, actor=who))  # fmt: skip
    return mandate


def _creditor(entity: LegalEntity) -> tuple[str, str, str]:
    bank = BankAccount.objects.filter(entity_id=entity.pk, currency="EUR").order_by("-is_default", "id").first()
    if bank is None:
        raise errors.InvalidPayment(f"{entity.name} has no EUR bank account to collect into", code=errors.INVALID_COLLECTION, field="entity_id")
    creditor_id = sepa.check_creditor_id(entity.sepa_creditor_id)
    iban = sepa.check_iban(bank.iban, "creditor_iban")
    return iban, sepa.check_bic(bank.bic, iban, "creditor_bic"), creditor_id


def create_collection(
    entity_id: int, *, collection_date: date, invoice_ids: list[int] | None = None, actor: Any = None
) -> Collection:
    """Collect the open EUR invoices (those named, or every one due by ``collection_date``) of
    customers with an active mandate. Errors: ``payments.invalid_collection`` (422: date in the
    pre-notification period, nothing to collect, no creditor id or bank account, an invoice
    without a mandate or in another currency), ``payments.already_paid`` (409)."""
    who = common.actor_name(actor)
    entity = LegalEntity.objects.filter(pk=entity_id).first() if isinstance(entity_id, int) else None
    if entity is None:
        raise errors.InvalidPayment(f"no legal entity {entity_id}", code=errors.INVALID_COLLECTION, field="entity_id")
    settings = common.settings_for(entity.pk)
    today = common.today(entity.pk)
    earliest = today + timedelta(days=settings.sepa_prenotification_days)
    if not isinstance(collection_date, date) or collection_date < earliest:
        raise errors.InvalidPayment(
            f"the collection date must be on or after {earliest} ({settings.sepa_prenotification_days} days of pre-notification)",
            code=errors.INVALID_COLLECTION, field="collection_date",
        )  # fmt: skip
    iban, bic, creditor_id = _creditor(entity)
    from q2c.payments import queries

    with transaction.atomic():
        mandates = {m.account_id: m for m in Mandate.objects.filter(entity_id=entity.pk, status=MandateStatus.ACTIVE).order_by("id")}
        if invoice_ids is None:
            wanted = [i.invoice_id for i in queries.open_receivables(entity_id=entity.pk, currency="EUR")
                      if i.account_id in mandates and not i.disputed and i.due_date and i.due_date <= collection_date
                      and not Payment.objects.filter(status=PaymentStatus.PENDING, method=Method.SEPA_DD,
                                                     reference=i.number, entity_id=entity.pk).exists()]  # fmt: skip
        else:
            wanted = list(invoice_ids)
        if not wanted:
            raise errors.InvalidPayment("nothing to collect", code=errors.INVALID_COLLECTION, field="invoice_ids")
        from sepaxml import SepaDD

        sdd = SepaDD({"name": entity.name[:70], "IBAN": iban, "BIC": bic, "batch": True, "creditor_id": creditor_id,
                      "currency": "EUR"}, schema=PAIN, clean=True)  # fmt: skip
        items: list[dict[str, Any]] = []
        total = 0
        for n, iid in enumerate(sorted(wanted)):
            inv = invoicing_common.lock_invoice(iid)
            field = f"invoice_ids[{n}]"
            if inv.entity_id != entity.pk or inv.currency != "EUR":
                raise errors.InvalidPayment(f"invoice {inv.number or iid} is not a EUR invoice of {entity.name}",
                                            code=errors.INVALID_COLLECTION, field=field)  # fmt: skip
            mandate = mandates.get(inv.account_id)
            if mandate is None:
                raise errors.InvalidPayment(f"the customer of {inv.number} has no active mandate", code=errors.INVALID_COLLECTION, field=field)
            open_inv, reopened = open_amounts(inv)
            minor = open_inv + reopened
            if minor <= 0:
                raise errors.PaymentConflict(f"invoice {inv.number} is already paid", code=errors.ALREADY_PAID, field=field)
            sequence = "RCUR" if mandate.first_used_on else "FRST"
            payment = receive.record_payment(
                inv.account_id, Money.from_minor(minor, "EUR"), method=Method.SEPA_DD, received_on=collection_date,
                pending=True, reference=inv.number, payer_name=mandate.debtor_name, payer_iban=mandate.iban,
                mandate_id=mandate.pk, actor=who,
            )  # fmt: skip
            e2e = sepa.check_identifier(f"{payment.number}", "end_to_end_id")
            Payment.objects.filter(pk=payment.pk).update(external_id=e2e)
            sdd.add_payment({"name": mandate.debtor_name, "IBAN": mandate.iban, "BIC": mandate.bic, "amount": minor,
                             "type": sequence, "collection_date": collection_date, "mandate_id": mandate.reference,
                             "mandate_date": mandate.signed_on, "description": f"Invoice {inv.number}",
                             "endtoend_id": e2e})  # fmt: skip
            if not mandate.first_used_on:
                mandate.first_used_on = collection_date
                mandate.save(update_fields=["first_used_on"])
            items.append({"payment_id": payment.pk, "invoice_id": inv.pk, "invoice_number": inv.number, "end_to_end_id": e2e,
                          "sequence": sequence, "amount_minor": minor, "account_id": inv.account_id})  # fmt: skip
            total += minor
        try:
            xml = sdd.export(validate=True)
        except Exception as exc:
            raise ValidationError(f"the collection file is not valid {PAIN}: {exc}", code=errors.INVALID_COLLECTION, field="file") from None
        collection = Collection.objects.create(
            entity_id=entity.pk, message_id=str(sdd.msg_id)[:35], collection_date=collection_date, count=len(items),
            total=Money.from_minor(total, "EUR"), xml=xml, sha256=hashlib.sha256(xml).hexdigest(), items=items,
            created_at=clock.now(), created_by=who,
        )  # type: ignore[misc]  # fmt: skip
        Payment.objects.filter(pk__in=[i["payment_id"] for i in items]).update(collection=collection)
        events.record(DomainEvent(ev.COLLECTION_CREATED, "payments.collection", collection.pk,
                                  {"collection_id": collection.pk, "count": len(items), "total": collection.total,
                                   "collection_date": collection_date}, entity_id=entity.pk, actor=who))  # fmt: skip
        events.after_commit(lambda: _prenotify(collection.pk))
    return collection


def _prenotify(collection_id: int) -> None:
    """One e-mail per debtor: the amount, the mandate reference, the creditor id and the date."""
    collection = Collection.objects.get(pk=collection_id)
    entity = LegalEntity.objects.get(pk=collection.entity_id)
    emails = dict(Account.objects.filter(pk__in={i["account_id"] for i in collection.items}).values_list("id", "invoice_email"))
    mandates = dict(Payment.objects.filter(collection=collection).values_list("id", "mandate__reference"))
    for item in collection.items:
        to = emails.get(item["account_id"])
        if not to:
            continue
        amount = Money.from_minor(int(item["amount_minor"]), "EUR")
        send_mail(
            f"Direct debit of {amount} on {collection.collection_date}",
            f"{entity.name} will collect {amount} for invoice {item['invoice_number']} by SEPA Direct Debit on "
            f"{collection.collection_date}.\nMandate reference: {mandates.get(item['payment_id'], '')}\n"
            f"Creditor identifier: {entity.sepa_creditor_id}\n",
            None, [to], fail_silently=True,
        )  # fmt: skip


def settle_collection(collection_id: int, *, actor: Any = None) -> Collection:
    """The collection's money arrived (on its date): each pending payment is received and
    applied to its invoice. Payments rejected before are skipped. Settling twice is a no-op."""
    who = common.actor_name(actor)
    with transaction.atomic():
        collection = common.locked(Collection.objects.all(), collection_id, "collection")
        if collection.settled:
            return collection
        for item in collection.items:
            payment = Payment.objects.get(pk=item["payment_id"])
            if payment.status != PaymentStatus.PENDING:
                continue
            receive.receive_pending(payment.pk, on=collection.collection_date,
                                    allocations=[Allocation(int(item["invoice_id"]), None)], actor=who)  # fmt: skip
        collection.settled = True
        collection.save(update_fields=["settled"])
    return collection


def record_return(end_to_end_id: str, *, reason_code: str, on: date | None = None, actor: Any = None) -> Payment:
    """A reject (before settlement: the payment fails) or a return (after: reversed, invoice
    reopened) of one direct debit, by its end-to-end id and R-transaction reason code.
    Errors: ``payments.invalid_return`` (422: unknown reason code or end-to-end id)."""
    code = str(reason_code or "").strip().upper()
    if code not in sepa.REASONS:
        raise errors.InvalidPayment(f"{reason_code!s:.10} is not an R-transaction reason code", code=errors.INVALID_RETURN, field="reason_code")
    payment = Payment.objects.filter(method=Method.SEPA_DD, external_id=str(end_to_end_id or "")[:80]).first()
    if payment is None:
        raise errors.InvalidPayment(f"no direct debit {end_to_end_id!s:.40}", code=errors.INVALID_RETURN, field="end_to_end_id")
    if payment.status == PaymentStatus.PENDING:
        return receive.fail_payment(payment.pk, code=code, reason=sepa.REASONS[code], actor=actor)
    return adjust.reverse_payment(payment.pk, code=code, reason=sepa.REASONS[code], on=on, actor=actor)
