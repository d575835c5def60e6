"""The ledger's read side: books, charts, trial balance, general ledger, journal, periods.

Balances are never stored: they are SQL sums over integer minor units (``SUM(debit_minor)``,
``SUM(credit_minor)``), exact on SQLite and PostgreSQL alike, turned into ``Money`` here. Report
date filters are inclusive (``date_from`` … ``date_to``), as people read a date range on a report;
a trial balance "at" a date includes that date.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet, Sum

from q2c.core.money import Money
from q2c.ledger import errors
from q2c.ledger.domain import parse_month
from q2c.ledger.models import Account, Book, JournalEntry, JournalLine, Period


def _int(value: Any) -> int:
    # PostgreSQL returns SUM(bigint) as numeric (Decimal); it is integral, so int() is exact.
    return int(value or 0)


# --- books and accounts -------------------------------------------------------------------------
def book(entity_id: int) -> Book:
    found = Book.objects.filter(entity_id=entity_id).first()
    if found is None:
        raise errors.NoBook(f"entity {entity_id} has no ledger book", field="entity_id")
    return found


def books() -> list[Book]:
    return list(Book.objects.order_by("entity_id"))


def accounts(entity_id: int) -> list[Account]:
    return list(Account.objects.filter(entity_id=entity_id).order_by("code"))


def account(entity_id: int, account_id: int) -> Account:
    found = Account.objects.filter(entity_id=entity_id, pk=account_id).first()
    if found is None:
        raise errors.AccountNotFound(f"entity {entity_id} has no account {account_id}", field="account_id")
    return found


# --- trial balance ------------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceRow:
    account_id: int
    code: str
    name: str
    type: str
    key: str | None
    debits: Money
    credits: Money

    @property
    def balance(self) -> Money:
        """Debits minus credits: positive is a debit balance."""
        return self.debits - self.credits

    @property
    def debit_balance(self) -> Money | None:
        return self.balance if self.balance.amount > 0 else None

    @property
    def credit_balance(self) -> Money | None:
        return -self.balance if self.balance.amount < 0 else None


@dataclass(frozen=True)
class TrialBalance:
    entity_id: int
    currency: str
    as_of: date | None
    rows: list[BalanceRow] = field(default_factory=list)

    @property
    def total_debit(self) -> Money:
        return sum((r.debit_balance for r in self.rows if r.debit_balance), Money.zero(self.currency))

    @property
    def total_credit(self) -> Money:
        return sum((r.credit_balance for r in self.rows if r.credit_balance), Money.zero(self.currency))

    @property
    def balanced(self) -> bool:
        return self.total_debit == self.total_credit

    def by_key(self) -> dict[str, Money]:
        """Net balance (debit positive) of each keyed account, for tests and checks."""
        return {r.key: r.balance for r in self.rows if r.key}


def balances(entity_id: int, as_of: date | None = None) -> dict[int, tuple[int, int]]:
    """``{account_id: (sum of debits, sum of credits)}`` in minor units, up to ``as_of`` inclusive."""
    lines = JournalLine.objects.filter(entity_id=entity_id)
    if as_of is not None:
        lines = lines.filter(entry__date__lte=as_of)
    rows = lines.values("account_id").annotate(d=Sum("debit"), c=Sum("credit")).order_by()
    return {r["account_id"]: (_int(r["d"]), _int(r["c"])) for r in rows}


def trial_balance(entity_id: int, as_of: date | None = None, *, include_zero: bool = False) -> TrialBalance:
    """Each account's debits, credits and net balance at the end of ``as_of`` (all dates if None).

    Accounts without lines are left out unless ``include_zero``; accounts whose lines net to zero
    are kept (they show 0.00, as a trial balance does).
    """
    bk = book(entity_id)
    sums = balances(entity_id, as_of)
    rows = []
    for acct in Account.objects.filter(entity_id=entity_id).order_by("code"):
        d, c = sums.get(acct.pk, (0, 0))
        if acct.pk not in sums and not include_zero:
            continue
        rows.append(
            BalanceRow(
                account_id=acct.pk,
                code=acct.code,
                name=acct.name,
                type=acct.type,
                key=acct.key,
                debits=Money.from_minor(d, bk.currency),
                credits=Money.from_minor(c, bk.currency),
            )
        )
    return TrialBalance(entity_id=entity_id, currency=bk.currency, as_of=as_of, rows=rows)


# --- general ledger -----------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerLine:
    entry_id: int
    number: str
    date: date
    description: str
    source: str
    debit: Money
    credit: Money
    balance: Money
    original: Money | None
    rate: Decimal | None
    memo: str


@dataclass(frozen=True)
class AccountLedger:
    account: Account
    currency: str
    date_from: date | None
    date_to: date | None
    opening: Money
    lines: list[LedgerLine]

    @property
    def total_debit(self) -> Money:
        return sum((ln.debit for ln in self.lines), Money.zero(self.currency))

    @property
    def total_credit(self) -> Money:
        return sum((ln.credit for ln in self.lines), Money.zero(self.currency))

    @property
    def closing(self) -> Money:
        return self.opening + self.total_debit - self.total_credit


def general_ledger(
    entity_id: int, account_id: int, *, date_from: date | None = None, date_to: date | None = None
) -> AccountLedger:
    """One account's lines in ``[date_from, date_to]`` with a running balance (debit positive)."""
    bk = book(entity_id)
    acct = account(entity_id, account_id)
    lines = JournalLine.objects.filter(entity_id=entity_id, account_id=account_id)
    opening_minor = 0
    if date_from is not None:
        before = lines.filter(entry__date__lt=date_from).aggregate(d=Sum("debit"), c=Sum("credit"))
        opening_minor = _int(before["d"]) - _int(before["c"])
        lines = lines.filter(entry__date__gte=date_from)
    if date_to is not None:
        lines = lines.filter(entry__date__lte=date_to)
    running = opening_minor
    out = []
    for ln in lines.select_related("entry").order_by("entry__date", "entry_id", "line_no"):
        running += ln.debit_minor - ln.credit_minor
        e = ln.entry
        out.append(
            LedgerLine(
                entry_id=e.pk,
                number=e.number,
                date=e.date,
                description=e.description,
                source=e.source,
                debit=ln.debit,
                credit=ln.credit,
                balance=Money.from_minor(running, bk.currency),
                original=ln.original,
                rate=ln.rate,
                memo=ln.memo,
            )
        )
    return AccountLedger(
        account=acct,
        currency=bk.currency,
        date_from=date_from,
        date_to=date_to,
        opening=Money.from_minor(opening_minor, bk.currency),
        lines=out,
    )


