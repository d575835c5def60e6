"""How invoicing's documents hit the ledger.

An issued invoice debits receivables (AR) with its total and credits tax payable per tax code
with its tax and, with its net, the contract's liability — deferred revenue (contract assets first
where the contract has a debit position, see :func:`set_contract_split`) — never revenue:
recognition (the revenue app) moves it to revenue later. Usage lines credit unbilled receivables
(their revenue was recognised as the usage occurred); lines not tied to a contract credit the
revenue account of their category. A credit note reverses the same way (debits), crediting AR
with what it takes off the invoice's open amount and customer credits with the rest. Voiding
reverses the issue posting; writing off debits bad debt and credits AR with the open amount.

Amounts are in the entity's currency (the invoice's base amounts, converted at the rate
captured at issue). Each document computes its *posting* at issue — ``{account key: signed minor
units}``, debit positive — and stores it; the event carries it and the handlers here post it, in
the issuing transaction (``moves_money``: a failing posting aborts the issue). A bill-run batch
posts one entry for all of its invoices (their postings summed per account), one invoice issued
by hand one entry of its own.

Handlers are registered in ``q2c.wiring``. Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core.money import Money, currency_exponent
from q2c.invoicing.domain import Posting
from q2c.ledger import accounts, chart
from q2c.ledger import services as ledger
from q2c.ledger.categories import RevenueCategory
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef
from q2c.platform.events import DomainEvent

APP = "invoicing"

#: ``split(entity_id, contract_id, signed_minor, on) -> {account key: signed minor}`` — how a
#: contract line's net is shared between contract assets and deferred revenue. The revenue app
#: (which knows each contract's position) installs its own from ``q2c.wiring``; the default puts
#: everything on deferred revenue, which is exact while nothing has been recognised ahead of
#: billing.
ContractSplit = Callable[[int, int | None, int, date], Mapping[str, int]]


def _default_split(entity_id: int, contract_id: int | None, signed_minor: int, on: date) -> Mapping[str, int]:
    return {chart.DEFERRED_REVENUE: signed_minor}


_split: ContractSplit = _default_split


def set_contract_split(func: ContractSplit | None) -> None:
    """Install how contract lines split between contract assets and deferred revenue (None: default)."""
    global _split
    _split = func or _default_split


def revenue_key(category: str) -> str:
    try:
        return chart.revenue(RevenueCategory(category))
    except ValueError:
        return chart.revenue(RevenueCategory.OTHER)


def credit_key(posting: str, category: str) -> str | None:
    """The account a line's net goes to, or None for contract lines (split per contract)."""
    if posting == Posting.UNBILLED:
        return chart.UNBILLED_RECEIVABLES
    if posting == Posting.REVENUE:
        return revenue_key(category)
    return None


def invoice_posting(
    entity_id: int,
    on: date,
    *,
    total_base: int,
    lines: Iterable[tuple[str, str, int | None, int]],
    taxes: Iterable[tuple[str, int]],
    sign: int = 1,
    ar_part: int | None = None,
    balance_part: int = 0,
) -> dict[str, int]:
    """An invoice's (``sign=1``) or a credit note's (``sign=-1``) posting, debit positive.

    ``lines``: ``(posting, revenue category, contract id, net base minor)``; ``taxes``: ``(tax
    code, tax base minor)``. AR takes ``total_base`` (a credit note: ``ar_part``, the rest
    ``balance_part`` going to customer credits).
    """
    out: dict[str, int] = defaultdict(int)
    if sign > 0:
        out[chart.AR] += total_base
    else:
        out[chart.AR] -= total_base if ar_part is None else ar_part
        if balance_part:
            out[chart.CUSTOMER_CREDITS] -= balance_part
    per_contract: dict[int | None, int] = defaultdict(int)
    for posting, category, contract_id, net in lines:
        key = credit_key(posting, category)
        if key is None:
            per_contract[contract_id] += net
        else:
            out[key] -= sign * net
    for contract_id, net in per_contract.items():
        for key, amount in _split(entity_id, contract_id, -sign * net, on).items():
            out[key] += amount
    for code, tax in taxes:
        if tax:
            out[chart.tax_payable(code)] -= sign * tax
    return {k: v for k, v in out.items() if v}


def add(into: dict[str, int], posting: Mapping[str, int]) -> None:
    for key, amount in posting.items():
        into[key] = into.get(key, 0) + amount


def negate(posting: Mapping[str, int]) -> dict[str, int]:
    return {k: -v for k, v in posting.items()}


