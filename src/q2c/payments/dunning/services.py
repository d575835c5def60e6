"""Use cases of dunning and collections: the only code that writes dunning's tables, one
transaction per use case.

- policies: :func:`save_policy` (steps per customer segment; overlapping steps refused),
  :func:`set_segment`;
- the daily job: :func:`run_day` (idempotent per business date; missed days catch up in order
  through ``platform.schedules``) — it closes lapsed promises, then asks the pure engine which
  step every overdue invoice gets and carries it out: the log entry with the document, the
  e-mail (after commit), a late fee and statutory interest as an invoice issued through
  invoicing (taxed and posted like every invoice), a service-suspension event;
- :func:`charge_fee` (a fee by hand; refused on a disputed invoice);
- collections: :func:`record_promise`, :func:`close_promise`, :func:`add_note`;
- payment retries: :func:`save_retry_rule`, :func:`plan_payment_retries`.

Must not import ``q2c.analytics`` or ``q2c.simulation``.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from q2c.core import clock
from q2c.core.errors import DomainError
from q2c.core.money import Money, check_currency, to_decimal
from q2c.parties.models import Account, LegalEntity
from q2c.payments.dunning import engine, errors, receivables, retries
from q2c.payments.dunning import events as ev
from q2c.payments.dunning.engine import Action
from q2c.payments.dunning.models import (
    AccountSegment,
    CollectionNote,
    DunningEntry,
    DunningPolicy,
    DunningRun,
    DunningStep,
    PaymentRetry,
    PromiseToPay,
    RetryRule,
)
from q2c.platform import events
from q2c.platform.events import DomainEvent, enqueue_after_commit
from q2c.tax.categories import TaxCategory

DEFAULT_SEGMENT = "default"
MAX_STEPS = 10
MAX_OFFSET = 365
CHARGE_PREFIX = "dunning:"
#: Fee and interest lines are invoiced as services (the tax engine needs the supply type, which
#: only these categories imply for a hand-made invoice line).
FEE_TAX_CATEGORIES = (TaxCategory.SERVICE.value, TaxCategory.DIGITAL_SERVICE.value)

DEFAULT_TEXT: Mapping[str, tuple[str, str]] = {
    Action.REMINDER: (
        "Payment reminder: invoice {number}",
        "Dear customer,\n\nour invoice {number} of {open_amount} was due on {due_date} and is "
        "{days} days overdue. Perhaps it slipped through: please pay it at your earliest convenience. "
        "If you have paid in the meantime, please disregard this reminder.\n",
    ),
    Action.SECOND_REMINDER: (
        "Second reminder: invoice {number}",
        "Dear customer,\n\ninvoice {number} of {open_amount}, due on {due_date}, is still unpaid "
        "after {days} days. {charges}Please pay it now.\n",
    ),
    Action.SUSPEND_SERVICE: (
        "Service suspended: invoice {number} unpaid",
        "Dear customer,\n\nas invoice {number} of {open_amount} is {days} days overdue, we have "
        "suspended your service. It resumes once the invoice is paid.\n",
    ),
    Action.FINAL_NOTICE: (
        "Final notice: invoice {number}",
        "Dear customer,\n\nthis is our final notice for invoice {number} of {open_amount}, due on "
        "{due_date}. Unless it is paid within 7 days we will hand it over to collections.\n",
    ),
    Action.COLLECTIONS: (
        "Handed over to collections: invoice {number}",
        "Dear customer,\n\ninvoice {number} of {open_amount} is {days} days overdue and has been "
        "handed over to our collections team.\n",
    ),
}


def _actor(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor[:150]
    getter = getattr(actor, "get_username", None)
    return str(getter() if getter else actor)[:150]


# --------------------------------------------------------------------------- policies


def _slug(value: Any, field: str) -> str:
    text = str(value or "").strip()
    if not text or len(text) > 40 or not all(c.isalnum() or c in "-_" for c in text) or not text.isascii():
        raise errors.DunningInvalid("1 to 40 letters, digits, '-' or '_'", field=field)
    return text


def _step(i: int, raw: Mapping[str, Any]) -> tuple[engine.Step, str, str]:
    where = f"steps[{i}]"
    key = _slug(raw.get("key"), f"{where}.key")
    offset = raw.get("offset_days")
    if not isinstance(offset, int) or isinstance(offset, bool) or not 0 <= offset <= MAX_OFFSET:
        raise errors.DunningInvalid(
            f"days after the due date: a whole number from 0 to {MAX_OFFSET}", field=f"{where}.offset_days"
        )
    action = str(raw.get("action") or "")
    if action not in Action._value2member_map_:
        raise errors.DunningInvalid(
            f"the action is one of {', '.join(a.value for a in Action)}", field=f"{where}.action"
        )
    fee = None
    if raw.get("fee") not in (None, "", 0):
        try:
            cur = check_currency(raw.get("currency"))
        except DomainError as exc:
            raise errors.DunningInvalid(
                exc.message, code=errors.INVALID_FEE, field=f"{where}.currency"
            ) from None
        try:
            fee = Money.exact(to_decimal(raw["fee"], field=f"{where}.fee"), cur, field=f"{where}.fee")
        except DomainError as exc:
            raise errors.DunningInvalid(exc.message, code=errors.INVALID_FEE, field=f"{where}.fee") from None
        except TypeError as exc:
            raise errors.DunningInvalid(str(exc), code=errors.INVALID_FEE, field=f"{where}.fee") from None
        if fee.amount <= 0 or fee.amount > 10_000:
            raise errors.DunningInvalid(
                "a fee is above 0 and at most 10,000", code=errors.INVALID_FEE, field=f"{where}.fee"
            )
    subject = str(raw.get("subject") or "")
    body = str(raw.get("body") or "")
    if len(subject) > 200 or len(body) > 5000:
        raise errors.DunningInvalid(
            "a subject of at most 200 and a text of at most 5,000 characters", field=f"{where}.subject"
        )
    for text, name in ((subject, "subject"), (body, "body")):
        try:
            _render(text, number="X", due_date="X", open_amount="X", days="X", charges="X")
        except (KeyError, IndexError, ValueError):
            raise errors.DunningInvalid(
                "the text may use only {number}, {due_date}, {open_amount}, {days} and {charges}",
                field=f"{where}.{name}",
            ) from None
    step = engine.Step(key, offset, Action(action), fee=fee, charge_interest=bool(raw.get("charge_interest")))
    return step, subject, body


def _render(template: str, **values: str) -> str:
    return template.format(**values) if template else ""


def save_policy(
    entity_id: int,
    segment: str,
    *,
    name: str,
    steps: Sequence[Mapping[str, Any]],
    interest_rate: Any = 0,
    fee_tax_category: str = "service",
    active: bool = True,
    actor: Any = None,
) -> DunningPolicy:
    """Create or replace the dunning policy of a customer segment (its steps replaced whole).

    ``steps`` are dicts with ``key``, ``offset_days``, ``action`` and optionally ``fee`` +
    ``currency``, ``charge_interest``, ``subject``, ``body``. Errors (nothing written):
    ``dunning.invalid_policy`` naming the field, ``dunning.overlapping_steps`` (two steps on the
    same day), ``dunning.duplicate_step``, ``dunning.invalid_fee``, ``dunning.not_found``.
    """
    who = _actor(actor)
    if not isinstance(entity_id, int) or not LegalEntity.objects.filter(pk=entity_id).exists():
        raise errors.DunningNotFound(f"no legal entity {entity_id}", field="entity_id")
    seg = _slug(segment, "segment")
    label = str(name or "").strip()
    if not label or len(label) > 120:
        raise errors.DunningInvalid("a name of 1 to 120 characters", field="name")
    if not steps or len(steps) > MAX_STEPS:
        raise errors.DunningInvalid(f"a policy has 1 to {MAX_STEPS} steps", field="steps")
    parsed = [_step(i, raw) for i, raw in enumerate(steps)]
    try:
        rate = to_decimal(interest_rate, field="interest_rate")
    except TypeError as exc:
        raise errors.DunningInvalid(str(exc), field="interest_rate") from None
    if not Decimal(0) <= rate <= Decimal(1):
        raise errors.DunningInvalid("an annual rate from 0 to 1 (0.1127 = 11.27 %)", field="interest_rate")
    if fee_tax_category not in FEE_TAX_CATEGORIES:
        raise errors.DunningInvalid(
            f"the tax category of fee lines is one of {', '.join(FEE_TAX_CATEGORIES)}",
            field="fee_tax_category",
        )
    ordered = sorted(parsed, key=lambda p: p[0].offset_days)
    engine.Policy(label, tuple(p[0] for p in ordered), rate)  # refuses overlapping or duplicate steps
    now = clock.now()
    with transaction.atomic():
        policy, _ = DunningPolicy.objects.update_or_create(
            entity_id=entity_id,
            segment=seg,
            defaults={"name": label, "interest_rate": rate, "fee_tax_category": fee_tax_category,
                      "active": bool(active), "updated_at": now, "updated_by": who},
            create_defaults={"name": label, "interest_rate": rate, "fee_tax_category": fee_tax_category,
                             "active": bool(active), "created_at": now, "updated_at": now, "updated_by": who},
        )  # fmt: skip
        DunningStep.objects.filter(policy=policy).delete()
        DunningStep.objects.bulk_create(
            [
                DunningStep(  # type: ignore[misc]
                    policy=policy, position=i + 1, key=s.key, offset_days=s.offset_days, action=s.action.value,
                    currency=s.fee.currency if s.fee else "", fee=s.fee, charge_interest=s.charge_interest,
                    subject=subject, body=body,
                )
                for i, (s, subject, body) in enumerate(ordered)
            ]
        )  # fmt: skip
        events.record(
            DomainEvent(ev.POLICY_SAVED, "payments_dunning.policy", policy.pk,
                        {"segment": seg, "steps": [(s.key, s.offset_days, s.action.value) for s, _, _ in ordered]},
                        entity_id=entity_id, actor=who)
        )  # fmt: skip
    return policy


def set_segment(account_id: int, segment: str, *, actor: Any = None) -> AccountSegment:
    """Put a customer in a dunning segment. Errors: ``dunning.not_found``, ``dunning.invalid_policy``."""
    seg = _slug(segment, "segment")
    if not isinstance(account_id, int) or not Account.objects.filter(pk=account_id).exists():
        raise errors.DunningNotFound(f"no customer account {account_id}", field="account_id")
    with transaction.atomic():
        row, _ = AccountSegment.objects.update_or_create(account_id=account_id, defaults={"segment": seg})
    return row


@dataclass(frozen=True)
class LoadedPolicy:
    row: DunningPolicy
    policy: engine.Policy
    texts: Mapping[str, tuple[str, str]]  # step key → (subject, body) as configured


def _load_policies(entity_ids: set[int]) -> dict[tuple[int, str], LoadedPolicy]:
    rows = list(DunningPolicy.objects.filter(entity_id__in=entity_ids, active=True))
    steps: dict[int, list[DunningStep]] = defaultdict(list)
    for s in DunningStep.objects.filter(policy__in=rows).order_by("policy_id", "position"):
        steps[s.policy_id].append(s)
    out = {}
    for row in rows:
        mine = steps.get(row.pk, [])
        if not mine:
            continue
        policy = engine.Policy(
            row.name,
            tuple(
                engine.Step(s.key, s.offset_days, Action(s.action), fee=s.fee if s.currency else None,
                            charge_interest=s.charge_interest)
                for s in mine
            ),
            row.interest_rate,
        )  # fmt: skip
        out[(row.entity_id, row.segment)] = LoadedPolicy(
            row, policy, {s.key: (s.subject, s.body) for s in mine}
        )
    return out


def segments_of(account_ids: set[int]) -> dict[int, str]:
    """Each account's segment: the one set, else its kind (``business`` / ``consumer``)."""
    chosen = dict(
        AccountSegment.objects.filter(account_id__in=account_ids).values_list("account_id", "segment")
    )
    kinds = dict(Account.objects.filter(pk__in=account_ids).values_list("pk", "kind"))
    return {a: chosen.get(a) or kinds.get(a) or DEFAULT_SEGMENT for a in account_ids}


