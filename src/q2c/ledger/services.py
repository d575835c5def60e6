"""Ledger use cases: the only code that writes ledger tables.

- :func:`open_book` — an entity's book (currency, rounding) and its chart from the template;
- :func:`create_account`, :func:`tax_payable_account` — accounts users add, tax accounts on demand;
- :func:`post`, :func:`post_many` — the posting API other apps call inside their own transaction;
  ``post_many`` writes a whole batch with a fixed number of statements (bulk inserts), whatever
  its size;
- :func:`reverse` — the only correction: a reversing entry linked to the original;
- :func:`close_period`, :func:`reopen_period` — month locks; reopening needs the admin role.

Each use case runs in one ``transaction.atomic()`` (a savepoint inside the caller's transaction);
on any error nothing is written. Errors are :mod:`q2c.ledger.errors` kinds with stable codes.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

import re
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q

from q2c.core import clock
from q2c.core.errors import InvalidTransition, ValidationError
from q2c.core.money import Money, check_currency, money_sum
from q2c.core.periods import add_months
from q2c.core.statemachine import transition
from q2c.ledger import chart as chart_mod
from q2c.ledger import errors
from q2c.ledger import events as ev
from q2c.ledger.chart import DEFAULT_CHART, NORMAL_SIDE, AccountSpec, AccountType
from q2c.ledger.domain import (
    PERIOD_TRANSITIONS,
    REVERSAL_PURPOSE,
    DraftLine,
    EntryDraft,
    PeriodStatus,
    SourceRef,
    entry_digest,
    month_key,
    parse_month,
    period_digest,
    validate,
)
from q2c.ledger.models import Account, Book, JournalEntry, JournalLine, Period
from q2c.platform import events, numbering
from q2c.platform.events import DomainEvent
from q2c.platform.numbering import NumberFormat
from q2c.platform.roles import Role, roles_of

#: Gapless sequence of entry numbers, per entity and year: ``JE-2027-000001``.
ENTRY_SEQUENCE = "ledger.entry"
ENTRY_NUMBER = NumberFormat("JE")
_IN_CHUNK = 900  # SQLite allows 999 bound parameters per statement as Django configures it
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]{0,19}$")


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _lock(query: Any) -> Any:
    # Always a fresh queryset (``all()`` clones), so an evaluated one is read again.
    return query.select_for_update() if connection.features.has_select_for_update else query.all()


# --- books and accounts -------------------------------------------------------------------------
def open_book(
    entity_id: int,
    currency: str,
    *,
    name: str = "",
    rounding: str = "half_up",
    template: Sequence[AccountSpec] = DEFAULT_CHART,
    actor: str = "",
) -> Book:
    """Open an entity's ledger: its book (base currency, rounding) and the template chart.

    Call it when a legal entity is set up. Calling it again with the same currency returns the
    existing book unchanged; with another currency it raises ``ledger.book_exists`` (409).
    Errors: ``money.invalid_currency``, ``ledger.invalid_entry`` (bad entity id or rounding).
    """
    if not isinstance(entity_id, int) or isinstance(entity_id, bool) or entity_id <= 0:
        raise ValidationError(
            "entity_id must be a positive integer", code="ledger.invalid_entry", field="entity_id"
        )
    check_currency(currency)
    if rounding not in Book.Rounding.values:
        raise ValidationError(
            f"rounding must be one of {', '.join(Book.Rounding.values)}",
            code="ledger.invalid_entry",
            field="rounding",
        )
    with transaction.atomic():
        existing = Book.objects.filter(entity_id=entity_id).first()
        if existing is not None:
            if existing.currency != currency:
                raise errors.BookExists(
                    f"entity {entity_id} already keeps its books in {existing.currency}", field="currency"
                )
            return existing
        now = clock.now()
        book = Book.objects.create(
            entity_id=entity_id, name=name[:200], currency=currency, rounding=rounding, opened_at=now
        )
        Account.objects.bulk_create(
            [
                Account(
                    entity_id=entity_id,
                    code=spec.code,
                    name=spec.name,
                    type=spec.type.value,
                    normal_side=spec.normal_side.value,
                    key=spec.key,
                    created_at=now,
                )
                for spec in template
            ]
        )
        events.record(
            DomainEvent(
                ev.BOOK_OPENED,
                "ledger.book",
                entity_id,
                {"currency": currency, "rounding": rounding, "accounts": len(template)},
                entity_id=entity_id,
                actor=actor,
            )
        )
    return book


def _require_book(entity_id: int) -> Book:
    book = Book.objects.filter(entity_id=entity_id).first()
    if book is None:
        raise errors.NoBook(f"entity {entity_id} has no ledger book; open one first", field="entity_id")
    return book


def create_account(
    entity_id: int,
    *,
    code: str,
    name: str,
    type: str,
    key: str | None = None,
    actor: str = "",
) -> Account:
    """Add an account to an entity's chart (users' own accounts, or keyed ones for an app).

    Errors: ``ledger.no_book`` (404), ``ledger.invalid_account`` (422: bad code, name, type or
    key), ``ledger.duplicate_account`` (409: the code or key is taken).
    """
    if not isinstance(code, str) or not _CODE.match(code):
        raise ValidationError(
            "the code is 1–20 letters, digits, '.' or '-'", code="ledger.invalid_account", field="code"
        )
    if not isinstance(name, str) or not name.strip() or len(name) > 120:
        raise ValidationError("the name is 1–120 characters", code="ledger.invalid_account", field="name")
    try:
        account_type = AccountType(type)
    except ValueError:
        raise ValidationError(
            f"the type is one of {', '.join(t.value for t in AccountType)}",
            code="ledger.invalid_account",
            field="type",
        ) from None
    if key is not None and not chart_mod.is_valid_key(key):
        raise ValidationError(
            "a key is lower-case letters, digits and '_' with an optional '.suffix'",
            code="ledger.invalid_account",
            field="key",
        )
    try:
        with transaction.atomic():
            _require_book(entity_id)
            clash = Account.objects.filter(
                Q(code=code) | Q(key=key) if key else Q(code=code), entity_id=entity_id
            )
            if clash.exists():
                raise errors.DuplicateAccount(
                    f"entity {entity_id} already has an account with code {code}"
                    + (f" or key {key}" if key else ""),
                    field="code",
                )
            account = Account.objects.create(
                entity_id=entity_id,
                code=code,
                name=name.strip(),
                type=account_type.value,
                normal_side=NORMAL_SIDE[account_type].value,
                key=key,
                created_at=clock.now(),
            )
            _record_account(account, actor)
    except IntegrityError as exc:  # a concurrent creator took the code or key first
        raise errors.DuplicateAccount(f"the code {code} or key {key} was just taken", field="code") from exc
    return account


def _record_account(account: Account, actor: str) -> None:
    events.record(
        DomainEvent(
            ev.ACCOUNT_CREATED,
            "ledger.account",
            account.pk,
            {"code": account.code, "name": account.name, "type": account.type, "key": account.key},
            entity_id=account.entity_id,
            actor=actor,
        )
    )


def tax_payable_account(entity_id: int, tax_code: str, *, actor: str = "") -> Account:
    """The tax-payable account of a tax code, created on first use (codes 2300–2399).

    Safe to call concurrently: a racing creator's account is returned.
    Errors: ``ledger.invalid_tax_code``, ``ledger.no_book``, ``ledger.chart_full``.
    """
    key = chart_mod.tax_payable(tax_code)
    found = Account.objects.filter(entity_id=entity_id, key=key).first()
    if found is not None:
        return found
    with transaction.atomic():
        _require_book(entity_id)
        used = set(Account.objects.filter(entity_id=entity_id).values_list("code", flat=True))
        spec = chart_mod.tax_payable_spec(tax_code, used)
        try:
            with transaction.atomic():
                account = Account.objects.create(
                    entity_id=entity_id,
                    code=spec.code,
                    name=spec.name,
                    type=spec.type.value,
                    normal_side=spec.normal_side.value,
                    key=key,
                    created_at=clock.now(),
                )
        except IntegrityError:
            return Account.objects.get(entity_id=entity_id, key=key)
        _record_account(account, actor)
    return account


# --- posting ------------------------------------------------------------------------------------
def post(draft: EntryDraft, *, actor: str = "") -> JournalEntry:
    """Post one entry inside the caller's transaction; returns the saved entry.

    Errors (nothing is written): ``ledger.no_source``, ``ledger.invalid_entry``,
    ``ledger.empty_entry``, ``ledger.invalid_line``, ``ledger.currency_mismatch``,
    ``ledger.too_many_decimals``, ``ledger.rate_mismatch``, ``ledger.unbalanced``,
    ``ledger.unknown_account``, ``ledger.inactive_account`` (all 422), ``ledger.no_book`` (404),
    ``ledger.period_closed``, ``ledger.already_posted`` (409).
    """
    return post_many([draft], actor=actor)[0]


def post_many(drafts: Iterable[EntryDraft], *, actor: str = "") -> list[JournalEntry]:
    """Post a batch of entries at once — for runs (bill runs, recognition, bank imports).

    All or nothing, inside the caller's transaction. The number of statements does not grow with
    the batch: one read each for books, accounts, periods and existing sources, one block of
    entry numbers per entity and year, bulk inserts of entries and lines, one batch of
    ``ledger.entry_posted`` events. Error fields name the draft: ``drafts[3].lines[1].debit``.
    """
    return _post(list(drafts), actor=actor)


def _post(
    drafts: list[EntryDraft], *, actor: str, reverses: Sequence[JournalEntry | None] | None = None
) -> list[JournalEntry]:
    if not drafts:
        return []
    many = len(drafts) > 1

    def where(i: int) -> str:
        return f"drafts[{i}]." if many else ""

    try:
        with transaction.atomic():
            entity_ids = {d.entity_id for d in drafts if isinstance(d, EntryDraft)}
            books = {b.entity_id: b for b in Book.objects.filter(entity_id__in=entity_ids)}
            totals: list[Money] = []
            for i, draft in enumerate(drafts):
                if not isinstance(draft, EntryDraft):
                    raise ValidationError(
                        "not an EntryDraft", code="ledger.invalid_entry", field=where(i).rstrip(".")
                    )
                book = books.get(draft.entity_id)
                if book is None:
                    raise errors.NoBook(
                        f"entity {draft.entity_id} has no ledger book; open one first",
                        field=f"{where(i)}entity_id",
                    )
                totals.append(validate(draft, book.currency, prefix=where(i)))
            _refuse_duplicate_sources(drafts, where)
            accounts = _resolve_accounts(drafts, where)
            periods = _open_periods(drafts, where)
            entries = _insert(drafts, books, periods, accounts, reverses, actor)
            events.record_many(_posted_events(entries, totals, actor))
    except IntegrityError as exc:
        text = str(exc)
        if "reverses" in text:
            raise errors.AlreadyReversed("the entry was reversed concurrently", field="entry_id") from exc
        if "source" in text:
            raise errors.AlreadyPosted(
                "an entry with the same source and purpose was posted concurrently", field="source"
            ) from exc
        raise
    return entries


#: Up to this many entries, a call records one ``ledger.entry_posted`` event per entry; a larger
#: batch records one ``ledger.entries_posted`` event per block of consecutive numbers (entity,
#: year), so the event log does not double a bill run's writes. Each entry is itself immutable
#: and sealed by its digest; the block event names exactly which numbers it covers.
PER_ENTRY_EVENTS = 20


def _posted_events(entries: list[JournalEntry], totals: list[Money], actor: str) -> list[DomainEvent]:
    if len(entries) <= PER_ENTRY_EVENTS:
        return [
            DomainEvent(
                ev.ENTRY_POSTED,
                "ledger.entry",
                entry.pk,
                {
                    "number": entry.number,
                    "date": entry.date,
                    "source": entry.source,
                    "purpose": entry.purpose,
                    "total": total,
                    "reverses": entry.reverses_id,
                },
                entity_id=entry.entity_id,
                actor=actor,
            )
            for entry, total in zip(entries, totals, strict=True)
        ]
    blocks: dict[tuple[int, int], list[tuple[JournalEntry, Money]]] = defaultdict(list)
    for entry, total in zip(entries, totals, strict=True):
        blocks[(entry.entity_id, entry.year)].append((entry, total))
    out = []
    for (entity_id, year), items in sorted(blocks.items()):
        seqs = [e.seq for e, _ in items]
        first, last = min(items, key=lambda x: x[0].seq)[0], max(items, key=lambda x: x[0].seq)[0]
        out.append(
            DomainEvent(
                ev.ENTRIES_POSTED,
                "ledger.entries",
                f"{first.number}..{last.number}",
                {
                    "year": year,
                    "first_seq": min(seqs),
                    "last_seq": max(seqs),
                    "entries": len(items),
                    "total": money_sum((t for _, t in items), items[0][0].currency),
                    "dates": [min(e.date for e, _ in items), max(e.date for e, _ in items)],
                },
                entity_id=entity_id,
                actor=actor,
            )
        )
    return out


def _source_key(d: EntryDraft) -> tuple[int, str, str, str, str]:
    assert d.source is not None
    return (
        d.entity_id,
        str(d.source.app).strip(),
        str(d.source.type).strip(),
        str(d.source.id).strip(),
        d.purpose.strip(),
    )


def _refuse_duplicate_sources(drafts: list[EntryDraft], where: Any) -> None:
    seen: dict[tuple[int, str, str, str, str], int] = {}
    for i, d in enumerate(drafts):
        key = _source_key(d)
        if key in seen:
            raise errors.AlreadyPosted(
                f"drafts[{seen[key]}] and drafts[{i}] have the same source {d.source} and purpose '{d.purpose}'",
                field=f"{where(i)}source",
            )
        seen[key] = i
    # Look the sources up through the unique index (entity, app, type, id, purpose): one query per
    # (entity, app, type) — usually one per batch — never a scan of the entity's journal.
    groups: dict[tuple[int, str, str], set[str]] = defaultdict(set)
    for e, app, kind, source_id, _ in seen:
        groups[(e, app, kind)].add(source_id)
    for (e, app, kind), ids in sorted(groups.items()):
        for chunk in _chunks(sorted(ids)):
            rows = JournalEntry.objects.filter(
                entity_id=e, source_app=app, source_type=kind, source_id__in=chunk
            ).values_list("entity_id", "source_app", "source_type", "source_id", "purpose", "number")
            for *key_parts, number in rows:
                key = tuple(key_parts)
                if key in seen:
                    i = seen[key]  # type: ignore[index]
                    raise errors.AlreadyPosted(
                        f"{drafts[i].source} ({drafts[i].purpose}) is already posted as {number}",
                        field=f"{where(i)}source",
                    )


def _resolve_accounts(drafts: list[EntryDraft], where: Any) -> list[list[Account]]:
    ids: set[int] = set()
    keys: set[str] = set()
    for d in drafts:
        for line in d.lines:
            (keys if isinstance(line.account, str) else ids).add(line.account)  # type: ignore[arg-type]
    entity_ids = {d.entity_id for d in drafts}
    found: list[Account] = []
    id_list, key_list = sorted(ids), sorted(keys)
    # One read in the usual case (a batch names a few dozen accounts at most).
    for id_chunk in _chunks(id_list) if id_list else [[]]:
        for key_chunk in _chunks(key_list) if key_list else [[]]:
            found.extend(
                Account.objects.filter(Q(id__in=id_chunk) | Q(key__in=key_chunk), entity_id__in=entity_ids)
            )
    by_id = {a.pk: a for a in found}
    by_key = {(a.entity_id, a.key): a for a in found if a.key}
    resolved: list[list[Account]] = []
    for i, d in enumerate(drafts):
        row = []
        for j, line in enumerate(d.lines):
            ref = line.account
            account = by_key.get((d.entity_id, ref)) if isinstance(ref, str) else by_id.get(ref)
            if account is None or account.entity_id != d.entity_id:
                raise errors.UnknownAccount(
                    f"entity {d.entity_id} has no account '{ref}'", field=f"{where(i)}lines[{j}].account"
                )
            if not account.is_active:
                raise errors.InactiveAccount(
                    f"account {account} is inactive", field=f"{where(i)}lines[{j}].account"
                )
            row.append(account)
        resolved.append(row)
    return resolved


def _period_bounds(day: date) -> tuple[date, date]:
    start = day.replace(day=1)
    return start, add_months(start, 1)


def _open_periods(drafts: list[EntryDraft], where: Any) -> list[Period]:
    """The period of each draft, created open where missing and locked against a concurrent close."""
    wanted = {(d.entity_id, _period_bounds(d.date)[0]) for d in drafts}
    entity_ids = sorted({e for e, _ in wanted})
    starts = sorted({s for _, s in wanted})
    query = Period.objects.filter(entity_id__in=entity_ids, start__in=starts).order_by("entity_id", "start")
    have = {(p.entity_id, p.start) for p in query}
    missing = sorted(wanted - have)
    if missing:
        Period.objects.bulk_create(
            [Period(entity_id=e, start=s, end=_period_bounds(s)[1]) for e, s in missing],
            ignore_conflicts=True,
        )
    # Row locks (PostgreSQL) so a period cannot close between this check and our insert.
    periods = {(p.entity_id, p.start): p for p in _lock(query)}
    result = []
    for i, d in enumerate(drafts):
        period = periods[(d.entity_id, _period_bounds(d.date)[0])]
        if period.is_closed:
            raise errors.PeriodClosed(
                f"period {period.key} of entity {d.entity_id} is closed; post into an open period",
                field=f"{where(i)}date",
            )
        result.append(period)
    return result


#: Columns written for an entry and a line (``executemany`` over plain tuples, see ``_insert``).
ENTRY_COLUMNS = (
    "entity_id", "year", "seq", "number", "date", "period_id", "description", "source_app", "source_type",
    "source_id", "purpose", "currency", "reverses_id", "posted_at", "posted_by", "digest",
)  # fmt: skip
LINE_COLUMNS = (
    "entry_id", "entity_id", "line_no", "account_id", "currency", "debit_minor", "credit_minor",
    "original_currency", "original_minor", "rate", "memo",
)  # fmt: skip
#: The columns of an entry's digest, as stored (see ``domain.entry_digest``).
HEAD_FIELDS = (
    "entity_id", "number", "date", "description", "source_app", "source_type", "source_id", "purpose",
    "currency", "reverses_id",
)  # fmt: skip
LINE_FIELDS = (
    "line_no", "account_id", "currency", "debit_minor", "credit_minor", "original_minor", "original_currency",
    "rate", "memo",
)  # fmt: skip


def entry_head(entry: JournalEntry) -> tuple[Any, ...]:
    return tuple(getattr(entry, f) for f in HEAD_FIELDS)


def _line_values(entry: JournalEntry, n: int, line: DraftLine, account: Account) -> tuple[Any, ...]:
    """A line as ``LINE_FIELDS`` (validated amounts are rounded, so minor units are exact)."""
    debit = line.debit.minor_units() if line.debit is not None else 0
    credit = line.credit.minor_units() if line.credit is not None else 0
    original = line.original
    return (
        n,
        account.pk,
        entry.currency,
        debit,
        credit,
        original.minor_units() if original is not None else None,
        original.currency if original is not None else "",
        None if line.rate is None else str(line.rate),
        line.memo,
    )


def _write_rows(table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` into ``table``: one COPY on PostgreSQL, one ``executemany`` on SQLite.

    COPY streams every row in one round trip; SQLite runs in-process, where ``executemany`` is a
    C loop. Table and column names are this module's constants, quoted; values are parameters.
    """
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in columns)
    start = time.perf_counter()
    if connection.vendor == "postgresql":
        sql = f"COPY {qn(table)} ({names}) FROM STDIN"
        # The driver's own cursor does the COPY; Django's wrapper turns its errors into
        # django.db errors (a duplicate source is then an IntegrityError like any other).
        with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row)
        if connection.queries_logged:  # let debug tooling (and tests counting statements) see it
            connection.queries_log.append(
                {"sql": f"{len(rows)} rows: {sql}", "time": f"{time.perf_counter() - start:.3f}"}
            )
        return
    sql = f"INSERT INTO {qn(table)} ({names}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _insert(
    drafts: list[EntryDraft],
    books: dict[int, Book],
    periods: list[Period],
    accounts: list[list[Account]],
    reverses: Sequence[JournalEntry | None] | None,
    actor: str,
) -> list[JournalEntry]:
    """Number the entries and write them and their lines: one bulk write each (``_write_rows``).

    This is the hot path of every run (bill runs, recognition, bank imports), so rows go to the
    database as plain tuples — no model instance per line, no per-row SQL compilation. Entry ids
    are read back per (entity, year) block of numbers, which are consecutive.
    """
    groups: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i, d in enumerate(drafts):
        groups[(d.entity_id, d.date.year)].append(i)
    seqs: dict[int, int] = {}
    blocks: dict[tuple[int, int], range] = {}
    for (entity_id, year), indexes in sorted(groups.items()):
        block = numbering.take_block(entity_id, ENTRY_SEQUENCE, len(indexes), year=year)
        blocks[(entity_id, year)] = block
        for i, seq in zip(indexes, block, strict=True):
            seqs[i] = seq
    now = clock.now()
    ops = connection.ops
    posted_at = ops.adapt_datetimefield_value(now)
    entries: list[JournalEntry] = []
    entry_rows: list[tuple[Any, ...]] = []
    line_values: list[list[tuple[Any, ...]]] = []
    for i, d in enumerate(drafts):
        assert d.source is not None
        entry = JournalEntry(
            entity_id=d.entity_id,
            year=d.date.year,
            seq=seqs[i],
            number=ENTRY_NUMBER.format(seqs[i], d.date.year),
            date=d.date,
            period=periods[i],
            description=d.description.strip(),
            source_app=str(d.source.app).strip(),
            source_type=str(d.source.type).strip(),
            source_id=str(d.source.id).strip(),
            purpose=d.purpose.strip(),
            currency=books[d.entity_id].currency,
            reverses=reverses[i] if reverses else None,
            posted_at=now,
            posted_by=actor[:150],
        )
        values = [
            _line_values(entry, n, ln, acct)
            for n, (ln, acct) in enumerate(zip(d.lines, accounts[i], strict=True), 1)
        ]
        entry.digest = entry_digest(entry_head(entry), values)
        entries.append(entry)
        line_values.append(values)
        entry_rows.append(
            (
                entry.entity_id,
                entry.year,
                entry.seq,
                entry.number,
                ops.adapt_datefield_value(entry.date),
                entry.period_id,
                entry.description,
                entry.source_app,
                entry.source_type,
                entry.source_id,
                entry.purpose,
                entry.currency,
                entry.reverses_id,
                posted_at,
                entry.posted_by,
                entry.digest,
            )
        )
    _write_rows(JournalEntry._meta.db_table, ENTRY_COLUMNS, entry_rows)
    ids: dict[tuple[int, int, int], int] = {}
    for (entity_id, year), block in blocks.items():
        for seq, pk in JournalEntry.objects.filter(
            entity_id=entity_id, year=year, seq__gte=block.start, seq__lt=block.stop
        ).values_list("seq", "pk"):
            ids[(entity_id, year, seq)] = pk
    line_rows: list[tuple[Any, ...]] = []
    for entry, values in zip(entries, line_values, strict=True):
        entry.pk = ids[(entry.entity_id, entry.year, entry.seq)]
        entry._state.adding = False  # it is stored: save() now refuses, as for any posted entry
        entry._state.db = connection.alias
        for n, account_id, currency, debit, credit, orig_minor, orig_cur, rate, memo in values:
            line_rows.append(
                (
                    entry.pk,
                    entry.entity_id,
                    n,
                    account_id,
                    currency,
                    debit,
                    credit,
                    orig_cur,
                    orig_minor,
                    rate,
                    memo,
                )
            )
    _write_rows(JournalLine._meta.db_table, LINE_COLUMNS, line_rows)
    return entries


