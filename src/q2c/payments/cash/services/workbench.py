"""The workbench: what a person does with a line the matcher did not apply.

- :func:`accept` — apply the matcher's proposal (or one of its alternatives) as it stands;
- :func:`apply_manual` — apply the line to invoices a person names, with amounts (a split over
  several invoices, a reassignment to another customer's invoice, a bank fee within tolerance);
  what is not applied stays on the payment as the customer's credit;
- :func:`mark_not_ours` — the line is not accounts receivable (a tax refund, an internal
  transfer): it leaves the queue with the person's note.

Each is one transaction: the line is locked, checked to be unresolved (``payments_cash.
already_resolved``, 409, otherwise — a second click never pays twice), applied through the same
path as automatic matches (:mod:`q2c.payments.cash.services.apply`), and stamped with who did it.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from q2c.core import clock
from q2c.core.money import Money, currency_exponent
from q2c.invoicing.models import Invoice
from q2c.payments.cash import errors
from q2c.payments.cash.models import UNRESOLVED, BankLine, CashAccount, LineState
from q2c.payments.cash.services import apply as applying
from q2c.payments.cash.services.importing import actor_name
from q2c.payments.cash.services.matching import OPEN, proposal_dict
from q2c.payments.matching import Application, Proposal, Reason
from q2c.payments.matching import BankLine as MatchLine

MAX_ALLOCATIONS = 50
MAX_NOTE = 500


def _lock(line_id: int) -> BankLine:
    if not isinstance(line_id, int) or isinstance(line_id, bool):
        raise errors.CashNotFound(f"no bank line {line_id}", field="line_id")
    line = BankLine.objects.select_for_update().filter(pk=line_id).first()
    if line is None:
        raise errors.CashNotFound(f"no bank line {line_id}", field="line_id")
    if line.state not in UNRESOLVED:
        raise errors.CashConflict(
            f"bank line {line_id} is {line.state.replace('_', ' ')}; nothing more to do on it",
            code=errors.ALREADY_RESOLVED,
            field="state",
        )
    if line.amount_minor <= 0 or line.booking_status != "BOOK":  # type: ignore[attr-defined]
        raise errors.CashInvalid(
            "only booked money in can be applied to invoices", code=errors.NOT_APPLICABLE, field="line_id"
        )
    return line


def _match_line(line: BankLine) -> MatchLine:
    return MatchLine(
        line_id=str(line.pk),
        amount_minor=int(line.amount_minor),  # type: ignore[attr-defined]
        currency=line.currency,
        booking_date=line.booking_date or line.value_date,
        remittance=line.remittance,
        payer_name=line.payer_name or None,
        payer_iban=line.payer_iban or None,
        end_to_end_id=line.end_to_end_id or None,
    )


def _entity_of(line: BankLine) -> int:
    from q2c.parties.models import BankAccount

    return int(BankAccount.objects.filter(pk=line.bank_account_id).values_list("entity_id", flat=True).get())


def _done(line: BankLine, proposal: Proposal, who: str, note: str) -> None:
    line.state = LineState.APPLIED.value
    line.resolved_at = clock.now()
    line.resolved_by = who
    line.customer_id = int(proposal.customer_id) if proposal.customer_id is not None else None
    line.unapplied = Money.from_minor(proposal.unapplied_minor, line.currency)
    line.reasons = [{"code": r.code, "text": r.text} for r in proposal.reasons] + (
        [{"code": "note", "text": note}] if note else []
    )
    line.proposal = None
    line.save(
        update_fields=[
            "state",
            "resolved_at",
            "resolved_by",
            "customer_id",
            "unapplied_minor",
            "reasons",
            "proposal",
        ]
    )


def _from_dict(data: dict[str, Any], reason: Reason) -> Proposal:
    currency = data["currency"]
    return Proposal(
        applications=tuple(
            Application(a["invoice_id"], a["number"], int(a["amount_minor"]), int(a["fee_minor"]), currency)
            for a in data["applications"]
        ),
        fee_minor=int(data["fee_minor"]),
        unapplied_minor=int(data["unapplied_minor"]),
        currency=currency,
        confidence=int(data["confidence"]),
        reasons=(reason, *(Reason(r["code"], r["text"]) for r in data["reasons"])),
        customer_id=data.get("customer_id"),
    )


def accept(line_id: int, *, alternative: int | None = None, note: str = "", actor: Any = None) -> BankLine:
    """Apply the stored proposal (``alternative``: the n-th alternative, from 0).

    Errors: ``payments_cash.not_found`` (404), ``already_resolved`` (409),
    ``payments_cash.invalid_application`` (422: no proposal, no such alternative), and the payments
    app's when an invoice was paid meanwhile (``payments.over_applied``, 409): nothing is written.
    """
    who = actor_name(actor)
    note = _note(note)
    with transaction.atomic():
        line = _lock(line_id)
        if alternative is None:
            chosen = line.proposal
        else:
            options = line.alternatives or []
            if not isinstance(alternative, int) or not 0 <= alternative < len(options):
                raise errors.CashInvalid(f"the line has {len(options)} alternatives", field="alternative")
            chosen = options[alternative]
        if not chosen or not chosen.get("applications"):
            raise errors.CashInvalid("the line has no proposal to accept", field="proposal")
        proposal = _from_dict(chosen, Reason("accepted", f"proposal accepted by {who or 'a person'}"))
        applying.apply_many(_entity_of(line), [(line.pk, _match_line(line), proposal, "manual")], actor=who)
        _done(line, proposal, who, note)
    return line


def _note(note: Any) -> str:
    if not isinstance(note, str) or len(note) > MAX_NOTE:
        raise errors.CashInvalid(f"a note is text of at most {MAX_NOTE} characters", field="note")
    return note.strip()


def _amount(value: Any, currency: str, field: str, *, allow_zero: bool = False) -> int:
    if isinstance(value, Money):
        if value.currency != currency:
            raise errors.CashInvalid(f"{field} is in {currency}, not {value.currency}", field=field)
        value = value.amount
    if isinstance(value, float):
        raise errors.CashInvalid(f"{field} is a decimal amount, not a float", field=field)
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise errors.CashInvalid(f"{field} is an amount like 166.41", field=field) from None
    if not amount.is_finite() or amount.adjusted() > 12:
        raise errors.CashInvalid(f"{field} is out of range", field=field)
    if amount != amount.quantize(Decimal(1).scaleb(-currency_exponent(currency)), rounding="ROUND_DOWN"):
        raise errors.CashInvalid(f"{field} has more decimals than {currency} allows", field=field)
    minor = Money(amount, currency).minor_units()
    if minor < 0 or (minor == 0 and not allow_zero):
        raise errors.CashInvalid(f"{field} must be positive", field=field)
    return minor


def apply_manual(
    line_id: int,
    allocations: Sequence[dict[str, Any]],
    *,
    note: str = "",
    actor: Any = None,
) -> BankLine:
    """Apply the line to the invoices named: ``[{"invoice_id": 4, "amount": "166.41", "fee": "0"}]``.

    All invoices are one customer's, open, in the line's currency; the cash named adds up to at
    most the line's amount (the rest stays on the customer's account as credit); fees add up to at
    most the bank account's fee tolerance.

    Errors (nothing written): ``payments_cash.invalid_application`` (422, naming
    ``allocations[i].field``), ``not_found`` (404), ``already_resolved`` (409), and the payments
    app's (``payments.over_applied`` 409 when more than an invoice's open amount).
    """
    who = actor_name(actor)
    note = _note(note)
    if not isinstance(allocations, Sequence) or isinstance(allocations, (str, bytes)) or not allocations:
        raise errors.CashInvalid("name at least one invoice", field="allocations")
    if len(allocations) > MAX_ALLOCATIONS:
        raise errors.CashInvalid(f"at most {MAX_ALLOCATIONS} invoices per line", field="allocations")
    with transaction.atomic():
        line = _lock(line_id)
        currency = line.currency
        entity_id = _entity_of(line)
        parsed: list[tuple[int, int, int]] = []
        for i, item in enumerate(allocations):
            if not isinstance(item, dict):
                raise errors.CashInvalid(
                    "each allocation names invoice_id and amount", field=f"allocations[{i}]"
                )
            invoice_id = item.get("invoice_id")
            if not isinstance(invoice_id, int) or isinstance(invoice_id, bool):
                raise errors.CashInvalid("invoice_id is a number", field=f"allocations[{i}].invoice_id")
            amount = _amount(item.get("amount"), currency, f"allocations[{i}].amount")
            fee = _amount(item.get("fee") or "0", currency, f"allocations[{i}].fee", allow_zero=True)
            parsed.append((invoice_id, amount, fee))
        if len({p[0] for p in parsed}) != len(parsed):
            raise errors.CashInvalid("an invoice appears twice", field="allocations")
        invoices = {
            pk: (number, account_id, cur, status)
            for pk, number, account_id, cur, status in Invoice.objects.filter(
                pk__in=[p[0] for p in parsed], entity_id=entity_id
            ).values_list("id", "number", "account_id", "currency", "status")
        }
        customers = set()
        for i, (invoice_id, _a, _f) in enumerate(parsed):
            found = invoices.get(invoice_id)
            if found is None:
                raise errors.CashInvalid(f"no invoice {invoice_id}", field=f"allocations[{i}].invoice_id")
            number, account_id, cur, status = found
            if status not in OPEN:
                raise errors.CashInvalid(
                    f"invoice {number} is {status}: nothing to pay on it",
                    field=f"allocations[{i}].invoice_id",
                )
            if cur != currency:
                raise errors.CashInvalid(
                    f"invoice {number} is in {cur}; the line is in {currency}",
                    field=f"allocations[{i}].invoice_id",
                )
            customers.add(account_id)
        if len(customers) != 1:
            raise errors.CashInvalid(
                "one bank line pays one customer's invoices; split other customers' shares by hand in the payments app",
                field="allocations",
            )
        cash = sum(p[1] for p in parsed)
        fee = sum(p[2] for p in parsed)
        line_minor = int(line.amount_minor)  # type: ignore[attr-defined]
        if cash > line_minor:
            raise errors.CashInvalid(
                f"{Money.from_minor(cash, currency)} is more than the line's {line.amount}",
                field="allocations",
            )
        tolerance = (
            CashAccount.objects.filter(bank_account_id=line.bank_account_id)
            .values_list("fee_tolerance_minor", flat=True)
            .first()
            or 0
        )
        if fee > tolerance:
            raise errors.CashInvalid(
                f"bank fees of {Money.from_minor(fee, currency)} are more than the account's tolerance "
                f"of {Money.from_minor(tolerance, currency)}",
                field="allocations",
            )
        if fee and cash != line_minor:
            raise errors.CashInvalid(
                "a bank fee is written off only when the whole line is applied", field="allocations"
            )
        proposal = Proposal(
            applications=tuple(
                Application(invoice_id, invoices[invoice_id][0], amount, f, currency)
                for invoice_id, amount, f in parsed
            ),
            fee_minor=fee,
            unapplied_minor=line_minor - cash,
            currency=currency,
            confidence=100,
            reasons=(Reason("manual", f"applied by {who or 'a person'}"),),
            customer_id=next(iter(customers)),
        )
        applying.apply_many(entity_id, [(line.pk, _match_line(line), proposal, "manual")], actor=who)
        _done(line, proposal, who, note)
    return line


def mark_not_ours(line_id: int, *, note: str = "", actor: Any = None) -> BankLine:
    """The line is not accounts receivable: it leaves the queue with the note (required)."""
    who = actor_name(actor)
    note = _note(note)
    if not note:
        raise errors.CashInvalid("say what the money is (a note)", field="note")
    with transaction.atomic():
        line = (
            BankLine.objects.select_for_update().filter(pk=line_id).first()
            if isinstance(line_id, int)
            else None
        )
        if line is None:
            raise errors.CashNotFound(f"no bank line {line_id}", field="line_id")
        if line.state not in UNRESOLVED:
            raise errors.CashConflict(f"bank line {line_id} is {line.state.replace('_', ' ')}", field="state")
        line.state = LineState.NOT_OURS.value
        line.resolved_at = clock.now()
        line.resolved_by = who
        line.reasons = [*list(line.reasons or []), {"code": "not_ours", "text": note}]
        line.save(update_fields=["state", "resolved_at", "resolved_by", "reasons"])
    return line


__all__ = ["accept", "apply_manual", "mark_not_ours", "proposal_dict"]
