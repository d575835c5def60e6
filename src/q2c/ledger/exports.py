"""Ledger exports: a beancount ledger, a CSV journal, and CSV/XLSX tables of the reports.

- :func:`write_beancount` writes an entity's journal as a beancount file that ``bean-check``
  accepts: one ``open`` per account, one transaction per entry (debits positive, credits
  negative, in the entity currency), the entry number, source and original-currency amounts as
  metadata, reversals linked to their originals, and a ``balance`` assertion per account at the
  start of each month after the first — so ``bean-check`` also re-adds every balance the ledger's
  SQL computed.
- :func:`write_journal_csv` writes one row per line for import into other accounting systems.
- :func:`write_csv` / :func:`xlsx_bytes` write any report table. Text cells that a spreadsheet
  would run as a formula (starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) are
  neutralised with a leading apostrophe (OWASP "CSV injection"); amounts stay numbers.

Must not import any q2c app other than ``q2c.core``, ``q2c.platform`` and the ledger itself.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import IO, Any

from q2c.core import clock
from q2c.core.money import Money
from q2c.core.periods import add_months
from q2c.ledger.chart import AccountType
from q2c.ledger.models import Account, JournalEntry
from q2c.ledger.queries import AccountLedger, JournalFilter, TrialBalance, balances, book, journal_rows

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | Decimal | int | date | None


def safe_text(value: Any) -> str:
    """Text for a spreadsheet cell: a leading ``= + - @`` (or tab, CR) is neutralised with ``'``."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_cell(value: Cell) -> str:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(value)


