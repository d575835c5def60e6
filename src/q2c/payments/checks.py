"""Payments' ledger check, run by ``q2c ledger check`` (registered from ``q2c.wiring``).

``payments.receivables``: per entity,

- receivables reopened (key ``ar_reopened``) = Σ amounts reopened by reversals and not yet paid
  again (the invoicing app's ``invoicing.ar_control`` ties the ``ar`` account to its invoices);
- customer credits (key ``customer_credits``, a credit balance) = Σ unapplied parts of received
  payments + Σ credit-note amounts beyond their invoices' open amounts;

so that AR control (ar + ar_reopened) − customer credits = open invoices − customer credits.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from datetime import date

from django.db.models import F, Sum

from q2c.core.money import Money
from q2c.invoicing.models import CreditNote
from q2c.ledger import chart
from q2c.ledger.models import Account, Book, JournalLine
from q2c.payments.domain import PaymentStatus
from q2c.payments.models import Payment, Reopened
from q2c.payments.posting import AR_REOPENED
from q2c.platform.registry import Check


def _balance(entity_id: int, key: str) -> int:
    account = Account.objects.filter(entity_id=entity_id, key=key).first()
    if account is None:
        return 0
    sums = JournalLine.objects.filter(entity_id=entity_id, account=account).aggregate(d=Sum("debit_minor"), c=Sum("credit_minor"))
    return int(sums["d"] or 0) - int(sums["c"] or 0)


def receivables(as_of: date | None = None) -> list[str]:
    problems: list[str] = []
    if as_of is not None:
        return problems  # balances of reversals and credits carry no history here: today only
    for book in Book.objects.all():
        entity_id, cur = book.entity_id, book.currency
        reopened = int(Reopened.objects.filter(entity_id=entity_id).aggregate(s=Sum("amount_base_minor"))["s"] or 0)
        ledger_reopened = _balance(entity_id, AR_REOPENED)
        if ledger_reopened != reopened:
            problems.append(
                f"entity {entity_id}: receivables reopened in the ledger {Money.from_minor(ledger_reopened, cur)} ≠ "
                f"reopened invoices {Money.from_minor(reopened, cur)}"
            )
        unapplied = Payment.objects.filter(entity_id=entity_id, status=PaymentStatus.RECEIVED).aggregate(
            s=Sum(F("amount_base_minor") - F("applied_base_minor") - F("refunded_base_minor"))
        )["s"] or 0  # fmt: skip
        notes = CreditNote.objects.filter(entity_id=entity_id).aggregate(s=Sum("to_balance_base_minor"))["s"] or 0
        expected = int(unapplied) + int(notes)
        ledger_credits = -_balance(entity_id, chart.CUSTOMER_CREDITS)
        if ledger_credits != expected:
            problems.append(
                f"entity {entity_id}: customer credits in the ledger {Money.from_minor(ledger_credits, cur)} ≠ unapplied "
                f"payments and credit-note balances {Money.from_minor(expected, cur)}"
            )
    return problems


CHECKS = [Check("payments.receivables", receivables)]