def _policy_for(
    policies: Mapping[tuple[int, str], LoadedPolicy], entity_id: int, segment: str
) -> LoadedPolicy | None:
    return policies.get((entity_id, segment)) or policies.get((entity_id, DEFAULT_SEGMENT))


# --------------------------------------------------------------------------- promises and notes


def _open_promises(account_ids: set[int]) -> list[PromiseToPay]:
    return list(PromiseToPay.objects.filter(account_id__in=account_ids, status=PromiseToPay.Status.OPEN))


def record_promise(
    account_id: int,
    *,
    promised_date: date,
    amount: Any,
    currency: str | None = None,
    invoice_ids: Sequence[int] | None = None,
    notes: str = "",
    next_action: str = "",
    actor: Any = None,
) -> PromiseToPay:
    """Record a customer's promise to pay ``amount`` by ``promised_date``: dunning of the
    invoices named (default: all the account's overdue ones) pauses up to and including that date.

    Errors (nothing written): ``dunning.promise_date_past`` (before today), ``dunning.invalid_promise``
    (amount not positive, wrong currency, invoice not an open invoice of the account, too far
    ahead), ``dunning.invoice_disputed`` (409), ``dunning.not_found``.
    """
    who = _actor(actor)
    account = Account.objects.filter(pk=account_id).first() if isinstance(account_id, int) else None
    if account is None:
        raise errors.DunningNotFound(f"no customer account {account_id}", field="account_id")
    today = clock.today()
    if not isinstance(promised_date, date):
        raise errors.DunningInvalid("a date", code=errors.INVALID_PROMISE, field="promised_date")
    if promised_date < today:
        raise errors.DunningInvalid(
            f"the promised date {promised_date} is in the past (today is {today})",
            code=errors.PROMISE_IN_PAST,
            field="promised_date",
        )
    if (promised_date - today).days > 180:
        raise errors.DunningInvalid(
            "a promise to pay reaches at most 180 days ahead",
            code=errors.INVALID_PROMISE,
            field="promised_date",
        )
    cur = currency or account.currency
    try:
        cur = check_currency(cur)
        money = Money.exact(to_decimal(amount), cur)
    except DomainError as exc:
        raise errors.DunningInvalid(exc.message, code=errors.INVALID_PROMISE, field="amount") from None
    except TypeError as exc:
        raise errors.DunningInvalid(str(exc), code=errors.INVALID_PROMISE, field="amount") from None
    if money.amount <= 0:
        raise errors.DunningInvalid(
            "a promise is for a positive amount", code=errors.INVALID_PROMISE, field="amount"
        )
    if invoice_ids:
        if (
            not all(isinstance(i, int) and not isinstance(i, bool) for i in invoice_ids)
            or len(invoice_ids) > 500
        ):
            raise errors.DunningInvalid(
                "invoice ids are whole numbers", code=errors.INVALID_PROMISE, field="invoice_ids"
            )
        found = receivables.open_invoices(invoice_ids, account_id=account.pk)
        wrong = sorted(i for i in set(invoice_ids) if i not in found)
        if wrong:
            raise errors.DunningInvalid(
                f"not open invoices of this customer: {', '.join(map(str, wrong))}",
                code=errors.INVALID_PROMISE,
                field="invoice_ids",
            )
        ids = sorted(set(invoice_ids))
        currencies = {found[i].currency for i in ids}
        if any(found[i].disputed for i in ids):
            raise errors.DunningConflict(
                "a disputed invoice is settled through its dispute, not a promise to pay",
                code=errors.INVOICE_DISPUTED,
                field="invoice_ids",
            )
    else:
        items = [i for i in receivables.overdue(today, account_id=account.pk) if not i.disputed]
        ids = [i.invoice_id for i in items]
        currencies = {i.currency for i in items}
        if not ids:
            raise errors.DunningInvalid(
                "the customer has no overdue invoice to promise for",
                code=errors.INVALID_PROMISE,
                field="invoice_ids",
            )
    if currencies and currencies != {cur}:
        raise errors.DunningInvalid(
            f"the invoices are in {', '.join(sorted(currencies))}, the promise in {cur}",
            code=errors.INVALID_PROMISE,
            field="currency",
        )
    now = clock.now()
    with transaction.atomic():
        promise = PromiseToPay.objects.create(  # type: ignore[misc]
            entity_id=account.entity_id, account=account, invoice_ids=ids, promised_date=promised_date,
            currency=cur, amount=money, notes=str(notes or "")[:4000], recorded_on=today,
            created_at=now, created_by=who,
        )  # fmt: skip
        if next_action or notes:
            CollectionNote.objects.create(
                entity_id=account.entity_id, account=account, text=str(notes or "")[:4000],
                next_action=str(next_action or "")[:200] or f"check payment promised for {promised_date}",
                next_action_on=promised_date, created_on=today, created_at=now, created_by=who,
            )  # fmt: skip
        events.record(
            DomainEvent(ev.PROMISE_RECORDED, "payments_dunning.promise", promise.pk,
                        {"account_id": account.pk, "invoice_ids": ids, "promised_date": promised_date,
                         "amount": money}, entity_id=account.entity_id, actor=who)
        )  # fmt: skip
    return promise


