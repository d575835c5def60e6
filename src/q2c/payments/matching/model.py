"""Plain data in and out of the cash-matching engine.

In (bulk-loaded by the caller, e.g. the payments app's queries):

- :class:`OpenItem` — an open invoice: id, customer, number, RF reference, open amount in integer
  minor units (as stored), currency, due date;
- :class:`Customer` — name and customer number;
- :class:`KnownPayer` — an IBAN (and the name it paid under) that earlier payments proved to be a
  customer's;
- :class:`BankLine` — one transaction detail of an imported statement;
- :class:`MatchSettings` — the auto-apply threshold, fee tolerance per bank account, bounds.

Out: one :class:`Outcome` per line — ``auto`` (apply now), ``proposed`` (the workbench shows the
proposal and its alternatives), ``unidentified`` (queue, never dropped) or ``not_receivable``
(money out, or nothing to apply). A :class:`Proposal` holds :class:`Application` rows (invoice,
cash applied, bank fee written off), any unapplied remainder, a confidence 0–100 and its reasons.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from q2c.core.money import Money

_Frozen = TypeVar("_Frozen")


def _quick_init(cls: type[_Frozen]) -> type[_Frozen]:
    """Give a frozen, slotted dataclass an ``__init__`` that fills each slot through its descriptor.

    The generated ``__init__`` of a frozen dataclass goes through ``object.__setattr__`` for every
    field; the matcher makes a few of these records per bank line (and the payments app a million
    open items per run), where that costs a tenth of the time. Same parameters, defaults and
    result; the instances stay frozen (assignment still raises).
    """
    names = [f.name for f in fields(cls)]  # type: ignore[arg-type]
    scope: dict[str, Any] = {f"_set_{n}": getattr(cls, n).__set__ for n in names}
    params = []
    for f in fields(cls):  # type: ignore[arg-type]
        if f.default_factory is not MISSING or not f.init:  # pragma: no cover - none of ours
            raise TypeError(f"{cls.__name__}.{f.name}: only plain defaults are supported")
        if f.default is MISSING:
            params.append(f.name)
        else:
            scope[f"_default_{f.name}"] = f.default
            params.append(f"{f.name}=_default_{f.name}")
    body = "".join(f"    _set_{n}(self, {n})\n" for n in names)
    namespace: dict[str, Any] = {}
    exec(f"def __init__(self, {', '.join(params)}):\n{body}", scope, namespace)  # noqa: S102 - as dataclasses do
    init: Callable[..., None] = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__annotations__ = dict(cls.__init__.__annotations__)
    init.__doc__ = cls.__init__.__doc__
    setattr(cls, "__init__", init)  # noqa: B010 - mypy refuses assigning a method
    return cls


@_quick_init
@dataclass(frozen=True, slots=True)
class OpenItem:
    item_id: int | str
    customer_id: int | str
    number: str  # e.g. INV-2027-000002
    open_minor: int  # open amount in minor units (cents), > 0
    currency: str
    due_date: date | None = None
    reference: str | None = None  # RF creditor reference printed on the invoice (upper case)


@_quick_init
@dataclass(frozen=True, slots=True)
class Customer:
    customer_id: int | str
    name: str
    number: str | None = None  # customer number people quote ("Kundennr. 10442")


@_quick_init
@dataclass(frozen=True, slots=True)
class KnownPayer:
    """An account that paid for ``customer_id`` before (learned from applied payments)."""

    iban: str
    customer_id: int | str
    name: str | None = None


@_quick_init
@dataclass(frozen=True, slots=True)
class BankLine:
    line_id: str  # the transaction detail's fingerprint
    amount_minor: int  # signed: money in > 0
    currency: str
    account: str = ""  # our bank account (IBAN) it was booked on: selects the fee tolerance
    booking_date: date | None = None
    remittance: str = ""
    references: tuple[str, ...] = ()  # structured references (RF, referred document numbers)
    payer_name: str | None = None
    payer_iban: str | None = None
    end_to_end_id: str | None = None


@dataclass(frozen=True)
class MatchSettings:
    #: proposals at or above this confidence apply themselves
    auto_threshold: int = 90
    #: bank fees accepted as a short payment, per bank account (our IBAN)
    fee_tolerance: Mapping[str, Money] = field(default_factory=dict)
    #: tolerance for accounts not listed (None: no fee accepted)
    default_fee_tolerance: Money | None = None
    #: subset-sum bounds: the customer's oldest open items considered, items per payment, nodes
    max_subset_items: int = 20
    max_subset_size: int = 5
    subset_budget: int = 5_000
    #: payer names at or above this score count as the customer's
    name_threshold: int = 88

    def tolerance_minor(self, account: str, currency: str) -> int:
        tolerance = self.fee_tolerance.get(account, self.default_fee_tolerance)
        if tolerance is None or tolerance.currency != currency:
            return 0
        return tolerance.round().minor_units()


class Status(StrEnum):
    AUTO = "auto"
    PROPOSED = "proposed"
    UNIDENTIFIED = "unidentified"
    NOT_RECEIVABLE = "not_receivable"


@_quick_init
@dataclass(frozen=True, slots=True)
class Reason:
    code: str  # stable: rf_reference, invoice_number, invoice_number_typo, amount_exact, bank_fee, …
    text: str


@_quick_init
@dataclass(frozen=True, slots=True)
class Application:
    """Cash applied to one invoice, and a bank fee written off on it — in minor units, as the
    payments app stores them; :attr:`amount`, :attr:`fee` and :attr:`settled` give Money."""

    item_id: int | str
    number: str
    amount_minor: int  # cash applied to the invoice
    fee_minor: int  # bank fee written off on the invoice (short payment within tolerance)
    currency: str

    @property
    def amount(self) -> Money:
        return Money.from_minor(self.amount_minor, self.currency)

    @property
    def fee(self) -> Money:
        return Money.from_minor(self.fee_minor, self.currency)

    @property
    def settled(self) -> Money:
        """What the invoice's open amount goes down by: cash plus fee."""
        return Money.from_minor(self.amount_minor + self.fee_minor, self.currency)


@_quick_init
@dataclass(frozen=True, slots=True)
class Proposal:
    applications: tuple[Application, ...]
    fee_minor: int  # total bank fee
    unapplied_minor: int  # cash left over (stays on the customer's account / in the queue)
    currency: str
    confidence: int  # 0–99
    reasons: tuple[Reason, ...]
    customer_id: int | str | None = None

    @property
    def fee(self) -> Money:
        return Money.from_minor(self.fee_minor, self.currency)

    @property
    def unapplied(self) -> Money:
        return Money.from_minor(self.unapplied_minor, self.currency)


@_quick_init
@dataclass(frozen=True, slots=True)
class Outcome:
    line_id: str
    status: Status
    proposal: Proposal | None = None
    alternatives: tuple[Proposal, ...] = ()
    reasons: tuple[Reason, ...] = ()  # why nothing (else) was proposed
