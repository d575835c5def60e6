"""How payments hit the ledger: every payment, application, fee, refund, chargeback, write-off and
FX difference, posted through ``q2c.ledger.services`` inside the use case's transaction (a failing
posting aborts it).

Amounts are in the entity's base currency, signed minor units per account key, debit positive:

- payment received: Dr deposit (bank, or payment clearing for card and direct debit until the
  money settles) amount − fees, Dr bank fees, Cr customer credits amount — unapplied cash is
  owed to the customer until it is applied;
- application to an invoice: Dr customer credits (the payment's value at its date's rate), Cr
  receivables (the invoice's value at its issue rate; a reopened amount: "receivables reopened"),
  the difference to FX gains (Cr) or FX losses (Dr);
- settlement of card or direct-debit money: Dr bank, Dr bank fees, Cr payment clearing;
- refund: Dr customer credits, Cr deposit (to the original method) or refunds payable (transfer);
- reversal (chargeback lost, direct-debit return): the application undone (Dr receivables
  reopened, Cr customer credits, FX undone), then the receipt undone (Dr customer credits, Cr the
  deposit), the dispute fee Dr bank fees, Cr the deposit;
- small write-off of an invoice's remainder is the invoicing app's own posting (bad debt).

The key ``ar_reopened`` ("Receivables reopened", an asset) is created on first use: the invoicing
app records applied money on the invoice for good, so what a reversal reopens is carried there and
the AR control of invoicing keeps tying; :func:`q2c.payments.checks.receivables` ties both.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from q2c.core.money import Money
from q2c.ledger import chart
from q2c.ledger import services as ledger
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from q2c.ledger.models import Account, JournalEntry

APP = "payments"
AR_REOPENED = "ar_reopened"


def ensure_reopened_account(entity_id: int, actor: str = "") -> None:
    if Account.objects.filter(entity_id=entity_id, key=AR_REOPENED).exists():
        return
    taken = set(Account.objects.filter(entity_id=entity_id).values_list("code", flat=True))
    code = next(c for c in ("1205", "1206", "1207", "1208", "12050") if c not in taken)
    ledger.create_account(entity_id, code=code, name="Receivables reopened", type="asset", key=AR_REOPENED, actor=actor)


def add(into: dict[str, int], key: str, amount: int) -> None:
    if amount:
        into[key] = into.get(key, 0) + amount


def post(
    entity_id: int,
    day: date,
    description: str,
    source: SourceRef,
    posting: Mapping[str, int],
    currency: str,
    *,
    purpose: str = "post",
    actor: str = "",
) -> JournalEntry | None:
    """Post signed amounts as one balanced entry (nothing if every amount is zero)."""
    draft = _draft(entity_id, day, description, source, posting, currency, purpose)
    if draft is None:
        return None
    if AR_REOPENED in posting:
        ensure_reopened_account(entity_id, actor)
    return ledger.post(draft, actor=actor)


def post_many(
    entity_id: int,
    entries: Sequence[tuple[date, str, SourceRef, Mapping[str, int]]],
    currency: str,
    *,
    actor: str = "",
) -> list[JournalEntry]:
    """:func:`post` for several entries (day, description, source, posting) at once: the same
    entries, one ledger batch (a bank run posts one entry per booking date)."""
    drafts = []
    for day, description, source, posting in entries:
        draft = _draft(entity_id, day, description, source, posting, currency, "post")
        if draft is not None:
            drafts.append(draft)
        if AR_REOPENED in posting:
            ensure_reopened_account(entity_id, actor)
    return ledger.post_many(drafts, actor=actor)


def _draft(
    entity_id: int,
    day: date,
    description: str,
    source: SourceRef,
    posting: Mapping[str, int],
    currency: str,
    purpose: str,
) -> EntryDraft | None:
    lines = []
    for key in sorted(posting):
        amount = posting[key]
        if not amount:
            continue
        money = Money.from_minor(abs(amount), currency)
        lines.append(DraftLine.dr(key, money) if amount > 0 else DraftLine.cr(key, money))
    if not lines:
        return None
    return EntryDraft(entity_id, day, description[:255], source, tuple(lines), purpose=purpose)


def receipt(deposit: str, amount_base: int, fees_base: int) -> dict[str, int]:
    out: dict[str, int] = {}
    add(out, deposit, amount_base - fees_base)
    add(out, chart.BANK_FEES, fees_base)
    add(out, chart.CUSTOMER_CREDITS, -amount_base)
    return out


def application(base: int, ar_base: int, reopened_base: int = 0) -> dict[str, int]:
    """``ar_base`` relieved from receivables, ``reopened_base`` of it from receivables reopened."""
    out: dict[str, int] = {}
    add(out, chart.CUSTOMER_CREDITS, base)
    add(out, chart.AR, -(ar_base - reopened_base))
    add(out, AR_REOPENED, -reopened_base)
    fx = base - ar_base
    add(out, chart.FX_GAINS if fx > 0 else chart.FX_LOSSES, -fx)
    return out


def negate(posting: Mapping[str, int]) -> dict[str, int]:
    return {k: -v for k, v in posting.items() if v}