def post_manual(
    entity_id: int,
    *,
    date: date,
    description: str,
    reference: str,
    lines: Sequence[DraftLine],
    actor: str = "",
) -> JournalEntry:
    """A journal entry a person writes (adjustments, opening balances): source ``ledger/manual/<reference>``.

    The reference is the person's own (a voucher number); using it twice is refused
    (``ledger.already_posted``). Other errors as :func:`post`.
    """
    draft = EntryDraft(
        entity_id=entity_id,
        date=date,
        description=description,
        source=SourceRef("ledger", "manual", reference),
        lines=tuple(lines),
    )
    return post(draft, actor=actor)


# --- reversal -----------------------------------------------------------------------------------
def reverse(
    entry_id: int,
    *,
    on: date | None = None,
    description: str | None = None,
    source: SourceRef | None = None,
    purpose: str = REVERSAL_PURPOSE,
    actor: str = "",
) -> JournalEntry:
    """Post the reversal of an entry: the same lines on the other sides, linked to it.

    ``on`` defaults to the original's date while its period is open, else to today's business
    date. ``source`` defaults to the original entry itself (``ledger/entry/<id>``); an app
    cancelling its document may pass its own. An entry is reversed at most once.
    Errors: ``ledger.entry_not_found`` (404), ``ledger.already_reversed`` (409),
    ``ledger.period_closed`` (409), ``ledger.invalid_entry`` (a date before the original's).
    """
    with transaction.atomic():
        original = JournalEntry.objects.select_related("period").filter(pk=entry_id).first()
        if original is None:
            raise errors.EntryNotFound(f"there is no journal entry {entry_id}", field="entry_id")
        done = JournalEntry.objects.filter(reverses=original).values_list("number", flat=True).first()
        if done is not None:
            raise errors.AlreadyReversed(f"{original.number} is already reversed by {done}", field="entry_id")
        day = on
        if day is None:
            day = original.date if not original.period.is_closed else clock.today()
        if day < original.date:
            raise ValidationError(
                f"a reversal cannot be dated before the entry it reverses ({original.date})",
                code="ledger.invalid_entry",
                field="on",
            )
        lines = [
            DraftLine(
                line.account_id,
                debit=None if line.is_debit else line.credit,
                credit=line.debit if line.is_debit else None,
                original=line.original,
                rate=line.rate,
                memo=line.memo,
            )
            for line in original.lines.order_by("line_no")
        ]
        text = description or f"Reversal of {original.number}: {original.description}"
        draft = EntryDraft(
            entity_id=original.entity_id,
            date=day,
            description=text[:255],
            source=source or SourceRef("ledger", "entry", original.pk),
            lines=tuple(lines),
            purpose=purpose,
        )
        entry = _post([draft], actor=actor, reverses=[original])[0]
        events.record(
            DomainEvent(
                ev.ENTRY_REVERSED,
                "ledger.entry",
                original.pk,
                {"number": original.number, "reversal": entry.number, "reversal_id": entry.pk, "date": day},
                entity_id=original.entity_id,
                actor=actor,
            )
        )
    return entry


