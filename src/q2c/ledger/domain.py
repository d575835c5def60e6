"""Journal entries as plain data, and their validation — the ledger's pure core.

Other apps build an :class:`EntryDraft` (a source reference, a date, a description and
:class:`DraftLine` s naming accounts by key or id) and hand it to ``ledger.services.post``.
:func:`validate` checks a draft against the entity's currency without a database: sources,
lines, decimals, currencies, original-currency amounts and — exactly, with no tolerance — that
debits equal credits. It returns the entry's total or raises the first problem as a
:mod:`q2c.ledger.errors` error whose ``field`` names the offending part (``lines[2].debit``).

Also pure here: period states and their transition table, month keys, reversal of lines and the
digest that seals a closed period.

Pure: no Django; imports only ``q2c.core`` and other pure ledger modules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from q2c.core.errors import ValidationError
from q2c.core.money import Money, currency_exponent
from q2c.ledger import errors
from q2c.ledger.chart import is_valid_key

#: Purpose of an ordinary posting; a source document may post more than one entry, each with its
#: own purpose (``"post"``, ``"recognition:2027-03"``, ``"reversal"`` …).
DEFAULT_PURPOSE = "post"
REVERSAL_PURPOSE = "reversal"

MAX_DESCRIPTION = 255
MAX_MEMO = 255
MAX_SOURCE_APP = 40
MAX_SOURCE_TYPE = 40
MAX_SOURCE_ID = 64
MAX_PURPOSE = 60


@dataclass(frozen=True, slots=True)
class SourceRef:
    """The document an entry comes from: app, document type and id (``invoicing/invoice/42``)."""

    app: str
    type: str
    id: str | int

    def __str__(self) -> str:
        return f"{self.app}/{self.type}/{self.id}"


@dataclass(frozen=True, slots=True)
class DraftLine:
    """One line: an account (id, or key such as ``"ar"``) and a debit or a credit.

    Amounts are in the entity's currency, rounded to its minor unit. Where the source was in
    another currency, ``original`` is that amount and ``rate`` the entity-currency units per
    original unit; the line's amount must be ``original × rate`` correctly rounded.
    """

    account: int | str
    debit: Money | None = None
    credit: Money | None = None
    original: Money | None = None
    rate: Decimal | None = None
    memo: str = ""

    @classmethod
    def dr(cls, account: int | str, amount: Money, **kwargs: Any) -> DraftLine:
        return cls(account, debit=amount, **kwargs)

    @classmethod
    def cr(cls, account: int | str, amount: Money, **kwargs: Any) -> DraftLine:
        return cls(account, credit=amount, **kwargs)

    @property
    def amount(self) -> Money:
        value = self.debit if self.debit is not None else self.credit
        assert value is not None
        return value

    @property
    def is_debit(self) -> bool:
        return self.debit is not None

    def reversed(self) -> DraftLine:
        """The same line on the other side (original amount and rate kept)."""
        return DraftLine(
            self.account,
            debit=self.credit,
            credit=self.debit,
            original=self.original,
            rate=self.rate,
            memo=self.memo,
        )


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry to post: entity, business date, description, source reference and lines."""

    entity_id: int
    date: date
    description: str
    source: SourceRef | None
    lines: tuple[DraftLine, ...] = field(default_factory=tuple)
    purpose: str = DEFAULT_PURPOSE

    def __post_init__(self) -> None:
        if not isinstance(self.lines, tuple):
            object.__setattr__(self, "lines", tuple(self.lines))


def _money(value: Any, where: str) -> Money:
    if not isinstance(value, Money):
        raise errors.InvalidLine(f"{where} must be Money, not {type(value).__name__}", field=where)
    return value


def _check_source(draft: EntryDraft, prefix: str) -> None:
    src = draft.source
    if src is None:
        raise errors.MissingSource(
            "an entry needs a source reference (app, type, id)", field=f"{prefix}source"
        )
    for part, limit in (("app", MAX_SOURCE_APP), ("type", MAX_SOURCE_TYPE), ("id", MAX_SOURCE_ID)):
        value = getattr(src, part)
        text = str(value).strip() if isinstance(value, str | int) and not isinstance(value, bool) else ""
        if not text:
            raise errors.MissingSource(f"the source reference has no {part}", field=f"{prefix}source.{part}")
        if len(text) > limit:
            raise errors.MissingSource(
                f"the source {part} is longer than {limit} characters", field=f"{prefix}source.{part}"
            )
    purpose = draft.purpose
    if not isinstance(purpose, str) or not purpose.strip() or len(purpose) > MAX_PURPOSE:
        raise errors.MissingSource(
            f"the purpose must be text of 1 to {MAX_PURPOSE} characters", field=f"{prefix}purpose"
        )


