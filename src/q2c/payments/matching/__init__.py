"""Cash application, pure: which open invoices a bank line pays, how surely, and why.

Public entry points (no Django; the payments app loads open items in bulk, calls these, applies
``auto`` outcomes through its payment service and shows the rest in the workbench):

- :class:`CashMatcher` ``(items, customers=(), payers=(), settings=None)`` with
  ``.match(line) -> Outcome`` and ``.match_all(lines) -> list[Outcome]``;
- :func:`match_lines` ``(lines, items, customers=(), payers=(), settings=None)``;
- :func:`bank_lines` ``(statements) -> list[BankLine]`` — parsed statements to matcher input;
- :func:`creditor_reference` ``(number) -> str`` — the ISO 11649 RF reference of an invoice number;
- the records in :mod:`q2c.payments.matching.model`.

Must not import Django; of q2c, only ``q2c.core``, the pure ``q2c.parties.references`` and this
app's pure ``q2c.payments.bank`` (import-linter checks it).
"""

from __future__ import annotations

from q2c.payments.matching.adapters import bank_lines
from q2c.payments.matching.engine import CashMatcher, match_lines
from q2c.payments.matching.model import (
    Application,
    BankLine,
    Customer,
    KnownPayer,
    MatchSettings,
    OpenItem,
    Outcome,
    Proposal,
    Reason,
    Status,
)
from q2c.payments.matching.references import creditor_reference, is_creditor_reference

__all__ = [
    "Application",
    "BankLine",
    "CashMatcher",
    "Customer",
    "KnownPayer",
    "MatchSettings",
    "OpenItem",
    "Outcome",
    "Proposal",
    "Reason",
    "Status",
    "bank_lines",
    "creditor_reference",
    "is_creditor_reference",
    "match_lines",
]