def _draft(
    entity_id: int,
    day: date,
    description: str,
    source: SourceRef,
    posting: Mapping[str, int],
    currency: str,
    purpose: str = "post",
    memo: str = "",
    original: tuple[str, Decimal, Mapping[str, int]] | None = None,
) -> EntryDraft:
    """Signed amounts → debit and credit lines (zero amounts dropped, keys in a stable order)."""
    lines = []
    for key in sorted(posting):
        amount = posting[key]
        if not amount:
            continue
        money = Money.from_minor(abs(amount), currency)
        extra: dict[str, Any] = {"memo": memo}
        if original is not None and key in original[2]:
            orig_cur, rate, amounts = original
            orig = Money.from_minor(abs(amounts[key]), orig_cur)
            half = Decimal(1).scaleb(-currency_exponent(currency)) / 2
            # The ledger accepts an original amount only if it converts to the line's amount.
            if orig.amount > 0 and abs(orig.amount * rate - money.amount) <= half:
                extra.update(original=orig, rate=rate)
        lines.append(DraftLine.dr(key, money, **extra) if amount > 0 else DraftLine.cr(key, money, **extra))
    return EntryDraft(entity_id, day, description[:255], source, tuple(lines), purpose=purpose)


def _ensure_tax_accounts(entity_id: int, posting: Mapping[str, int]) -> None:
    """Tax-payable accounts are made on first use (the ledger's rule): one read for the posting's
    tax keys, and the ledger's service for any missing."""
    from q2c.ledger.models import Account

    prefix = chart.tax_payable("X")[:-1]
    wanted = [key for key in posting if key.startswith(prefix)]
    if not wanted:
        return
    have = set(Account.objects.filter(entity_id=entity_id, key__in=wanted).values_list("key", flat=True))
    for key in wanted:
        if key not in have:
            accounts.tax_payable_account(entity_id, key[len(prefix) :])


def _post(event: DomainEvent, source: SourceRef, purpose: str, description: str) -> None:
    p = event.payload
    posting = dict(p["posting"])
    if not posting:
        return
    entity_id = int(event.entity_id or p["entity_id"])
    _ensure_tax_accounts(entity_id, posting)
    original = None
    if p.get("original"):
        o = p["original"]
        original = (o["currency"], Decimal(o["rate"]), dict(o["amounts"]))
    ledger.post(
        _draft(
            entity_id,
            date.fromisoformat(str(p["date"])),
            description,
            source,
            posting,
            p["base_currency"],
            purpose=purpose,
            memo=p.get("memo", ""),
            original=original,
        ),
        actor=event.actor,
    )


# --- handlers (registered in q2c.wiring for the money-moving event types) -----------------------


def on_invoice_issued(event: DomainEvent) -> None:
    p = event.payload
    _post(
        event,
        SourceRef(APP, "invoice", p["invoice_id"]),
        "post",
        f"Invoice {p['number']} to {p.get('account_name', '')}".strip(),
    )


def on_invoices_issued(event: DomainEvent) -> None:
    p = event.payload
    count, first, last = p["count"], p["first"], p["last"]
    _post(
        event,
        SourceRef(APP, "issue_batch", p["batch"]),
        "post",
        f"Invoices {first} … {last} ({count}, bill run)",
    )


def on_invoice_voided(event: DomainEvent) -> None:
    p = event.payload
    _post(event, SourceRef(APP, "invoice", p["invoice_id"]), "void", f"Void of invoice {p['number']}")


def on_invoice_written_off(event: DomainEvent) -> None:
    p = event.payload
    _post(
        event, SourceRef(APP, "invoice", p["invoice_id"]), "write_off", f"Invoice {p['number']} written off"
    )


def on_credit_note_issued(event: DomainEvent) -> None:
    p = event.payload
    _post(
        event,
        SourceRef(APP, "credit_note", p["credit_note_id"]),
        "post",
        f"Credit note {p['number']} for {p['invoice_number']}",
    )


HANDLERS: dict[str, Callable[[DomainEvent], None]] = {}


def _register() -> None:
    from q2c.invoicing import events as ev

    HANDLERS.update(
        {
            ev.INVOICE_ISSUED: on_invoice_issued,
            ev.INVOICES_ISSUED: on_invoices_issued,
            ev.INVOICE_VOIDED: on_invoice_voided,
            ev.INVOICE_WRITTEN_OFF: on_invoice_written_off,
            ev.CREDIT_NOTE_ISSUED: on_credit_note_issued,
        }
    )


_register()