def close_promise(promise_id: int, *, status: str = "cancelled", actor: Any = None) -> PromiseToPay:
    """Close an open promise by hand (``cancelled``, ``kept`` or ``broken``); dunning resumes on
    the next run. Errors: ``dunning.not_found``, ``dunning.promise_closed`` (409)."""
    who = _actor(actor)
    if status not in {PromiseToPay.Status.CANCELLED, PromiseToPay.Status.KEPT, PromiseToPay.Status.BROKEN}:
        raise errors.DunningInvalid(
            "close as cancelled, kept or broken", code=errors.INVALID_PROMISE, field="status"
        )
    with transaction.atomic():
        promise = PromiseToPay.objects.select_for_update().filter(pk=promise_id).first()
        if promise is None:
            raise errors.DunningNotFound(f"no promise to pay {promise_id}", field="promise_id")
        if promise.status != PromiseToPay.Status.OPEN:
            raise errors.DunningConflict(
                f"the promise is already {promise.status}", code=errors.PROMISE_CLOSED, field="status"
            )
        _close(promise, status, clock.today(), who)
    return promise


def _close(promise: PromiseToPay, status: str, on: date, who: str) -> None:
    promise.status = status
    promise.closed_on = on
    promise.save(update_fields=["status", "closed_on"])
    events.record(
        DomainEvent(ev.PROMISE_CLOSED, "payments_dunning.promise", promise.pk,
                    {"account_id": promise.account_id, "status": status, "on": on},
                    entity_id=promise.entity_id, actor=who)
    )  # fmt: skip