def _check_header(draft: EntryDraft, prefix: str) -> None:
    if not isinstance(draft.entity_id, int) or isinstance(draft.entity_id, bool) or draft.entity_id <= 0:
        raise ValidationError(
            "entity_id must be a positive integer", code="ledger.invalid_entry", field=f"{prefix}entity_id"
        )
    if not isinstance(draft.date, date) or isinstance(draft.date, datetime):
        raise ValidationError(
            "the entry date must be a date", code="ledger.invalid_entry", field=f"{prefix}date"
        )
    desc = draft.description
    if not isinstance(desc, str) or not desc.strip():
        raise ValidationError(
            "an entry needs a description", code="ledger.invalid_entry", field=f"{prefix}description"
        )
    if len(desc) > MAX_DESCRIPTION:
        raise ValidationError(
            f"the description is longer than {MAX_DESCRIPTION} characters",
            code="ledger.invalid_entry",
            field=f"{prefix}description",
        )


def _check_original(line: DraftLine, amount: Money, currency: str, where: str) -> None:
    if line.original is None and line.rate is None:
        return
    if line.original is None or line.rate is None:
        raise errors.InvalidLine(
            "an original-currency amount needs both the amount and the rate", field=f"{where}.original"
        )
    original = _money(line.original, f"{where}.original")
    if original.currency == currency:
        raise errors.InvalidLine(
            f"the original amount is already in {currency}; leave it out", field=f"{where}.original"
        )
    if not original.is_rounded():
        raise errors.TooManyDecimals(
            f"{original} has more decimals than {original.currency} allows ({original.exponent})",
            field=f"{where}.original",
        )
    if original.amount <= 0:
        raise errors.InvalidLine("the original amount must be positive", field=f"{where}.original")
    rate = line.rate
    if not isinstance(rate, Decimal) or not rate.is_finite() or rate <= 0:
        raise errors.InvalidLine("the rate must be a positive Decimal", field=f"{where}.rate")
    # The line must be the converted original correctly rounded (either rounding mode): off by
    # at most half a minor unit. This checks the conversion, not the balance, which stays exact.
    half_unit = Decimal(1).scaleb(-currency_exponent(currency)) / 2
    if abs(original.amount * rate - amount.amount) > half_unit:
        raise errors.InvalidLine(
            f"{original} × {rate} = {original.amount * rate} {currency}, which does not round to {amount}",
            code="ledger.rate_mismatch",
            field=f"{where}.rate",
        )


def _check_line(line: Any, currency: str, where: str) -> Money:
    if not isinstance(line, DraftLine):
        raise errors.InvalidLine(f"{where} is not a DraftLine", field=where)
    acct = line.account
    if isinstance(acct, bool) or not (
        (isinstance(acct, int) and acct > 0) or (isinstance(acct, str) and is_valid_key(acct))
    ):
        raise errors.UnknownAccount(f"'{acct}' is not an account id or key", field=f"{where}.account")
    if (line.debit is None) == (line.credit is None):
        raise errors.InvalidLine("a line has either a debit or a credit", field=where)
    side = "debit" if line.debit is not None else "credit"
    amount = _money(line.debit if line.debit is not None else line.credit, f"{where}.{side}")
    if amount.currency != currency:
        raise errors.CurrencyMismatch(
            f"line amounts are in the entity's currency {currency}, not {amount.currency} "
            "(give the source currency as the line's original amount and rate)",
            field=f"{where}.{side}",
        )
    if not amount.is_rounded():
        raise errors.TooManyDecimals(
            f"{amount} has more decimals than {currency} allows ({amount.exponent})",
            field=f"{where}.{side}",
        )
    if amount.amount <= 0:
        raise errors.InvalidLine(
            f"a line amount must be positive (got {amount}); a negative debit is a credit",
            field=f"{where}.{side}",
        )
    if not isinstance(line.memo, str) or len(line.memo) > MAX_MEMO:
        raise errors.InvalidLine(
            f"the memo must be text of at most {MAX_MEMO} characters", field=f"{where}.memo"
        )
    _check_original(line, amount, currency, where)
    return amount