# --- journal ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class JournalFilter:
    date_from: date | None = None
    date_to: date | None = None
    period: str | None = None
    account_id: int | None = None
    source_app: str | None = None
    source_type: str | None = None
    source_id: str | None = None
    text: str | None = None


def _filtered(entity_id: int, f: JournalFilter) -> QuerySet[JournalEntry]:
    qs = JournalEntry.objects.filter(entity_id=entity_id)
    if f.period:
        start = parse_month(f.period)
        qs = qs.filter(period__start=start)
    if f.date_from:
        qs = qs.filter(date__gte=f.date_from)
    if f.date_to:
        qs = qs.filter(date__lte=f.date_to)
    if f.account_id:
        qs = qs.filter(
            pk__in=JournalLine.objects.filter(entity_id=entity_id, account_id=f.account_id).values("entry_id")
        )
    if f.source_app:
        qs = qs.filter(source_app=f.source_app)
    if f.source_type:
        qs = qs.filter(source_type=f.source_type)
    if f.source_id:
        qs = qs.filter(source_id=f.source_id)
    if f.text:
        qs = qs.filter(Q(description__icontains=f.text) | Q(number__icontains=f.text))
    return qs


@dataclass(frozen=True)
class EntryLineView:
    line_no: int
    account_id: int
    account_code: str
    account_name: str
    debit: Money
    credit: Money
    original: Money | None
    rate: Decimal | None
    memo: str


@dataclass(frozen=True)
class EntryView:
    id: int
    entity_id: int
    number: str
    date: date
    period: str
    description: str
    source_app: str
    source_type: str
    source_id: str
    purpose: str
    currency: str
    reverses_id: int | None
    reverses_number: str | None
    reversed_by_id: int | None
    reversed_by_number: str | None
    posted_at: Any
    posted_by: str
    lines: list[EntryLineView]

    @property
    def source(self) -> str:
        return f"{self.source_app}/{self.source_type}/{self.source_id}"

    @property
    def total(self) -> Money:
        return sum((ln.debit for ln in self.lines), Money.zero(self.currency))


