"""The simulated bank's camt.053 files read back by q2c's own parser (an independent reader):
the amounts, balances, payers and references the simulation wrote."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.payments.bank.parse import parse_file
from q2c.simulation.bankfiles import Transfer, camt053


def test_a_days_statement_parses_with_chained_balances_and_the_payers_references():
    transfers = [
        Transfer(
            746725,
            "EUR",
            "Northwind Handels GmbH",
            "DE62370400440532013001",
            remittance="Invoice INV-2027-000001",
        ),
        Transfer(
            151575, "EUR", "Fabrikam <SARL> & Co", "FR7630006000011234567890189", reference="RF18539007547034"
        ),
    ]
    data, closing = camt053(
        iban="DE89370400440532013000", bic="COBADEFFXXX", currency="EUR", day=date(2027, 3, 3),
        opening_minor=100_000, transfers=transfers, sequence=7,
    )  # fmt: skip
    # 1,000.00 + 7,467.25 + 1,515.75 = 9,983.00
    assert closing == 998_300
    parsed = parse_file(data)
    (statement,) = parsed.statements
    assert statement.account == "DE89370400440532013000"
    assert statement.opening_balance is not None and statement.opening_balance.amount.amount == Decimal(
        "1000.00"
    )
    assert statement.closing_balance is not None and statement.closing_balance.amount.amount == Decimal(
        "9983.00"
    )
    first, second = statement.entries
    assert first.amount.amount == Decimal("7467.25") and first.booking_date == date(2027, 3, 3)
    (detail,) = first.details
    assert detail.remittance == "Invoice INV-2027-000001"
    assert detail.debtor_name == "Northwind Handels GmbH"
    (detail2,) = second.details
    assert detail2.references == ("RF18539007547034",)
    assert detail2.debtor_name == "Fabrikam <SARL> & Co"  # escaped in the XML, read back as written


def test_the_same_day_written_twice_is_the_same_file():
    args: dict[str, Any] = dict(iban="GB29NWBK60161331926819", bic="NWBKGB2LXXX", currency="GBP", day=date(2027, 5, 4),
                opening_minor=0, transfers=[Transfer(1200, "GBP", "Leeds Optics Ltd", "GB02NWBK60161331926820")], sequence=1)  # fmt: skip
    assert camt053(**args) == camt053(**args)
