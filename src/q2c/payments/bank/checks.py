"""Balance checks over parsed statements: warnings, never refusals.

- ``balance_mismatch``: a statement's opening balance plus its booked entries is not its closing
  balance (a line missing from the file, or a bank error);
- ``balance_gap``: a statement's opening balance does not follow the previous closing balance of
  the same account — in the same file, or the last one q2c holds (``previous_closing``), which
  means a statement in between was never imported.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal

from q2c.payments.bank.errors import Notice
from q2c.payments.bank.model import Balance, Statement


def _label(statement: Statement) -> str:
    return f"statement {statement.statement_id or '?'} of {statement.account}"


def check_balances(
    statements: Iterable[Statement], previous_closing: Mapping[str, Balance] | None = None
) -> list[Notice]:
    """Warnings for statements that do not add up or do not follow on from the previous one.

    ``previous_closing`` maps an account to the closing balance of its last statement already
    imported (the ORM layer passes it; the dry run has none).
    """
    notices: list[Notice] = []
    last: dict[str, Balance] = dict(previous_closing or {})
    for statement in statements:
        opening, closing = statement.opening_balance, statement.closing_balance
        before = last.get(statement.account)
        if (
            opening is not None
            and before is not None
            and before.amount.currency == opening.amount.currency
            and before.amount != opening.amount
        ):
            since = f" of {before.date}" if before.date else ""
            notices.append(
                Notice.of(
                    "balance_gap",
                    f"opening balance {opening.amount} does not follow the previous closing balance "
                    f"{before.amount}{since} — a statement in between is missing?",
                    _label(statement),
                )
            )
        if opening is not None and closing is not None:
            booked = sum((e.amount.amount for e in statement.entries if e.status == "BOOK"), Decimal(0))
            if opening.amount.amount + booked != closing.amount.amount:
                notices.append(
                    Notice.of(
                        "balance_mismatch",
                        f"opening {opening.amount} + booked entries {booked} ≠ closing {closing.amount}",
                        _label(statement),
                    )
                )
        if closing is not None:
            last[statement.account] = closing
    return notices
