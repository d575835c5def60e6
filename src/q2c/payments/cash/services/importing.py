"""Importing bank files: parse (pure, :mod:`q2c.payments.bank`), check against the accounts q2c
knows, and store statements and lines once.

:func:`import_file` is the one use case behind ``q2c bank import`` and ``POST /api/v1/cash/imports``.
A file is stored whole or not at all (one transaction). Statements and lines carry the parsers'
fingerprints under unique constraints on ``(bank_account, fingerprint)``: a statement or line
already held is skipped and counted as a duplicate, so importing a file again writes nothing but
the file record. ``dry_run`` parses and reports without writing and reads statements of accounts
q2c does not know with a warning; saving refuses them (``payments_cash.unknown_account``).

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from django.db import connection, transaction

from q2c.core import clock
from q2c.core.money import Money
from q2c.invoicing.services.common import db_date, db_datetime, write_rows
from q2c.parties.models import BankAccount as SellerBankAccount
from q2c.payments.bank import (
    Balance,
    BankFileError,
    CsvMapping,
    ParsedFile,
    check_balances,
    detect_format,
    dry_run_report,
    parse_file,
)
from q2c.payments.bank.common import gc_paused
from q2c.payments.cash import errors
from q2c.payments.cash.models import BankLine, CashAccount, LineState, Statement, StatementFile
from q2c.platform import events
from q2c.platform.events import DomainEvent

#: files larger than this are refused before parsing (a month of a busy account is a few MB)
MAX_FILE_BYTES = 200 * 1024 * 1024
CHUNK = 900  # fingerprints per IN (...) lookup: under SQLite's variable limit on any build

FILE_IMPORTED = "payments_cash.file.imported"


def actor_name(actor: Any) -> str:
    if actor is None:
        return ""
    if isinstance(actor, str):
        return actor[:150]
    getter = getattr(actor, "get_username", None)
    return str(getter() if getter else actor)[:150]


@dataclass(frozen=True)
class KnownAccount:
    id: int
    entity_id: int
    iban: str
    currency: str


def known_accounts() -> dict[str, KnownAccount]:
    """The seller's bank accounts by IBAN (an IBAN held by two entities is left out: ambiguous)."""
    out: dict[str, KnownAccount] = {}
    seen: set[str] = set()
    for pk, entity_id, iban, currency in SellerBankAccount.objects.values_list(
        "id", "entity_id", "iban", "currency"
    ):
        key = "".join(str(iban).split()).upper()
        if key in seen:
            out.pop(key, None)
            continue
        seen.add(key)
        out[key] = KnownAccount(pk, entity_id, key, currency)
    return out


def find_account(name: str, accounts: dict[str, KnownAccount]) -> KnownAccount | None:
    """The seller's bank account a statement names: by IBAN, by an IBAN with a currency suffix
    (ING's MT940 ``:25:NL20INGB0001234567EUR``), or by bank code and account number
    (``:25:37040044/0532013000`` is the BBAN of DE89 3704 0044 0532 0130 00)."""
    key = "".join(name.split()).upper()
    if key in accounts:
        return accounts[key]
    if len(key) > 3 and key[-3:].isalpha() and key[:-3] in accounts:
        return accounts[key[:-3]]
    if key.count("/") == 1:
        bank, number = key.split("/")
        if bank.isalnum() and number.isalnum():
            matches = [
                a for a in accounts.values() if a.iban[4:] == bank + number.zfill(len(a.iban) - 4 - len(bank))
            ]
            if len(matches) == 1:
                return matches[0]
    return None


def saved_mapping(bank_account_id: int) -> CsvMapping | None:
    raw = (
        CashAccount.objects.filter(bank_account_id=bank_account_id)
        .values_list("csv_mapping", flat=True)
        .first()
    )
    return CsvMapping.from_dict(raw) if raw else None