def add_note(
    account_id: int,
    *,
    text: str = "",
    next_action: str = "",
    next_action_on: date | None = None,
    actor: Any = None,
) -> CollectionNote:
    """A collector's note and next action on an account. Errors: ``dunning.invalid_note``, ``dunning.not_found``."""
    who = _actor(actor)
    account = Account.objects.filter(pk=account_id).first() if isinstance(account_id, int) else None
    if account is None:
        raise errors.DunningNotFound(f"no customer account {account_id}", field="account_id")
    text, next_action = str(text or "").strip(), str(next_action or "").strip()
    if not text and not next_action:
        raise errors.DunningInvalid("write a note or a next action", code=errors.INVALID_NOTE, field="text")
    if len(text) > 4000 or len(next_action) > 200:
        raise errors.DunningInvalid("a note of at most 4,000 and a next action of at most 200 characters",
                                    code=errors.INVALID_NOTE, field="text")  # fmt: skip
    today = clock.today()
    if next_action_on is not None and next_action_on < today:
        raise errors.DunningInvalid(
            "the next action's date is in the past", code=errors.INVALID_NOTE, field="next_action_on"
        )
    with transaction.atomic():
        note = CollectionNote.objects.create(
            entity_id=account.entity_id, account=account, text=text, next_action=next_action,
            next_action_on=next_action_on, created_on=today, created_at=clock.now(), created_by=who,
        )  # fmt: skip
        events.record(DomainEvent(ev.NOTE_ADDED, "payments_dunning.note", note.pk,
                                  {"account_id": account.pk, "next_action": next_action, "next_action_on": next_action_on},
                                  entity_id=account.entity_id, actor=who))  # fmt: skip
    return note


# --------------------------------------------------------------------------- fees


def _charge(
    item: receivables.OpenInvoice, fee: Money | None, interest: Money | None, key: str, day: date,
    tax_category: str, rate: Decimal, who: str,
) -> list[int]:  # fmt: skip
    """The fee and the interest as one-off charges on the account's next invoice (billing's
    ``add_charge``: taxed and posted by the bill run like every line). Idempotent per reference."""
    from q2c.billing.services import add_charge

    made = []
    if fee is not None and fee.amount > 0:
        made.append(add_charge(
            item.entity_id, item.account_id, item.currency, f"Late-payment fee for invoice {item.number}", fee,
            tax_category, f"{CHARGE_PREFIX}fee:{item.number}:{key}", day, actor=who,
        ).pk)  # fmt: skip
    if interest is not None and interest.amount > 0:
        made.append(add_charge(
            item.entity_id, item.account_id, item.currency,
            f"Interest on invoice {item.number} at {rate * 100:.2f} % p.a., {item.due_date} to {day}", interest,
            tax_category, f"{CHARGE_PREFIX}interest:{item.number}:{key}", day, actor=who,
        ).pk)  # fmt: skip
    return made