def _views(entries: list[JournalEntry]) -> list[EntryView]:
    ids = [e.pk for e in entries]
    lines: dict[int, list[EntryLineView]] = {i: [] for i in ids}
    for ln in (
        JournalLine.objects.filter(entry_id__in=ids).select_related("account").order_by("entry_id", "line_no")
    ):
        lines[ln.entry_id].append(
            EntryLineView(
                line_no=ln.line_no,
                account_id=ln.account_id,
                account_code=ln.account.code,
                account_name=ln.account.name,
                debit=ln.debit,
                credit=ln.credit,
                original=ln.original,
                rate=ln.rate,
                memo=ln.memo,
            )
        )
    reversed_by = {
        r: (pk, number)
        for r, pk, number in JournalEntry.objects.filter(reverses_id__in=ids).values_list(
            "reverses_id", "pk", "number"
        )
    }
    reverses_numbers = dict(
        JournalEntry.objects.filter(pk__in=[e.reverses_id for e in entries if e.reverses_id]).values_list(
            "pk", "number"
        )
    )
    return [
        EntryView(
            id=e.pk,
            entity_id=e.entity_id,
            number=e.number,
            date=e.date,
            period=f"{e.date.year:04d}-{e.date.month:02d}",
            description=e.description,
            source_app=e.source_app,
            source_type=e.source_type,
            source_id=e.source_id,
            purpose=e.purpose,
            currency=e.currency,
            reverses_id=e.reverses_id,
            reverses_number=reverses_numbers.get(e.reverses_id) if e.reverses_id else None,
            reversed_by_id=reversed_by.get(e.pk, (None, None))[0],
            reversed_by_number=reversed_by.get(e.pk, (None, None))[1],
            posted_at=e.posted_at,
            posted_by=e.posted_by,
            lines=lines[e.pk],
        )
        for e in entries
    ]


def journal(
    entity_id: int, filters: JournalFilter | None = None, *, limit: int = 100, offset: int = 0
) -> tuple[list[EntryView], int]:
    """A page of entries (with their lines) matching ``filters``, oldest first; and the count."""
    book(entity_id)
    qs = _filtered(entity_id, filters or JournalFilter()).order_by("date", "id")
    count = qs.count()
    page = list(qs[offset : offset + limit])
    return _views(page), count


def entry(entity_id: int, entry_id: int) -> EntryView:
    found = JournalEntry.objects.filter(entity_id=entity_id, pk=entry_id).first()
    if found is None:
        raise errors.EntryNotFound(f"entity {entity_id} has no journal entry {entry_id}", field="entry_id")
    return _views([found])[0]


def entry_for_source(
    entity_id: int, app: str, type: str, id: str | int, purpose: str = "post"
) -> JournalEntry | None:
    """The entry a source document posted (for that purpose), if any — e.g. to reverse it."""
    return JournalEntry.objects.filter(
        entity_id=entity_id, source_app=app, source_type=type, source_id=str(id), purpose=purpose
    ).first()


@dataclass(frozen=True)
class JournalRow:
    """One line of the journal with its entry's header, for exports."""

    entry_id: int
    number: str
    date: date
    description: str
    source_app: str
    source_type: str
    source_id: str
    purpose: str
    reverses_number: str | None
    line_no: int
    account_id: int
    account_code: str
    account_name: str
    account_type: str
    debit: Money
    credit: Money
    original: Money | None
    rate: Decimal | None
    memo: str


def journal_rows(
    entity_id: int,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    filters: JournalFilter | None = None,
) -> Iterator[JournalRow]:
    """Every line of the journal in date order, streamed in chunks (for CSV/XLSX/beancount)."""
    f = filters or JournalFilter(date_from=date_from, date_to=date_to)
    entries = _filtered(entity_id, f)
    numbers = dict(
        JournalEntry.objects.filter(
            entity_id=entity_id, pk__in=entries.filter(reverses__isnull=False).values("reverses_id")
        ).values_list("pk", "number")
    )
    lines = (
        JournalLine.objects.filter(entry__in=entries)
        .select_related("entry", "account")
        .order_by("entry__date", "entry_id", "line_no")
    )
    for ln in lines.iterator(chunk_size=2000):
        e = ln.entry
        yield JournalRow(
            entry_id=e.pk,
            number=e.number,
            date=e.date,
            description=e.description,
            source_app=e.source_app,
            source_type=e.source_type,
            source_id=e.source_id,
            purpose=e.purpose,
            reverses_number=numbers.get(e.reverses_id) if e.reverses_id else None,
            line_no=ln.line_no,
            account_id=ln.account_id,
            account_code=ln.account.code,
            account_name=ln.account.name,
            account_type=ln.account.type,
            debit=ln.debit,
            credit=ln.credit,
            original=ln.original,
            rate=ln.rate,
            memo=ln.memo,
        )


# --- periods ------------------------------------------------------------------------------------
def periods(entity_id: int) -> list[Period]:
    book(entity_id)
    return list(Period.objects.filter(entity_id=entity_id).order_by("-start"))