def _account_for_csv(bank_account_id: int | None) -> CsvMapping:
    if bank_account_id is None:
        raise BankFileError(
            "csv_mapping_required",
            "the file is not camt.053/054, MT940 or BAI2; if it is a CSV export, name the bank account "
            "whose saved column mapping reads it",
        )
    mapping = saved_mapping(bank_account_id)
    if mapping is None:
        raise BankFileError(
            "csv_mapping_required",
            "the bank account has no saved CSV column mapping; save one in its cash settings first",
        )
    return mapping


def _previous_closing(parsed: ParsedFile, accounts: dict[str, KnownAccount]) -> dict[str, Balance]:
    """Per account of the file, the last closing balance q2c holds from before the file's first
    statement of that account (a statement imported again is not its own predecessor)."""
    first: dict[str, Any] = {}
    for s in parsed.statements:
        day = (s.opening_balance.date if s.opening_balance else None) or s.from_date
        if s.account not in first or (
            day is not None and (first[s.account] is None or day < first[s.account])
        ):
            first[s.account] = day
    out: dict[str, Balance] = {}
    for account_name, day in first.items():
        account = find_account(account_name, accounts)
        if account is None:
            continue
        query = Statement.objects.filter(bank_account_id=account.id, closing_minor__isnull=False)
        if day is not None:
            query = query.filter(closing_date__lte=day)
        known_here = [s.fingerprint for s in parsed.statements if s.account == account_name]
        row = (
            query.exclude(fingerprint__in=known_here)
            .order_by("-closing_date", "-id")
            .values_list("closing_minor", "currency", "closing_date")
            .first()
        )
        if row is not None:
            out[account_name] = Balance(Money.from_minor(int(row[0] or 0), row[1]), row[2], "CLBD")
    return out


def _existing(
    model: type[Statement] | type[BankLine], pairs: Sequence[tuple[int, str]]
) -> set[tuple[int, str]]:
    """Which (bank_account_id, fingerprint) pairs are stored already (bulk, chunked)."""
    by_account: dict[int, list[str]] = {}
    for account_id, fp in pairs:
        by_account.setdefault(account_id, []).append(fp)
    found: set[tuple[int, str]] = set()
    table = model._meta.db_table
    with connection.cursor() as cursor:
        for account_id, fps in by_account.items():
            for start in range(0, len(fps), CHUNK):
                chunk = fps[start : start + CHUNK]
                # Raw: the ORM spends longer building a 900-value IN than the database answering it.
                marks = ", ".join(["%s"] * len(chunk))
                sql = (
                    f"SELECT fingerprint FROM {table} WHERE bank_account_id = %s AND fingerprint IN ({marks})"  # noqa: S608
                )
                cursor.execute(sql, [account_id, *chunk])
                found.update((account_id, fp) for (fp,) in cursor.fetchall())
    return found


def _resolve(
    parsed: ParsedFile, accounts: dict[str, KnownAccount], bank_account_id: int | None
) -> dict[str, KnownAccount]:
    """Each statement's account, or the refusal naming the first one q2c does not hold."""
    chosen: KnownAccount | None = None
    if bank_account_id is not None:
        chosen = next((a for a in accounts.values() if a.id == bank_account_id), None)
        if chosen is None:
            raise errors.CashNotFound(f"no bank account {bank_account_id}", field="bank_account_id")
    out: dict[str, KnownAccount] = {}
    for n, statement in enumerate(parsed.statements, start=1):
        account = find_account(statement.account, accounts)
        if account is None and chosen is not None and len({s.account for s in parsed.statements}) == 1:
            # MT940 and BAI2 often name the account by its local number: the caller said which it is.
            account = chosen
        if account is None:
            raise errors.CashInvalid(
                f"q2c holds no bank account {statement.account} (statement {n}); add it to the legal "
                "entity's bank accounts, or check the file with --dry-run",
                code=errors.UNKNOWN_ACCOUNT,
                field="file",
            )
        if chosen is not None and account.id != chosen.id:
            raise errors.CashInvalid(
                f"statement {n} is for {statement.account}, not the bank account named",
                code=errors.UNKNOWN_ACCOUNT,
                field="bank_account_id",
            )
        if statement.currency != account.currency:
            raise errors.CashInvalid(
                f"statement {n} is in {statement.currency}; bank account {account.iban} holds {account.currency}",
                code=errors.WRONG_CURRENCY,
                field="file",
            )
        out[statement.account] = account
    return out