def charge_fee(
    invoice_id: int, *, fee: Any = None, interest_until: date | None = None, actor: Any = None
) -> DunningEntry:
    """Charge a late fee (and/or interest to ``interest_until``) on an overdue invoice by hand.

    Errors (nothing written): ``dunning.invoice_disputed`` (409), ``dunning.invoice_not_open``,
    ``dunning.invalid_fee``, ``dunning.not_found`` (no invoice, or no policy for its customer).
    """
    who = _actor(actor)
    found = receivables.open_invoices([invoice_id]) if isinstance(invoice_id, int) else {}
    item = found.get(invoice_id) if isinstance(invoice_id, int) else None
    if item is None:
        raise errors.DunningInvalid(
            f"invoice {invoice_id} is not an open invoice", code=errors.INVOICE_NOT_OPEN, field="invoice_id"
        )
    if item.disputed:
        raise errors.DunningConflict(
            f"invoice {item.number} is disputed: no fee while the dispute is open",
            code=errors.INVOICE_DISPUTED, field="invoice_id",
        )  # fmt: skip
    today = clock.today()
    if today <= item.due_date:
        raise errors.DunningInvalid(
            f"invoice {item.number} is not overdue", code=errors.INVOICE_NOT_OPEN, field="invoice_id"
        )
    policies = _load_policies({item.entity_id})
    loaded = _policy_for(policies, item.entity_id, segments_of({item.account_id})[item.account_id])
    if loaded is None:
        raise errors.DunningNotFound("no dunning policy for this customer's segment", field="invoice_id")
    money = None
    if fee not in (None, "", 0):
        try:
            money = Money.exact(to_decimal(fee, field="fee"), item.currency, field="fee")
        except DomainError as exc:
            raise errors.DunningInvalid(exc.message, code=errors.INVALID_FEE, field="fee") from None
        except TypeError as exc:
            raise errors.DunningInvalid(str(exc), code=errors.INVALID_FEE, field="fee") from None
        if money.amount <= 0 or money.amount > 10_000:
            raise errors.DunningInvalid(
                "a fee is above 0 and at most 10,000", code=errors.INVALID_FEE, field="fee"
            )
    interest = None
    if interest_until is not None:
        if interest_until > today or interest_until <= item.due_date:
            raise errors.DunningInvalid("interest runs from the due date to a day up to today",
                                        code=errors.INVALID_FEE, field="interest_until")  # fmt: skip
        interest = engine.late_interest(Money.from_minor(item.open_minor, item.currency),
                                        loaded.policy.interest_rate, item.due_date, interest_until)  # fmt: skip
    if money is None and (interest is None or interest.amount <= 0):
        raise errors.DunningInvalid(
            "nothing to charge: give a fee or an interest date", code=errors.INVALID_FEE, field="fee"
        )
    key = f"manual-{clock.now().strftime('%Y%m%d%H%M%S%f')}"[:40]
    with transaction.atomic():
        charges = _charge(item, money, interest, key, today, loaded.row.fee_tax_category,
                          loaded.policy.interest_rate, who)  # fmt: skip
        entry = DunningEntry.objects.create(  # type: ignore[misc]
            entity_id=item.entity_id, account_id=item.account_id, invoice_id=item.invoice_id,
            invoice_number=item.number, policy=loaded.row, step_key=key, action="fee",
            status=DunningEntry.Status.DONE, business_date=today, days_overdue=(today - item.due_date).days,
            currency=item.currency, open_amount=Money.from_minor(item.open_minor, item.currency),
            fee=money or Money.zero(item.currency), interest=interest or Money.zero(item.currency),
            charge_ids=charges, created_at=clock.now(),
        )  # fmt: skip
        events.record(DomainEvent(ev.FEE_CHARGED, "payments_dunning.entry", entry.pk,
                                  {"invoice_id": item.invoice_id, "fee": entry.fee, "interest": entry.interest,
                                   "charge_ids": charges, "step": "manual"},
                                  entity_id=item.entity_id, actor=who))  # fmt: skip
    return entry


# --------------------------------------------------------------------------- the daily job


def _emails(account_ids: set[int]) -> dict[int, str]:
    from q2c.invoicing.partydata import billing_emails

    direct = {
        a: e for a, e in Account.objects.filter(pk__in=account_ids).values_list("pk", "invoice_email") if e
    }
    contacts = billing_emails(account_ids - set(direct))
    return {**contacts, **direct}


def _lapse_promises(day: date, who: str) -> int:
    """Close open promises whose date has passed: kept when their invoices are paid, else broken."""
    closed = 0
    lapsed = list(PromiseToPay.objects.filter(status=PromiseToPay.Status.OPEN, promised_date__lt=day))
    if not lapsed:
        return 0
    still_open: dict[int, receivables.OpenInvoice] = {}
    for account_id in sorted({p.account_id for p in lapsed}):
        ids = {i for p in lapsed if p.account_id == account_id for i in p.invoice_ids}
        still_open.update(receivables.open_invoices(ids, account_id=account_id))
    for promise in lapsed:
        with transaction.atomic():
            kept = not any(i in still_open for i in promise.invoice_ids)
            _close(promise, PromiseToPay.Status.KEPT if kept else PromiseToPay.Status.BROKEN, day, who)
            closed += 1
    return closed


