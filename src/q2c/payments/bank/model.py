"""What a bank file says, as plain immutable data: statements, entries, transaction details.

Every parser (camt.053/054, MT940, BAI2, CSV) produces the same shapes:

- :class:`Statement` — one account's statement (or camt.054 notification): account, currency,
  opening/closing balances, entries.
- :class:`Entry` — one booking on the account (camt ``Ntry``, MT940 ``:61:``, BAI2 ``16``, one
  CSV row). A batch booking is one entry holding several transaction details.
- :class:`TransactionDetail` — one payment inside an entry (camt ``TxDtls``). It is the unit cash
  application works on. An entry that arrives without details gets exactly one *implicit* detail
  built from the entry itself, so every booked amount is covered by details and no line is lost.

Amounts are exact :class:`~q2c.core.money.Money`, **signed**: money in (credit) is positive, money
out (debit) negative — whatever the file's way of saying it (CdtDbtInd, C/D/RC/RD marks, BAI2 type
codes, CSV columns). Each entry and detail has a ``fingerprint``: a stable hash of what the bank
said about the line (account, dates, amount, references, counterparty, text) plus its occurrence
number among identical lines of the file, so importing the same file — or a later file repeating
the same lines — is recognised line by line (see :mod:`q2c.payments.bank.fingerprint`).

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from q2c.core.money import Money
from q2c.payments.bank.errors import Notice


@dataclass(frozen=True, slots=True)
class Balance:
    """A balance the bank reports, signed (an overdrawn account is negative)."""

    amount: Money
    date: date | None
    kind: str  # the bank's code: OPBD, PRCD, CLBD, ITBD (camt), 60F/62F/60M/62M (MT940), 010/015 (BAI2)


@dataclass(frozen=True, slots=True)
class TransactionDetail:
    """One payment inside an entry; ``amount`` is signed like its entry."""

    amount: Money
    fingerprint: str
    end_to_end_id: str | None = None
    remittance: str = ""  # unstructured remittance lines joined by a space
    references: tuple[str, ...] = ()  # structured creditor references (ISO 11649 RF or national)
    debtor_name: str | None = None
    debtor_iban: str | None = None
    creditor_name: str | None = None
    creditor_iban: str | None = None
    bank_reference: str | None = None
    implicit: bool = False  # built from an entry that carried no transaction details

    @property
    def counterparty_name(self) -> str | None:
        """Who paid us (for money in) or whom we paid (for money out)."""
        return self.debtor_name if self.amount.amount >= 0 else self.creditor_name

    @property
    def counterparty_iban(self) -> str | None:
        return self.debtor_iban if self.amount.amount >= 0 else self.creditor_iban


@dataclass(frozen=True, slots=True)
class Entry:
    """One booking on the account; ``amount`` is signed (credit > 0, debit < 0)."""

    amount: Money
    fingerprint: str
    booking_date: date | None
    value_date: date | None
    details: tuple[TransactionDetail, ...]
    status: str = "BOOK"  # BOOK (booked), PDNG (pending), INFO
    reversal: bool = False  # the booking reverses an earlier one (camt RvslInd, MT940 RC/RD)
    bank_reference: str | None = None  # account servicer's reference (AcctSvcrRef, :61: //ref)
    entry_reference: str | None = None  # NtryRef, :61: customer reference
    bank_transaction_code: str | None = None
    additional_info: str = ""


@dataclass(frozen=True, slots=True)
class Statement:
    """One account's statement (``kind="statement"``) or notification (``"notification"``)."""

    statement_id: str
    account: str  # IBAN when the bank gives one, else its account identifier
    currency: str
    entries: tuple[Entry, ...]
    fingerprint: str
    kind: str = "statement"
    created_at: datetime | None = None
    from_date: date | None = None
    to_date: date | None = None
    sequence: str | None = None  # electronic sequence number / MT940 :28C:
    opening_balance: Balance | None = None
    closing_balance: Balance | None = None


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """A whole file, parsed completely or not at all."""

    format: str  # "camt.053.001.02", "camt.054.001.08", "mt940", "bai2", "csv"
    statements: tuple[Statement, ...]
    warnings: tuple[Notice, ...] = ()
    sha256: str = ""
    #: transaction details dropped because the file repeats a statement it already holds
    repeated_details: int = field(default=0)

    @property
    def entry_count(self) -> int:
        return sum(len(s.entries) for s in self.statements)

    @property
    def detail_count(self) -> int:
        return sum(len(e.details) for s in self.statements for e in s.entries)

    def details(self) -> Iterator[tuple[Statement, Entry, TransactionDetail]]:
        """Every transaction detail with its statement and entry, in file order."""
        for statement in self.statements:
            for entry in statement.entries:
                for detail in entry.details:
                    yield statement, entry, detail
