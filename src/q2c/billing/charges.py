"""One-off charges billed on an account's next invoice: late fees (dunning), usage adjustments for
late events (usage rating), manual fees.

:func:`add_charge` stores a :class:`~q2c.billing.models.Charge`; the first bill run on or after
its ``bill_on`` date puts it on the account's invoice of that run (consolidated with the
account's other items in the same currency; an invoice of its own when nothing else is due). The
line is taxed by the tax engine like every other line (its ``tax_category``) and posted by
invoicing (``posting``: ``revenue`` — the revenue account of ``revenue_category`` — by default,
``unbilled`` for usage). A charge is billed once: the batch that invoices it sets its
``invoice_id`` with an update conditional on it being empty, in the invoice's transaction.

Must not import any q2c app above ``billing``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from q2c.billing import errors
from q2c.billing.models import Charge
from q2c.core import clock
from q2c.core.errors import Conflict, ValidationError
from q2c.core.money import Money, to_decimal
from q2c.invoicing.domain import Posting
from q2c.ledger.categories import RevenueCategory
from q2c.parties.models import Account
from q2c.platform import events
from q2c.platform.events import DomainEvent

CHARGE_ADDED = "billing.charge.added"
CHARGE_CANCELLED = "billing.charge.cancelled"
INVALID_CHARGE = "billing.invalid_charge"
CHARGE_CONFLICT = "billing.charge_conflict"
CHARGE_BILLED = "billing.charge_billed"


class ChargeInvalid(ValidationError):
    default_code = INVALID_CHARGE


class ChargeConflict(Conflict):
    default_code = CHARGE_CONFLICT


_SAME = ("currency", "description", "amount_minor", "tax_category", "bill_on")


def _actor(actor: Any) -> str:
    if actor is None:
        return ""
    getter = getattr(actor, "get_username", None)
    return str(getter() if getter else actor)[:150]


def _text(value: Any, field: str, limit: int, *, required: bool = True) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise ChargeInvalid(f"{field} is required", field=field)
    if len(text) > limit:
        raise ChargeInvalid(f"{field} is longer than {limit} characters", field=field)
    return text


def add_charge(
    entity_id: int,
    account_id: int,
    currency: str,
    description: str,
    amount: Money,
    tax_category: str,
    reference: str,
    bill_on: date,
    *,
    revenue_category: str = RevenueCategory.OTHER,
    quantity: Decimal | int | str = 1,
    detail: str = "",
    item_id: str = "",
    unit_code: str = "C62",
    service_start: date | None = None,
    service_end: date | None = None,
    posting: str = Posting.REVENUE,
    contract_id: int | None = None,
    contract_number: str = "",
    kind: str = "charge",
    actor: Any = None,
) -> Charge:
    """Add a one-off charge to the account's next invoice on or after ``bill_on``.

    ``amount`` is the net amount (rounded, in the account's billing currency ``currency``; may be
    negative for a credit, but an invoice whose lines only credit is refused by the bill run).
    ``reference`` (e.g. ``"late-fee:INV-2027-000003"``) is unique per account: calling again with
    the same reference and the same terms returns the stored charge (idempotent); with other
    terms it raises ``billing.charge_conflict`` (409).

    Errors (nothing written): ``billing.invalid_charge`` (422, naming the field) — unknown
    account or one of another entity, currency not the account's, amount not in ``currency`` or
    not rounded to its minor unit or zero, empty description/reference/tax category, unknown
    revenue category or posting, service end not after its start.
    """
    if not isinstance(amount, Money):
        raise ChargeInvalid("amount must be Money", field="amount")
    if not isinstance(bill_on, date):
        raise ChargeInvalid("bill_on must be a date", field="bill_on")
    account = Account.objects.filter(pk=account_id).values("entity_id", "currency").first()
    if account is None or account["entity_id"] != entity_id:
        raise ChargeInvalid(f"no account {account_id} of entity {entity_id}", field="account_id")
    if currency != account["currency"]:
        raise ChargeInvalid(
            f"the account is billed in {account['currency']}, not {currency}", field="currency"
        )
    if amount.currency != currency:
        raise ChargeInvalid(f"the amount is in {amount.currency}, not {currency}", field="amount")
    if not amount.is_rounded():
        raise ChargeInvalid("the amount must be rounded to the currency's minor unit", field="amount")
    if amount.minor_units() == 0:
        raise ChargeInvalid("the amount must not be zero", field="amount")
    if abs(amount.minor_units()) >= 10**15:
        raise ChargeInvalid("the amount is too large", field="amount")
    qty = to_decimal(quantity, field="quantity")
    if qty <= 0:
        raise ChargeInvalid("quantity must be positive", field="quantity")
    if revenue_category not in {c.value for c in RevenueCategory}:
        raise ChargeInvalid(f"unknown revenue category {revenue_category!r}", field="revenue_category")
    if posting not in {p.value for p in Posting}:
        raise ChargeInvalid(f"unknown posting {posting!r}", field="posting")
    if (service_start is None) != (service_end is None) or (
        service_start is not None and service_end is not None and service_end <= service_start
    ):
        raise ChargeInvalid("a service period needs a start before its (exclusive) end", field="service_end")
    row = Charge(
        entity_id=entity_id,
        account_id=account_id,
        kind=_text(kind, "kind", 20),
        currency=currency,
        description=_text(description, "description", 300),
        detail=_text(detail, "detail", 2000, required=False),
        quantity=qty,
        unit_price=amount.amount / qty,
        amount_minor=amount.minor_units(),
        tax_category=_text(tax_category, "tax_category", 20),
        revenue_category=str(revenue_category),
        posting=str(posting),
        item_id=_text(item_id, "item_id", 64, required=False),
        unit_code=_text(unit_code, "unit_code", 5, required=False) or "C62",
        service_start=service_start,
        service_end=service_end,
        contract_id=contract_id,
        contract_number=_text(contract_number, "contract_number", 40, required=False),
        reference=_text(reference, "reference", 120),
        bill_on=bill_on,
        actor=_actor(actor),
        created_at=clock.now(),
    )
    existing = Charge.objects.filter(
        entity_id=entity_id, account_id=account_id, reference=row.reference
    ).first()
    if existing is not None:
        return _same_or_conflict(existing, row)
    try:
        with transaction.atomic():
            row.save()
            events.record(
                DomainEvent(
                    CHARGE_ADDED,
                    "billing.charge",
                    row.pk,
                    {"account_id": account_id, "reference": row.reference, "amount_minor": row.amount_minor,
                     "currency": currency, "bill_on": bill_on, "kind": row.kind},
                    entity_id=entity_id,
                    actor=row.actor,
                )
            )  # fmt: skip
    except IntegrityError:  # a concurrent call with the same reference won
        existing = Charge.objects.get(entity_id=entity_id, account_id=account_id, reference=row.reference)
        return _same_or_conflict(existing, row)
    return row


def _same_or_conflict(existing: Charge, wanted: Charge) -> Charge:
    if all(getattr(existing, f) == getattr(wanted, f) for f in _SAME):
        return existing
    raise ChargeConflict(f"charge {existing.reference!r} already exists with other terms", field="reference")


def cancel_charge(charge_id: int, *, actor: Any = None) -> None:
    """Remove a charge not yet invoiced. Errors: ``billing.not_found`` (404),
    ``billing.charge_billed`` (409) once an invoice carries it (credit it with a credit note)."""
    with transaction.atomic():
        row = Charge.objects.select_for_update().filter(pk=charge_id).first()
        if row is None:
            raise errors.BillingNotFound(f"no charge {charge_id}", field="charge_id")
        if row.invoice_id is not None:
            raise ChargeConflict("the charge is invoiced: credit it with a credit note", code=CHARGE_BILLED)
        events.record(
            DomainEvent(CHARGE_CANCELLED, "billing.charge", row.pk,
                        {"account_id": row.account_id, "reference": row.reference, "amount_minor": row.amount_minor},
                        entity_id=row.entity_id, actor=_actor(actor))
        )  # fmt: skip
        row.delete()