def run_day(day: date, *, actor: Any = "dunning") -> dict[str, Any]:
    """The daily dunning job for business date ``day`` (every entity).

    Idempotent: a step already logged for an invoice is never repeated, so rerunning a date does
    nothing new. Run for missed dates in order (``platform.schedules`` does), each invoice gets
    only the most advanced step due — earlier ones are logged as skipped, never sent late. Each
    invoice's step is one transaction (log entry, fee invoice, events); e-mails leave after commit.
    Due payment retries are carried out first (:func:`run_retries`).
    Returns counts: ``actions``, ``skipped``, ``paused``, ``fees``, ``promises_closed``,
    ``retries``, ``retries_cancelled``, ``new_method_requests``.
    """
    who = _actor(actor)
    now = clock.now()
    today = clock.today()
    DunningRun.objects.get_or_create(business_date=day, defaults={"started_at": now})
    promises_closed = _lapse_promises(day, who)
    retried = run_retries(day, actor=who)
    items = receivables.overdue(day)
    if not items:
        return _finish(
            day, {"actions": 0, "skipped": 0, "paused": 0, "fees": 0, "promises_closed": promises_closed}
        )
    ids = [i.invoice_id for i in items]
    done: dict[int, set[str]] = defaultdict(set)
    for invoice_id, key in DunningEntry.objects.filter(invoice_id__in=ids).values_list(
        "invoice_id", "step_key"
    ):
        done[invoice_id].add(key)
    disputed = {i.invoice_id for i in items if i.disputed}
    promise_until: dict[int, date] = {}
    for p in _open_promises({i.account_id for i in items}):
        for invoice_id in p.invoice_ids:
            promise_until[invoice_id] = max(promise_until.get(invoice_id, p.promised_date), p.promised_date)
    from q2c.billing.models import Charge

    # No fee or interest on an invoice that carries dunning charges (no interest on interest).
    fee_invoices = set(
        Charge.objects.filter(invoice_id__in=ids, reference__startswith=CHARGE_PREFIX).values_list(
            "invoice_id", flat=True
        )
    )
    policies = _load_policies({i.entity_id for i in items})
    segments = segments_of({i.account_id for i in items})
    emails = _emails({i.account_id for i in items})
    counts = {
        "actions": 0,
        "skipped": 0,
        "paused": 0,
        "fees": 0,
        "promises_closed": promises_closed,
        **retried,
    }
    for item in items:
        loaded = _policy_for(policies, item.entity_id, segments[item.account_id])
        if loaded is None:
            continue
        decision = engine.due_steps(loaded.policy, item_of(item, done, disputed, promise_until), day)
        if decision.paused_by:
            counts["paused"] += 1
            continue
        if decision.step is None:
            continue
        if day < today:
            # A missed day caught up: a step already overtaken by a later one due by today is
            # logged as skipped, not sent (no stale first reminder beside the second).
            latest = engine.due_steps(loaded.policy, item_of(item, done, disputed, promise_until), today)
            if latest.step is not None and latest.step.key != decision.step.key:
                decision = engine.Decision(item.invoice_id, None, (*decision.skipped, decision.step))
        try:
            fee = _carry_out(day, item, loaded, decision, emails.get(item.account_id, ""),
                             no_fee=item.invoice_id in fee_invoices, who=who)  # fmt: skip
        except IntegrityError:
            continue  # another run logged this step first
        counts["actions"] += decision.step is not None
        counts["skipped"] += len(decision.skipped)
        counts["fees"] += fee
    return _finish(day, counts)


def run_date(day: Any, *, actor: Any = None) -> dict[str, Any]:
    """Run the job for one business date by hand (finance's button, the API). Errors:
    ``dunning.invalid_date`` for a date after today (a reminder is never sent ahead of time)."""
    if not isinstance(day, date):
        raise errors.DunningInvalid("a business date", code=errors.INVALID_DATE, field="business_date")
    today = clock.today()
    if day > today:
        raise errors.DunningInvalid(
            f"{day} is after today ({today})", code=errors.INVALID_DATE, field="business_date"
        )
    return run_day(day, actor=_actor(actor) or "dunning")


def item_of(
    item: receivables.OpenInvoice,
    done: Mapping[int, set[str]],
    disputed: set[int],
    promise_until: Mapping[int, date],
) -> engine.OpenItem:
    return engine.OpenItem(
        item.invoice_id, item.due_date, Money.from_minor(item.open_minor, item.currency),
        frozenset(done.get(item.invoice_id, ())), item.invoice_id in disputed, promise_until.get(item.invoice_id),
    )  # fmt: skip


def _finish(day: date, counts: dict[str, Any]) -> dict[str, Any]:
    with transaction.atomic():
        run = DunningRun.objects.select_for_update().get(business_date=day)
        total = {k: int(run.result.get(k, 0)) + int(v) for k, v in counts.items()}
        run.result, run.finished_at = total, clock.now()
        run.save(update_fields=["result", "finished_at"])
    return counts


