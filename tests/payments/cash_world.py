"""Builders of the cash-application tests: Acme Cloud GmbH, Northwind and its five invoices of
../shared/scenarios/northwind.md step 4 (issued on their dates, totals as in the table), made
through the parties and invoicing services; the bank account's cash settings (fee tolerance 20.00
EUR: northwind.md Setup).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.billing.world import at, customer, draft_lines, seller

ACME_IBAN = "DE89370400440532013000"

# number, issue date, lines (description, quantity, unit price, tax category) → total with 19 % VAT
NORTHWIND_INVOICES: tuple[tuple[str, date, tuple[tuple[str, str, str, str], ...]], ...] = (
    # 6,275.00 + 19 % = 7,467.25
    (
        "INV-2027-000001",
        date(2027, 2, 1),
        (("50 SEAT Feb", "50", "25.50", "service"), ("ONB", "1", "5000.00", "service")),
    ),
    # 4,000.00 + 19 % = 4,760.00
    ("INV-2027-000002", date(2027, 2, 10), (("EDGE", "2", "2000.00", "service"),)),
    # 1,275.00 + 19 % = 1,517.25
    ("INV-2027-000003", date(2027, 3, 1), (("50 SEAT Mar", "50", "25.50", "service"),)),
    # 139.84 + 26.57 = 166.41
    ("INV-2027-000004", date(2027, 3, 15), (("10 SEAT 03-15..04-01", "1", "139.84", "service"),)),
    # 1,275.00 + 255.00 + 500.00 = 2,030.00 + 385.70 = 2,415.70
    (
        "INV-2027-000005",
        date(2027, 4, 1),
        (
            ("50 SEAT Apr", "50", "25.50", "service"),
            ("10 SEAT Apr", "10", "25.50", "service"),
            ("API March", "1", "500.00", "service"),
        ),
    ),
)


def acme_with_cash_settings(fee_tolerance: str = "20.00") -> Any:
    from q2c.parties.models import BankAccount
    from q2c.payments.cash.services import accounts

    entity = seller()
    bank = BankAccount.objects.get(entity=entity, iban=ACME_IBAN)
    accounts.update_settings(bank.pk, fee_tolerance=fee_tolerance, actor="test")
    return entity


def northwind_invoices(entity: Any) -> tuple[Any, dict[str, Any]]:
    """Northwind and its five issued invoices by number (the clock ends on 2027-04-01)."""
    from q2c.invoicing import services

    northwind = customer(entity)
    out = {}
    for number, day, lines in NORTHWIND_INVOICES:
        at(day)
        draft = services.create_draft(account_id=northwind.pk, lines=draft_lines(*lines))
        invoice = services.issue(draft.pk, formats=[])
        assert invoice.number == number
        out[number] = invoice
    return northwind, out


def northwind_on_statement_day() -> tuple[Any, Any, dict[str, Any]]:
    """Acme (fee tolerance 20.00), Northwind and its five issued invoices, the clock on
    2027-04-26 — the day of the bank lines of northwind.md step 8."""
    at(date(2027, 2, 1))
    entity = acme_with_cash_settings("20.00")
    northwind, invoices = northwind_invoices(entity)
    at(date(2027, 4, 26))
    return entity, northwind, invoices