#: the columns of a new bank line, written in bulk (one executemany on SQLite, one COPY on
#: PostgreSQL): a 100,000-line file through the ORM's bulk_create spent most of its time in Django
#: building and adapting model instances. tests/payments/cash check this list against the model.
LINE_COLUMNS = (
    "bank_account_id", "statement_id", "fingerprint", "entry_fingerprint", "currency", "amount_minor",
    "booking_date", "value_date", "booking_status", "reversal", "bank_reference", "end_to_end_id",
    "remittance", "references", "payer_name", "payer_iban", "state", "confidence", "reasons", "proposal",
    "alternatives", "unapplied_minor", "customer_id", "match_run_id", "resolved_at", "resolved_by",
    "created_at",
)  # fmt: skip
#: what every new line holds before matching, as SQL literals: SQLite's executemany then binds 18
#: values a row instead of 27 (binding was a quarter of the insert's time)
NEW_LINE_CONSTANTS = {
    "confidence": ("NULL", None),
    "reasons": ("'[]'", "[]"),
    "proposal": ("NULL", None),
    "alternatives": ("'[]'", "[]"),
    "unapplied_minor": ("0", 0),
    "customer_id": ("NULL", None),
    "match_run_id": ("NULL", None),
    "resolved_at": ("NULL", None),
    "resolved_by": ("''", ""),
}
#: the columns :func:`_line_rows` gives values for, in its order
LINE_VALUES = tuple(c for c in LINE_COLUMNS if c not in NEW_LINE_CONSTANTS)


def _line_rows(
    parsed: ParsedFile,
    resolved: dict[str, KnownAccount],
    statement_ids: dict[tuple[int, str], int],
    known_lines: set[tuple[int, str]],
    created_at: Any,
) -> list[tuple[Any, ...]]:
    """The file's new lines as database-ready rows in :data:`LINE_VALUES` order (plain tuples, no
    model instances); a line held already, or repeated in the file, is left out."""
    new, pending = LineState.NEW.value, LineState.PENDING.value
    days: dict[Any, str | None] = {None: None}  # a file's lines share a few dates
    exponents: dict[str, int] = {}
    rows: list[tuple[Any, ...]] = []
    seen: set[tuple[int, str]] = set()
    for s in parsed.statements:
        account_id = resolved[s.account].id
        statement_id = statement_ids[(account_id, s.fingerprint)]
        for entry in s.entries:
            booking_date = days.get(entry.booking_date) or days.setdefault(
                entry.booking_date, db_date(entry.booking_date)
            )
            value_date = days.get(entry.value_date) or days.setdefault(
                entry.value_date, db_date(entry.value_date)
            )
            status = (entry.status or "BOOK")[:4]
            state = new if entry.status == "BOOK" else pending
            info = entry.additional_info
            for d in entry.details:
                key = (account_id, d.fingerprint)
                if key in known_lines or key in seen:
                    continue
                seen.add(key)
                amount = d.amount
                exponent = exponents.get(amount.currency)
                if exponent is None:
                    exponent = exponents[amount.currency] = amount.exponent
                scaled = amount.amount.scaleb(exponent)
                minor = int(scaled)
                if minor != scaled:  # pragma: no cover - parsers give amounts in minor units
                    minor = amount.minor_units()  # raises: not rounded
                remittance = d.remittance
                if d.implicit and info:
                    remittance = f"{remittance} {info}" if remittance else info
                refs = d.references
                credit = amount.amount >= 0  # the counterparty: who paid us, or whom we paid
                rows.append(
                    (
                        account_id,
                        statement_id,
                        d.fingerprint,
                        entry.fingerprint,
                        amount.currency,
                        minor,
                        booking_date,
                        value_date,
                        status,
                        entry.reversal,
                        (d.bank_reference or entry.bank_reference or "")[:140],
                        (d.end_to_end_id or "")[:140],
                        remittance,
                        # json.dumps(list(refs)), written out: a list of strings, ASCII-escaped
                        f"[{', '.join(map(encode_basestring_ascii, refs))}]" if refs else "[]",
                        ((d.debtor_name if credit else d.creditor_name) or "")[:200],
                        ((d.debtor_iban if credit else d.creditor_iban) or "")[:34],
                        state,
                        created_at,
                    )
                )
    return rows