def _carry_out(
    day: date,
    item: receivables.OpenInvoice,
    loaded: LoadedPolicy,
    decision: engine.Decision,
    email: str,
    *,
    no_fee: bool,
    who: str,
) -> int:
    currency = item.currency
    if decision.step is None:
        _log_skipped(day, item, loaded, decision.skipped, who)
        return 0
    step = decision.step
    open_amount = Money.from_minor(item.open_minor, currency)
    days = (day - item.due_date).days
    fee = step.fee if (step.fee is not None and step.fee.currency == currency and not no_fee) else None
    interest = None
    if step.charge_interest and loaded.policy.interest_rate > 0 and not no_fee:
        interest = engine.late_interest(open_amount, loaded.policy.interest_rate, item.due_date, day)
    charge_text = ""
    if fee is not None:
        charge_text += f"We have charged a late-payment fee of {fee}. "
    if interest is not None and interest.amount > 0:
        charge_text += (
            f"Interest of {interest} at {loaded.policy.interest_rate * 100:.2f} % p.a. to {day} is charged. "
        )
    subject_t, body_t = loaded.texts.get(step.key, ("", ""))
    default_subject, default_body = DEFAULT_TEXT[step.action]
    values = {"number": item.number, "due_date": item.due_date.isoformat(), "open_amount": str(open_amount),
              "days": str(days), "charges": charge_text}  # fmt: skip
    subject = _render(subject_t or default_subject, **values)[:200]
    body = _render(body_t or default_body, **values)
    now = clock.now()
    with transaction.atomic():
        _log_skipped(day, item, loaded, decision.skipped, who)
        entry = DunningEntry(  # type: ignore[misc]
            entity_id=item.entity_id, account_id=item.account_id, invoice_id=item.invoice_id,
            invoice_number=item.number, policy=loaded.row, step_key=step.key, action=step.action.value,
            status=DunningEntry.Status.DONE, business_date=day, days_overdue=days, currency=currency,
            open_amount=open_amount, fee=fee or Money.zero(currency), interest=interest or Money.zero(currency),
            email_to=email[:300], subject=subject, body=body,
            document_sha256=hashlib.sha256(f"{email}\n{subject}\n\n{body}".encode()).hexdigest(),
            mail=DunningEntry.Mail.QUEUED if email else DunningEntry.Mail.NONE, created_at=now,
        )  # fmt: skip
        entry.save(force_insert=True)
        charges = _charge(item, fee, interest, step.key, day, loaded.row.fee_tax_category,
                          loaded.policy.interest_rate, who)  # fmt: skip
        if charges:
            entry.charge_ids = charges
            entry.save(update_fields=["charge_ids"])
        base = {"invoice_id": item.invoice_id, "number": item.number, "account_id": item.account_id,
                "step": step.key, "action": step.action.value, "business_date": day, "days_overdue": days,
                "open_amount": open_amount}  # fmt: skip
        out = []
        out.append(DomainEvent(ev.REMINDER_SENT, "payments_dunning.entry", entry.pk,
                               {**base, "to": email, "subject": subject, "document_sha256": entry.document_sha256},
                               entity_id=item.entity_id, actor=who))  # fmt: skip
        if charges:
            out.append(DomainEvent(ev.FEE_CHARGED, "payments_dunning.entry", entry.pk,
                                   {**base, "fee": entry.fee, "interest": entry.interest, "charge_ids": charges},
                                   entity_id=item.entity_id, actor=who))  # fmt: skip
        if step.action == Action.SUSPEND_SERVICE:
            out.append(DomainEvent(ev.SERVICE_SUSPENDED, "parties.account", item.account_id, base,
                                   entity_id=item.entity_id, actor=who))  # fmt: skip
        if step.action == Action.COLLECTIONS:
            out.append(DomainEvent(ev.HANDED_TO_COLLECTIONS, "parties.account", item.account_id, base,
                                   entity_id=item.entity_id, actor=who))  # fmt: skip
        events.record_many(out)
        if email:
            from q2c.payments.dunning.tasks import send_reminder

            enqueue_after_commit(send_reminder, entry.pk)
    return 1 if charges else 0


def _log_skipped(
    day: date, item: receivables.OpenInvoice, loaded: LoadedPolicy, steps: Sequence[engine.Step], who: str
) -> None:
    """Log steps overtaken by a later one (no e-mail, no fee), in the caller's transaction."""
    if not steps:
        return
    currency, days, now = item.currency, (day - item.due_date).days, clock.now()
    open_amount = Money.from_minor(item.open_minor, currency)
    with transaction.atomic():
        out = []
        for s in steps:
            entry = DunningEntry(  # type: ignore[misc]
                entity_id=item.entity_id, account_id=item.account_id, invoice_id=item.invoice_id,
                invoice_number=item.number, policy=loaded.row, step_key=s.key, action=s.action.value,
                status=DunningEntry.Status.SKIPPED, business_date=day, days_overdue=days, currency=currency,
                open_amount=open_amount, fee=Money.zero(currency), interest=Money.zero(currency), created_at=now,
            )  # fmt: skip
            entry.save(force_insert=True)
            out.append(DomainEvent(ev.STEP_SKIPPED, "payments_dunning.entry", entry.pk,
                                   {"invoice_id": item.invoice_id, "number": item.number, "step": s.key,
                                    "action": s.action.value, "business_date": day},
                                   entity_id=item.entity_id, actor=who))  # fmt: skip
        events.record_many(out)


# --------------------------------------------------------------------------- payment retries


def retry_rules(entity_id: int, segment: str) -> list[retries.RetryRule]:
    """The seller's rules for a segment: its own rows (segment, then ``default``) over the defaults."""
    rows = RetryRule.objects.filter(entity_id=entity_id, segment__in=[segment, DEFAULT_SEGMENT])
    mine: dict[tuple[str, str], retries.RetryRule] = {(r.method, r.reason): r for r in retries.DEFAULT_RULES}
    for seg in (DEFAULT_SEGMENT, segment):
        for r in rows:
            if r.segment == seg:
                mine[(r.method, r.reason)] = retries.RetryRule(
                    r.method, r.reason, retries.RetryAction(r.action), tuple(r.retry_days)
                )
    return list(mine.values())


def save_retry_rule(
    entity_id: int, *, segment: str = DEFAULT_SEGMENT, method: str, reason: str, action: str,
    retry_days: Sequence[int] = (), actor: Any = None,
) -> RetryRule:  # fmt: skip
    """Set what a failure reason leads to for a segment. Errors: ``dunning.invalid_retry_rule``, ``dunning.not_found``."""
    if not isinstance(entity_id, int) or not LegalEntity.objects.filter(pk=entity_id).exists():
        raise errors.DunningNotFound(f"no legal entity {entity_id}", field="entity_id")
    seg = _slug(segment, "segment")
    if action not in retries.RetryAction._value2member_map_:
        raise retries.RetryError(
            f"the action is one of {', '.join(a.value for a in retries.RetryAction)}", field="action"
        )
    rule = retries.RetryRule(method, _slug(reason, "reason"), retries.RetryAction(action), tuple(retry_days))
    with transaction.atomic():
        row, _ = RetryRule.objects.update_or_create(
            entity_id=entity_id, segment=seg, method=rule.method, reason=rule.reason,
            defaults={"action": rule.action.value, "retry_days": list(rule.retry_days)},
        )  # fmt: skip
    return row