# --- periods ------------------------------------------------------------------------------------
def _month(value: date | str) -> date:
    if isinstance(value, str):
        return parse_month(value)
    if isinstance(value, date):
        return value.replace(day=1)
    raise ValidationError("a period is a month: YYYY-MM", code="ledger.invalid_period", field="period")


def _move(period: Period, target: PeriodStatus) -> None:
    try:
        transition(PERIOD_TRANSITIONS, PeriodStatus(period.status), target, what="period")
    except InvalidTransition as exc:
        raise InvalidTransition(
            f"period {period.key} of entity {period.entity_id} is already {period.status}",
            code="ledger.period_invalid_transition",
            field="status",
        ) from exc


_SNAPSHOT_HEAD = (
    "id", "entity_id", "number", "date", "description", "source_app", "source_type", "source_id", "purpose",
    "currency", "reverses_id",
)  # fmt: skip
_SNAPSHOT_LINE = (
    "id", "entry_id", "line_no", "account_id", "currency", "debit", "credit", "original", "original_currency",
    "rate", "memo",
)  # fmt: skip
_PERIODS_CHUNK = 24


def period_snapshot(period: Period) -> tuple[str, int]:
    """The digest of a period's entries and lines, and its number of lines.

    Rows are read in a stable order (entry id, line id) and hashed as canonical text
    (:func:`q2c.ledger.domain.period_digest`): stored at close, recomputed by the
    ``ledger.closed_periods_unchanged`` check (through :func:`period_snapshots`).
    """
    return period_snapshots([period])[period.pk]