def write_csv(fh: IO[str], headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> int:
    """Write a table as CSV (RFC 4180 quoting); returns the number of data rows."""
    writer = csv.writer(fh, lineterminator="\r\n")
    writer.writerow([safe_text(h) for h in headers])
    n = 0
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        n += 1
    return n


def csv_text(headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    buf = io.StringIO()
    write_csv(buf, headers, rows)
    return buf.getvalue()


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    """A one-sheet workbook (streamed with openpyxl's write-only mode); amounts stay numeric."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=re.sub(r"[\[\]:*?/\\]", " ", title)[:31] or "Sheet")
    ws.append([safe_text(h) for h in headers])
    for row in rows:
        cells: list[Any] = []
        for value in row:
            if isinstance(value, Decimal | int) and not isinstance(value, bool):
                cell = WriteOnlyCell(ws, value=value)
                if isinstance(value, Decimal):
                    digits = max(0, -int(value.as_tuple().exponent))  # type: ignore[operator]
                    cell.number_format = "#,##0" + ("." + "0" * digits if digits else "")
                cells.append(cell)
            elif isinstance(value, date):
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd"
                cells.append(cell)
            else:
                cell = WriteOnlyCell(ws, value=safe_text(value))
                cell.data_type = "s"  # never a formula, whatever the text
                cells.append(cell)
        ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- report tables ------------------------------------------------------------------------------
def _amount(m: Money | None) -> Decimal | None:
    return None if m is None else m.amount


def trial_balance_table(tb: TrialBalance) -> tuple[list[str], list[list[Cell]]]:
    headers = ["code", "account", "type", "debits", "credits", "debit balance", "credit balance"]
    rows: list[list[Cell]] = [
        [
            r.code,
            r.name,
            r.type,
            r.debits.amount,
            r.credits.amount,
            _amount(r.debit_balance),
            _amount(r.credit_balance),
        ]
        for r in tb.rows
    ]
    rows.append(["", "Total", "", None, None, tb.total_debit.amount, tb.total_credit.amount])
    return headers, rows


def general_ledger_table(gl: AccountLedger) -> tuple[list[str], list[list[Cell]]]:
    headers = [
        "date",
        "entry",
        "description",
        "source",
        "debit",
        "credit",
        "balance",
        "original",
        "rate",
        "memo",
    ]
    rows: list[list[Cell]] = [
        [gl.date_from, "", "Opening balance", "", None, None, gl.opening.amount, None, None, ""]
    ]
    for ln in gl.lines:
        rows.append(
            [
                ln.date,
                ln.number,
                ln.description,
                ln.source,
                ln.debit.amount if ln.debit else None,
                ln.credit.amount if ln.credit else None,
                ln.balance.amount,
                str(ln.original) if ln.original else "",
                ln.rate,
                ln.memo,
            ]
        )
    rows.append(
        [
            gl.date_to,
            "",
            "Closing balance",
            "",
            gl.total_debit.amount,
            gl.total_credit.amount,
            gl.closing.amount,
            None,
            None,
            "",
        ]
    )
    return headers, rows


JOURNAL_HEADERS = [
    "entry", "date", "description", "source_app", "source_type", "source_id", "purpose", "reverses",
    "line", "account_code", "account_name", "debit", "credit", "currency", "original_amount",
    "original_currency", "rate", "memo",
]  # fmt: skip


def journal_table_rows(entity_id: int, filters: JournalFilter | None = None) -> Iterable[list[Cell]]:
    for r in journal_rows(entity_id, filters=filters):
        yield [
            r.number,
            r.date,
            r.description,
            r.source_app,
            r.source_type,
            r.source_id,
            r.purpose,
            r.reverses_number or "",
            r.line_no,
            r.account_code,
            r.account_name,
            r.debit.amount,
            r.credit.amount,
            r.debit.currency,
            r.original.amount if r.original else None,
            r.original.currency if r.original else "",
            r.rate,
            r.memo,
        ]


def write_journal_csv(fh: IO[str], entity_id: int, filters: JournalFilter | None = None) -> int:
    """The journal as CSV, one row per line; returns the number of lines written."""
    book(entity_id)
    return write_csv(fh, JOURNAL_HEADERS, journal_table_rows(entity_id, filters))


# --- beancount ----------------------------------------------------------------------------------
_ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.REVENUE: "Income",
    AccountType.EXPENSE: "Expenses",
}


def _ascii_words(text: str) -> list[str]:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return [w for w in re.split(r"[^A-Za-z0-9]+", plain) if w]


def beancount_account(account: Account) -> str:
    """``Assets:1200-Accounts-Receivable``: the type's root, then code and name as one component.

    A beancount component starts with a capital letter or digit and holds letters, digits and
    dashes; the code (unique per entity) keeps names unique whatever the words.
    """
    code = "-".join(_ascii_words(account.code)) or "X"
    words = [w[:1].upper() + w[1:] for w in _ascii_words(account.name)]
    component = "-".join([code[:1].upper() + code[1:], *words])
    return f"{_ROOTS[AccountType(account.type)]}:{component}"


def _bc_string(text: str) -> str:
    clean = " ".join(str(text).split())  # one line; no control characters
    return '"' + clean.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _link(number: str) -> str:
    return "^" + number.lower()


def _bc_amount(m: Money) -> str:
    return f"{m.amount:f} {m.currency}"


def write_beancount(fh: IO[str], entity_id: int, *, date_to: date | None = None) -> int:
    """Write an entity's ledger (entries dated up to ``date_to``) as beancount; returns entries written."""
    bk = book(entity_id)
    cur = bk.currency
    accounts = {a.pk: a for a in Account.objects.filter(entity_id=entity_id)}
    names = {pk: beancount_account(a) for pk, a in accounts.items()}
    entries = JournalEntry.objects.filter(entity_id=entity_id)
    if date_to is not None:
        entries = entries.filter(date__lte=date_to)
    first = entries.order_by("date").values_list("date", flat=True).first()
    last = entries.order_by("-date").values_list("date", flat=True).first()
    opened = first or (date_to or clock.today())
    w = fh.write
    w(f"; q2c ledger export: entity {entity_id} ({bk.name or 'no name'}), currency {cur}\n")
    w(
        f"; generated {clock.now().isoformat(timespec='seconds')}; entries dated up to {date_to or last or '-'}\n"
    )
    w(f'option "title" {_bc_string(bk.name or f"Entity {entity_id}")}\n')
    w(f'option "operating_currency" "{cur}"\n')
    # No inferred tolerance: transactions and balance assertions must tie to the minor unit, as
    # they do in q2c (beancount would otherwise accept a balance off by one cent).
    w('option "tolerance_multiplier" "0"\n\n')
    w(f"{opened.isoformat()} commodity {cur}\n")
    for pk in sorted(accounts, key=lambda k: accounts[k].code):
        a = accounts[pk]
        w(f"{opened.isoformat()} open {names[pk]} {cur}\n")
        w(f"  code: {_bc_string(a.code)}\n")
        if a.key:
            w(f"  key: {_bc_string(a.key)}\n")
    w("\n")
    current: int | None = None
    count = 0
    for r in journal_rows(entity_id, date_to=date_to):
        if r.entry_id != current:
            current = r.entry_id
            count += 1
            links = [_link(r.number)]
            if r.reverses_number:
                links.append(_link(r.reverses_number))
            tags = " #reversal" if r.reverses_number else ""
            w(f"\n{r.date.isoformat()} * {_bc_string(r.description)} {' '.join(links)}{tags}\n")
            w(f"  entry: {_bc_string(r.number)}\n")
            w(f"  source: {_bc_string(f'{r.source_app}/{r.source_type}/{r.source_id}')}\n")
            w(f"  purpose: {_bc_string(r.purpose)}\n")
        amount = r.debit if r.debit else -r.credit
        w(f"  {names[r.account_id]}  {_bc_amount(amount)}\n")
        if r.original is not None:
            w(f"    original: {_bc_string(_bc_amount(r.original))}\n")
            w(f"    rate: {_bc_string(str(r.rate))}\n")
        if r.memo:
            w(f"    memo: {_bc_string(r.memo)}\n")
    if first is not None and last is not None:
        _write_balance_assertions(fh, entity_id, cur, names, first, last)
    return count


def _write_balance_assertions(
    fh: IO[str], entity_id: int, cur: str, names: dict[int, str], first: date, last: date
) -> None:
    """``balance`` directives at the start of each month after ``first``, up to the month after ``last``.

    Each assertion is the ledger's own SQL sum; beancount re-adds the postings and fails if they
    differ. Beancount checks a balance at the *start* of its date, so the figure is the balance at
    the end of the previous day.
    """
    fh.write("\n; balances as the ledger computes them (bean-check re-adds the postings)\n")
    month = add_months(first.replace(day=1), 1)
    stop = add_months(last.replace(day=1), 1)
    while month <= stop:
        sums = balances(entity_id, as_of=month.fromordinal(month.toordinal() - 1))
        for pk in sorted(sums, key=lambda k: names[k]):
            d, c = sums[pk]
            fh.write(f"{month.isoformat()} balance {names[pk]}  {_bc_amount(Money.from_minor(d - c, cur))}\n")
        month = add_months(month, 1)
