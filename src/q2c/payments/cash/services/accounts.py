"""Cash-application settings of the seller's bank accounts: CSV column mapping, bank-fee
tolerance, auto-apply threshold.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction

from q2c.core.money import Money
from q2c.parties.models import BankAccount as SellerBankAccount
from q2c.payments.bank import BankFileError, CsvMapping
from q2c.payments.cash import errors
from q2c.payments.cash.models import CashAccount
from q2c.payments.cash.services.importing import actor_name

MAX_TOLERANCE = Decimal("1000")


def settings_for(bank_account_id: int) -> CashAccount:
    """The stored settings, or unsaved defaults (no fee tolerance, threshold 90)."""
    found = CashAccount.objects.filter(bank_account_id=bank_account_id).first()
    if found is not None:
        return found
    currency = SellerBankAccount.objects.filter(pk=bank_account_id).values_list("currency", flat=True).first()
    if currency is None:
        raise errors.CashNotFound(f"no bank account {bank_account_id}", field="bank_account_id")
    return CashAccount(bank_account_id=bank_account_id, currency=currency, fee_tolerance=Money(0, currency))  # type: ignore[misc]


def settings_dict(row: CashAccount) -> dict[str, Any]:
    return {
        "bank_account_id": row.bank_account_id,
        "currency": row.currency,
        "fee_tolerance": str(row.fee_tolerance.amount),
        "auto_threshold": row.auto_threshold,
        "csv_mapping": row.csv_mapping or None,
    }


def update_settings(
    bank_account_id: int,
    *,
    fee_tolerance: str | Decimal | None = None,
    auto_threshold: int | None = None,
    csv_mapping: dict[str, Any] | None = None,
    clear_mapping: bool = False,
    actor: Any = None,
) -> CashAccount:
    """Change what is given; leave the rest.

    Errors: ``payments_cash.not_found`` (404), ``payments_cash.invalid_settings`` (422: tolerance
    negative, above 1,000 or with more decimals than the currency; threshold outside 50–99; a
    mapping for another currency), ``payments.bank.csv_mapping`` (422: the mapping is
    incomplete or has unknown keys).
    """
    with transaction.atomic():
        row = settings_for(bank_account_id)
        currency = (
            row.currency
            or SellerBankAccount.objects.filter(pk=bank_account_id).values_list("currency", flat=True).get()
        )
        if fee_tolerance is not None:
            try:
                value = Decimal(str(fee_tolerance).strip())
            except InvalidOperation:
                raise errors.CashInvalid(
                    "the fee tolerance is an amount", code=errors.INVALID_SETTINGS, field="fee_tolerance"
                ) from None
            if not value.is_finite() or value < 0 or value > MAX_TOLERANCE:
                raise errors.CashInvalid(
                    f"the fee tolerance is between 0 and {MAX_TOLERANCE}",
                    code=errors.INVALID_SETTINGS,
                    field="fee_tolerance",
                )
            money = Money(value, currency)
            if money.round() != money:
                raise errors.CashInvalid(
                    f"the fee tolerance has more decimals than {currency} allows",
                    code=errors.INVALID_SETTINGS,
                    field="fee_tolerance",
                )
            row.fee_tolerance = money
        if auto_threshold is not None:
            if not 50 <= int(auto_threshold) <= 99:
                raise errors.CashInvalid(
                    "the auto-apply threshold is between 50 and 99",
                    code=errors.INVALID_SETTINGS,
                    field="auto_threshold",
                )
            row.auto_threshold = int(auto_threshold)
        if clear_mapping:
            row.csv_mapping = {}
        elif csv_mapping is not None:
            try:
                mapping = CsvMapping.from_dict(csv_mapping)
            except BankFileError as exc:
                raise errors.CashInvalid(exc.message, code=exc.code, field="csv_mapping") from None
            if mapping.currency != currency:
                raise errors.CashInvalid(
                    f"the mapping reads {mapping.currency}; this account holds {currency}",
                    code=errors.INVALID_SETTINGS,
                    field="csv_mapping",
                )
            row.csv_mapping = mapping.to_dict()
        row.currency = currency
        row.updated_by = actor_name(actor)
        row.save()
    return row