def period_snapshots(periods: Iterable[Period]) -> dict[int, tuple[str, int]]:
    """:func:`period_snapshot` of many periods, by period id: their entries and lines are read in
    one query each per batch of periods, not two queries per period."""
    ids = [p.pk for p in periods]
    found: dict[int, tuple[str, int]] = {}
    for at in range(0, len(ids), _PERIODS_CHUNK):
        batch = ids[at : at + _PERIODS_CHUNK]
        heads: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk in batch}
        lines: dict[int, list[tuple[Any, ...]]] = {pk: [] for pk in batch}
        for period_id, *head in (
            JournalEntry.objects.filter(period_id__in=batch)
            .order_by("period_id", "id")
            .values_list("period_id", *_SNAPSHOT_HEAD)
        ):
            heads[period_id].append(("E", *head))
        for period_id, *line in (
            JournalLine.objects.filter(entry__period_id__in=batch)
            .order_by("entry__period_id", "entry_id", "id")
            .values_list("entry__period_id", *_SNAPSHOT_LINE)
        ):
            lines[period_id].append(("L", *line))
        for pk in batch:
            found[pk] = period_digest(heads[pk] + lines[pk]), len(lines[pk])
    return found


def close_period(entity_id: int, month: date | str, *, actor: str = "") -> Period:
    """Close a month: no more postings into it; its lines are sealed with a digest.

    The month must have reached its last day (business clock). Errors: ``ledger.no_book``,
    ``ledger.invalid_period``, ``ledger.period_not_ended`` (422),
    ``ledger.period_invalid_transition`` (409: already closed).
    """
    start = _month(month)
    with transaction.atomic():
        _require_book(entity_id)
        end = add_months(start, 1)
        if clock.today() < end - timedelta(days=1):
            raise ValidationError(
                f"period {month_key(start)} has not reached its last day yet",
                code="ledger.period_not_ended",
                field="period",
            )
        Period.objects.bulk_create([Period(entity_id=entity_id, start=start, end=end)], ignore_conflicts=True)
        period = _lock(Period.objects.filter(entity_id=entity_id, start=start)).get()
        _move(period, PeriodStatus.CLOSED)
        digest, line_count = period_snapshot(period)
        period.status = PeriodStatus.CLOSED.value
        period.closed_at = clock.now()
        period.closed_by = actor[:150]
        period.digest = digest
        period.line_count = line_count
        period.save(update_fields=["status", "closed_at", "closed_by", "digest", "line_count"])
        events.record(
            DomainEvent(
                ev.PERIOD_CLOSED,
                "ledger.period",
                period.pk,
                {"period": period.key, "digest": period.digest, "lines": period.line_count},
                entity_id=entity_id,
                actor=actor,
            )
        )
    return period