def validate(draft: EntryDraft, currency: str, *, prefix: str = "") -> Money:
    """Check a draft against the entity currency; return its total (the sum of the debits).

    Raises (nothing is posted): ``ledger.no_source``, ``ledger.invalid_entry``,
    ``ledger.empty_entry``, ``ledger.unknown_account`` (malformed reference; whether the account
    exists is checked when posting), ``ledger.invalid_line``, ``ledger.currency_mismatch``,
    ``ledger.too_many_decimals``, ``ledger.rate_mismatch``, ``ledger.unbalanced``.
    """
    if not isinstance(draft, EntryDraft):
        raise ValidationError(
            "not an EntryDraft", code="ledger.invalid_entry", field=prefix.rstrip(".") or None
        )
    _check_source(draft, prefix)
    _check_header(draft, prefix)
    if len(draft.lines) < 2:
        raise errors.EmptyEntry("an entry needs at least two lines", field=f"{prefix}lines")
    debit = Money.zero(currency)
    credit = Money.zero(currency)
    for i, line in enumerate(draft.lines):
        amount = _check_line(line, currency, f"{prefix}lines[{i}]")
        if line.debit is not None:
            debit = debit + amount
        else:
            credit = credit + amount
    if debit != credit:
        diff = debit - credit
        raise errors.Unbalanced(
            f"the entry does not balance: debits {debit} ≠ credits {credit} (difference {diff.amount} {currency})",
            field=f"{prefix}lines",
        )
    return debit


def reversal_lines(lines: Sequence[DraftLine]) -> tuple[DraftLine, ...]:
    return tuple(line.reversed() for line in lines)


# --- periods ------------------------------------------------------------------------------------
class PeriodStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


#: Closing an open period and reopening a closed one (admin only) are the only moves.
PERIOD_TRANSITIONS: dict[PeriodStatus, frozenset[PeriodStatus]] = {
    PeriodStatus.OPEN: frozenset({PeriodStatus.CLOSED}),
    PeriodStatus.CLOSED: frozenset({PeriodStatus.OPEN}),
}


def month_key(day: date) -> str:
    """``2027-03`` for any day of March 2027."""
    return f"{day.year:04d}-{day.month:02d}"


def parse_month(text: str, *, field: str = "period") -> date:
    """The first day of a ``YYYY-MM`` month; anything else is a ``ValidationError``."""
    try:
        if not isinstance(text, str) or len(text) != 7 or text[4] != "-":
            raise ValueError
        return date(int(text[:4]), int(text[5:]), 1)
    except ValueError:
        raise ValidationError(
            f"'{text}' is not a month in the form YYYY-MM", code="ledger.invalid_period", field=field
        ) from None


def digest_rows(rows: Iterable[Sequence[Any]]) -> str:
    """SHA-256 over the canonical text of rows: each value as text, ``|``-separated, one per line.

    ``rows`` must come in a stable order; any changed amount, account, date or reference changes
    the digest.
    """
    h = hashlib.sha256()
    for row in rows:
        h.update("|".join("" if v is None else str(v) for v in row).encode())
        h.update(b"\n")
    return h.hexdigest()


#: A closed period's digest (stored at close, recomputed by the checks) covers its entries' rows
#: and then its lines' rows, each in id order.
period_digest = digest_rows


def entry_digest(head: Sequence[Any], lines: Iterable[Sequence[Any]]) -> str:
    """The digest of one entry as posted: its header row then its line rows in line order.

    ``head`` is ``(entity_id, number, date, description, source_app, source_type, source_id,
    purpose, currency, reverses_id)``; each line ``(line_no, account_id, currency, debit_minor,
    credit_minor, original_minor, original_currency, rate, memo)``.
    """
    return digest_rows([("E", *head), *(("L", *ln) for ln in lines)])