def plan_payment_retries(
    *, payment_id: int, account_id: int, method: str, reason: str, failed_on: date, invoice_id: int | None = None,
    actor: Any = None,
) -> list[PaymentRetry]:  # fmt: skip
    """Plan the retries of a failed payment by its failure reason and the customer's segment
    (called by the handler of the payments app's failed-payment event). Idempotent per payment."""
    who = _actor(actor)
    account = Account.objects.get(pk=account_id)
    segment = segments_of({account_id})[account_id]
    planned = retries.plan_retries(retry_rules(account.entity_id, segment), method, reason, failed_on)
    now = clock.now()
    rows = [
        PaymentRetry(entity_id=account.entity_id, account_id=account_id, payment_id=payment_id, invoice_id=invoice_id,
                     method=method, reason=reason[:40], attempt=p.attempt, action=p.action.value, due_on=p.due_on,
                     created_at=now)
        for p in planned
    ]  # fmt: skip
    with transaction.atomic():
        PaymentRetry.objects.bulk_create(rows, ignore_conflicts=True)
        for p in planned:
            kind = (
                ev.NEW_METHOD_REQUESTED
                if p.action == retries.RetryAction.ASK_NEW_METHOD
                else ev.RETRY_PLANNED
            )
            events.record(DomainEvent(kind, "payments_dunning.payment", payment_id,
                                      {"payment_id": payment_id, "account_id": account_id, "reason": reason,
                                       "attempt": p.attempt, "due_on": p.due_on},
                                      entity_id=account.entity_id, actor=who))  # fmt: skip
    return list(PaymentRetry.objects.filter(payment_id=payment_id).order_by("attempt"))


def run_retries(day: date, *, actor: Any = "dunning") -> dict[str, int]:
    """Carry out the payment retries due on or before ``day`` (part of the daily job).

    A retry submits a new pending payment by the same method (and mandate) for what is still
    open on the account, at most the failed amount, with the external id ``retry:<payment>:<n>``
    (unique: a rerun cannot submit it twice); nothing open → the retry is cancelled. An
    ``ask_new_method`` step e-mails the customer for a new payment method. One transaction each.
    """
    from q2c.payments import services as payments
    from q2c.payments.dunning.tasks import send_new_method_request
    from q2c.payments.models import Payment

    who = _actor(actor)
    due = list(
        PaymentRetry.objects.filter(status=PaymentRetry.Status.PLANNED, due_on__lte=day).order_by(
            "due_on", "id"
        )
    )
    if not due:
        return {"retries": 0, "retries_cancelled": 0, "new_method_requests": 0}
    originals = {p.pk: p for p in Payment.objects.filter(pk__in={r.payment_id for r in due})}
    open_by_account: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    counts = {"retries": 0, "retries_cancelled": 0, "new_method_requests": 0}
    for retry in due:
        original = originals.get(retry.payment_id)
        with transaction.atomic():
            row = PaymentRetry.objects.select_for_update().get(pk=retry.pk)
            if row.status != PaymentRetry.Status.PLANNED:
                continue
            if row.action == retries.RetryAction.ASK_NEW_METHOD:
                row.status, row.done_on, row.outcome = (
                    PaymentRetry.Status.DONE,
                    day,
                    "new payment method requested",
                )
                row.save(update_fields=["status", "done_on", "outcome"])
                events.record(DomainEvent(ev.NEW_METHOD_REQUESTED, "payments_dunning.payment", row.payment_id,
                                          {"payment_id": row.payment_id, "account_id": row.account_id,
                                           "reason": row.reason}, entity_id=row.entity_id, actor=who))  # fmt: skip
                enqueue_after_commit(send_new_method_request, row.pk)
                counts["new_method_requests"] += 1
                continue
            if original is None:
                continue
            if row.account_id not in open_by_account:
                for i in receivables.overdue(date.max, account_id=row.account_id):
                    open_by_account[row.account_id][i.currency] += i.open_minor
            left = open_by_account[row.account_id].get(original.currency, 0)
            amount = min(left, int(original.amount_minor))  # type: ignore[attr-defined]
            if amount <= 0:
                row.status, row.done_on, row.outcome = (
                    PaymentRetry.Status.CANCELLED,
                    day,
                    "nothing open any more",
                )
                row.save(update_fields=["status", "done_on", "outcome"])
                counts["retries_cancelled"] += 1
                continue
            payment = payments.record_payment(
                row.account_id, Money.from_minor(amount, original.currency), method=original.method,
                received_on=day, pending=True, external_id=f"retry:{row.payment_id}:{row.attempt}",
                mandate_id=original.mandate_id, reference=f"retry {row.attempt} of {original.number}", actor=who,
            )  # fmt: skip
            open_by_account[row.account_id][original.currency] -= amount
            row.status, row.done_on, row.outcome = (
                PaymentRetry.Status.DONE,
                day,
                f"submitted as {payment.number}",
            )
            row.save(update_fields=["status", "done_on", "outcome"])
            counts["retries"] += 1
    return counts