def reopen_period(entity_id: int, month: date | str, *, user: Any, reason: str = "") -> Period:
    """Reopen a closed month. Needs the admin role; logged as ``ledger.period_reopened``.

    Errors: ``ledger.admin_required`` (403), ``ledger.period_not_found`` (404),
    ``ledger.period_invalid_transition`` (409: the period is open).
    """
    if Role.ADMIN not in roles_of(user):
        raise errors.AdminRequired("reopening a closed period needs the admin role")
    actor = user.get_username()
    start = _month(month)
    with transaction.atomic():
        period = _lock(Period.objects.filter(entity_id=entity_id, start=start)).first()
        if period is None:
            raise errors.PeriodNotFound(
                f"entity {entity_id} has no period {month_key(start)}", field="period"
            )
        _move(period, PeriodStatus.OPEN)
        sealed = period.digest
        period.status = PeriodStatus.OPEN.value
        period.digest = ""
        period.line_count = None
        period.reopen_count += 1
        period.save(update_fields=["status", "digest", "line_count", "reopen_count"])
        events.record(
            DomainEvent(
                ev.PERIOD_REOPENED,
                "ledger.period",
                period.pk,
                {
                    "period": period.key,
                    "reason": reason[:500],
                    "sealed_digest": sealed,
                    "times": period.reopen_count,
                },
                entity_id=entity_id,
                actor=actor,
            )
        )
    return period