def _write_lines(rows: list[tuple[Any, ...]]) -> None:
    """Insert new lines (:func:`_line_rows`) with :data:`NEW_LINE_CONSTANTS`: on SQLite one
    ``executemany`` with the constants written into the statement, elsewhere through ``write_rows``."""
    table = BankLine._meta.db_table
    if connection.vendor != "sqlite":
        constants = tuple(value for _, value in NEW_LINE_CONSTANTS.values())
        write_rows(
            table, LINE_VALUES + tuple(NEW_LINE_CONSTANTS), [row + constants for row in rows], ready=True
        )
        return
    if not rows:
        return
    qn = connection.ops.quote_name
    names = ", ".join(qn(c) for c in LINE_VALUES + tuple(NEW_LINE_CONSTANTS))
    values = ", ".join(["%s"] * len(LINE_VALUES) + [sql for sql, _ in NEW_LINE_CONSTANTS.values()])
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {qn(table)} ({names}) VALUES ({values})", rows)  # noqa: S608


# A whole import is one bulk step over hundreds of thousands of short-lived rows and no reference
# cycles: the cyclic collector, triggered by those allocations, would walk every live object (the
# parsed file's, and whatever else the process holds) again and again — several seconds of a
# 100,000-line import. Reference counting frees everything; the collector's state is restored.
@gc_paused()
def import_file(
    data: bytes,
    *,
    file_name: str = "",
    bank_account_id: int | None = None,
    csv_mapping: CsvMapping | None = None,
    dry_run: bool = False,
    actor: Any = None,
) -> dict[str, Any]:
    """Parse a bank file and store its statements and lines once.

    Args:
        data: the file's bytes. The format is detected from the content.
        bank_account_id: the ``parties.BankAccount`` the file belongs to — needed for CSV (its saved
            mapping reads the file) and for MT940/BAI2 files naming the account by a local number.
        csv_mapping: a mapping to use instead of the saved one (``q2c bank import --mapping``).
        dry_run: parse, check and report; write nothing; unknown accounts are a warning.

    Returns the dry-run report (``format``, ``statements``, ``entries``, ``transaction_details``,
    ``totals``, ``duplicates``, ``warnings``) plus, when saved, ``file_id``, ``saved_statements``
    and ``saved_lines``.

    Errors (nothing written): ``payments.bank.*`` (422: the file is refused — malformed, hostile
    XML, truncated, wrong encoding, too many decimals, mixed currencies …),
    ``payments_cash.unknown_account`` / ``wrong_currency`` (422), ``payments_cash.file_too_large``.
    """
    if len(data) > MAX_FILE_BYTES:
        raise errors.CashInvalid(
            f"the file has {len(data):,} bytes; at most {MAX_FILE_BYTES:,} are read",
            code=errors.FILE_TOO_LARGE,
            field="file",
        )
    accounts = known_accounts()
    mapping = csv_mapping
    if mapping is None and detect_format(data) == "csv":
        mapping = _account_for_csv(bank_account_id)
    parsed = parse_file(data, csv_mapping=mapping)
    previous = _previous_closing(parsed, accounts)
    if previous:
        # Again with what q2c holds before the file: the in-file checks come out the same.
        balance_codes = {"payments.bank.balance_gap", "payments.bank.balance_mismatch"}
        parsed = dataclasses.replace(
            parsed,
            warnings=tuple(w for w in parsed.warnings if w.code not in balance_codes)
            + tuple(check_balances(parsed.statements, previous)),
        )
    if dry_run:
        by_account = {s.account: find_account(s.account, accounts) for s in parsed.statements}
        pairs = [(a.id, d.fingerprint) for s, _e, d in parsed.details() if (a := by_account[s.account])]
        known = {fp for _a, fp in _existing(BankLine, pairs)}
        report = dry_run_report(
            parsed, known_fingerprints=known, known_accounts={name for name, a in by_account.items() if a}
        )
        report["saved"] = False
        return report
    resolved = _resolve(parsed, accounts, bank_account_id)
    entity_ids = {a.entity_id for a in resolved.values()}
    if not parsed.statements:
        raise BankFileError("empty", "the file holds no statement")
    if len(entity_ids) != 1:
        raise errors.CashInvalid(
            "the file holds statements of several legal entities' accounts; import them one by one",
            code=errors.UNKNOWN_ACCOUNT,
            field="file",
        )
    who = actor_name(actor)
    now = clock.now()
    with transaction.atomic():
        line_pairs = [(resolved[s.account].id, d.fingerprint) for s, _e, d in parsed.details()]
        known_lines = _existing(BankLine, line_pairs)
        known_statements = _existing(
            Statement, [(resolved[s.account].id, s.fingerprint) for s in parsed.statements]
        )
        report = dry_run_report(
            parsed, known_fingerprints={fp for _a, fp in known_lines}, known_accounts=None
        )
        statement_ids: dict[tuple[int, str], int] = {}
        for account_id, fp in known_statements:
            statement_ids[(account_id, fp)] = (
                Statement.objects.only("id").get(bank_account_id=account_id, fingerprint=fp).pk
            )
        new_statements = []
        for s in parsed.statements:
            key = (resolved[s.account].id, s.fingerprint)
            if key in known_statements or key in statement_ids:
                continue
            row = Statement(  # type: ignore[misc]
                bank_account_id=key[0],
                fingerprint=s.fingerprint,
                statement_id=(s.statement_id or "")[:140],
                kind=s.kind,
                sequence=(s.sequence or "")[:40],
                from_date=s.from_date,
                to_date=s.to_date,
                currency=s.currency,
                opening=s.opening_balance.amount if s.opening_balance else None,
                opening_date=s.opening_balance.date if s.opening_balance else None,
                closing=s.closing_balance.amount if s.closing_balance else None,
                closing_date=s.closing_balance.date if s.closing_balance else None,
                created_at=now,
            )
            new_statements.append(row)
            statement_ids[key] = -1  # placeholder until saved
        if not new_statements and all(key in known_lines for key in line_pairs):
            # Everything is held already: nothing is written, not even a file record.
            report.update(saved=True, file_id=None, saved_statements=0, saved_lines=0)
            return report
        file_row = StatementFile.objects.create(
            entity_id=next(iter(entity_ids)),
            sha256=parsed.sha256,
            format=parsed.format,
            file_name=str(file_name)[:255],
            statements=len(parsed.statements),
            lines=parsed.detail_count,
            duplicates=report["duplicates"],
            warnings=report["warnings"],
            created_at=now,
            created_by=who,
        )
        for row in new_statements:
            row.file = file_row
        saved_statements = Statement.objects.bulk_create(new_statements, batch_size=500)
        for row in saved_statements:
            if row.pk is None:  # backends without RETURNING
                row.pk = Statement.objects.get(
                    bank_account_id=row.bank_account_id, fingerprint=row.fingerprint
                ).pk
            statement_ids[(row.bank_account_id, row.fingerprint)] = row.pk
        lines = _line_rows(parsed, resolved, statement_ids, known_lines, db_datetime(now))
        _write_lines(lines)
        file_row.saved_lines = len(lines)
        file_row.save(update_fields=["saved_lines"])
        events.record(
            DomainEvent(
                FILE_IMPORTED,
                "payments_cash.file",
                file_row.pk,
                {
                    "file_id": file_row.pk,
                    "format": parsed.format,
                    "sha256": parsed.sha256,
                    "statements": len(saved_statements),
                    "lines": len(lines),
                    "duplicates": report["duplicates"],
                },
                entity_id=file_row.entity_id,
                actor=who,
            )
        )
    report["saved"] = True
    report["file_id"] = file_row.pk
    report["saved_statements"] = len(saved_statements)
    report["saved_lines"] = len(lines)
    return report
