"""The dry-run summary of a parsed bank file (``q2c bank import FILE --dry-run --json``).

Shape (decimal amounts as strings, totals per currency, debits as positive sums)::

    {"format": "camt.053.001.02", "statements": 1, "entries": 4, "transaction_details": 4,
     "totals": {"EUR": {"credits": "16311.61", "debits": "0.00"}},
     "duplicates": 0, "warnings": [{"code": "payments.bank.unknown_account", "message": …}]}

Duplicates are transaction details already known (``known_fingerprints``, from earlier imports)
plus those of statements the file itself repeats.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Container
from decimal import Decimal
from typing import Any

from q2c.core.money import currency_exponent
from q2c.payments.bank.errors import Notice
from q2c.payments.bank.model import ParsedFile


def _text(amount: Decimal, currency: str) -> str:
    return str(amount.quantize(Decimal(1).scaleb(-currency_exponent(currency))))


def dry_run_report(
    parsed: ParsedFile,
    *,
    known_fingerprints: Container[str] = frozenset(),
    known_accounts: Container[str] | None = None,
) -> dict[str, Any]:
    """Counts, totals per currency, duplicates and warnings of ``parsed``.

    ``known_accounts``: the bank accounts q2c holds; a statement for any other account is accepted
    with an ``unknown_account`` warning. ``None`` skips that check.
    """
    totals: dict[str, dict[str, Decimal]] = {}
    duplicates = parsed.repeated_details
    for statement in parsed.statements:
        for entry in statement.entries:
            bucket = totals.setdefault(entry.amount.currency, {"credits": Decimal(0), "debits": Decimal(0)})
            if entry.amount.amount >= 0:
                bucket["credits"] += entry.amount.amount
            else:
                bucket["debits"] -= entry.amount.amount
            duplicates += sum(1 for d in entry.details if d.fingerprint in known_fingerprints)
    warnings = list(parsed.warnings)
    if known_accounts is not None:
        for account in dict.fromkeys(s.account for s in parsed.statements):
            if account not in known_accounts:
                warnings.append(
                    Notice.of(
                        "unknown_account",
                        f"q2c knows no bank account {account}; its statements are read but cannot be saved",
                        f"account {account}",
                    )
                )
    return {
        "format": parsed.format,
        "statements": len(parsed.statements),
        "entries": parsed.entry_count,
        "transaction_details": parsed.detail_count,
        "totals": {
            currency: {key: _text(value, currency) for key, value in sums.items()}
            for currency, sums in sorted(totals.items())
        },
        "duplicates": duplicates,
        "warnings": [w.as_dict() for w in warnings],
    }
