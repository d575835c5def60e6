"""From parsed bank files to matcher input: one :class:`BankLine` per transaction detail.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Iterable

from q2c.payments.bank.model import ParsedFile, Statement
from q2c.payments.matching.model import BankLine


def bank_lines(statements: Iterable[Statement]) -> list[BankLine]:
    """Every transaction detail as a :class:`BankLine` (booked and pending alike, in file order)."""
    out = []
    for statement in statements:
        for entry in statement.entries:
            for detail in entry.details:
                out.append(
                    BankLine(
                        line_id=detail.fingerprint,
                        amount_minor=detail.amount.minor_units(),
                        currency=detail.amount.currency,
                        account=statement.account,
                        booking_date=entry.booking_date or entry.value_date,
                        remittance=" ".join(
                            p
                            for p in (detail.remittance, entry.additional_info if detail.implicit else "")
                            if p
                        ),
                        references=detail.references,
                        payer_name=detail.counterparty_name,
                        payer_iban=detail.counterparty_iban,
                        end_to_end_id=detail.end_to_end_id,
                    )
                )
    return out


def lines_from_file(parsed: ParsedFile) -> list[BankLine]:
    return bank_lines(parsed.statements)
