"""The chart-of-accounts template and the stable account keys other apps post to.

Every entity's chart starts from :data:`DEFAULT_CHART`. Other apps never hard-code account ids or
codes: they name an account by its *key* (``"ar"``, ``"revenue.subscriptions"``,
``"tax_payable.DE-S-19"``), which stays the same whatever code or name the user gives the
account. Users may add accounts of their own (without a key, or with a key of their choosing).

Pure: no Django, imports only ``q2c.core`` and ``q2c.ledger.categories``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from q2c.core.errors import ValidationError
from q2c.ledger.categories import RevenueCategory


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"


class Side(StrEnum):
    DEBIT = "debit"
    CREDIT = "credit"


#: The side on which an account of each type normally carries its balance.
NORMAL_SIDE: dict[AccountType, Side] = {
    AccountType.ASSET: Side.DEBIT,
    AccountType.EXPENSE: Side.DEBIT,
    AccountType.LIABILITY: Side.CREDIT,
    AccountType.EQUITY: Side.CREDIT,
    AccountType.REVENUE: Side.CREDIT,
}

# --- keys ---------------------------------------------------------------------------------------
BANK = "bank"
PAYMENT_CLEARING = "payment_clearing"
AR = "ar"
UNBILLED_RECEIVABLES = "unbilled_receivables"
CONTRACT_ASSETS = "contract_assets"
CUSTOMER_CREDITS = "customer_credits"
REFUNDS = "refunds"
DEFERRED_REVENUE = "deferred_revenue"
RETAINED_EARNINGS = "retained_earnings"
OPENING_BALANCES = "opening_balances"
FX_GAINS = "fx_gains"
BANK_FEES = "bank_fees"
BAD_DEBT = "bad_debt"
FX_LOSSES = "fx_losses"

_KEY = re.compile(r"^[a-z][a-z0-9_]*(\.[A-Za-z0-9_\-]+)?$")
_TAX_CODE = re.compile(r"^[A-Za-z0-9_\-]{1,40}$")


def revenue(category: RevenueCategory | str) -> str:
    """The key of the revenue account of a category: ``revenue(RevenueCategory.USAGE)``."""
    return f"revenue.{RevenueCategory(category).value}"


def tax_payable(tax_code: str) -> str:
    """The key of the tax-payable account of a tax code (created on demand by the ledger)."""
    return f"tax_payable.{check_tax_code(tax_code)}"


def check_tax_code(tax_code: str) -> str:
    if not isinstance(tax_code, str) or not _TAX_CODE.match(tax_code):
        raise ValidationError(
            f"'{tax_code}' is not a tax code (letters, digits, '-' and '_', at most 40)",
            code="ledger.invalid_tax_code",
            field="tax_code",
        )
    return tax_code


def is_valid_key(key: str) -> bool:
    return isinstance(key, str) and len(key) <= 80 and bool(_KEY.match(key))


@dataclass(frozen=True, slots=True)
class AccountSpec:
    code: str
    name: str
    type: AccountType
    key: str | None = None

    @property
    def normal_side(self) -> Side:
        return NORMAL_SIDE[self.type]


_REVENUE_CODES = {
    RevenueCategory.SUBSCRIPTIONS: "4000",
    RevenueCategory.SERVICES: "4010",
    RevenueCategory.HARDWARE: "4020",
    RevenueCategory.USAGE: "4030",
    RevenueCategory.OTHER: "4090",
}

#: The accounts every entity's chart starts with. Codes follow a plain 4-digit scheme (1 assets,
#: 2 liabilities, 3 equity, 4 revenue, 6 expenses); users may rename accounts or add their own.
DEFAULT_CHART: tuple[AccountSpec, ...] = (
    AccountSpec("1000", "Bank", AccountType.ASSET, BANK),
    AccountSpec("1090", "Payment clearing", AccountType.ASSET, PAYMENT_CLEARING),
    AccountSpec("1200", "Accounts receivable", AccountType.ASSET, AR),
    AccountSpec("1210", "Unbilled receivables", AccountType.ASSET, UNBILLED_RECEIVABLES),
    AccountSpec("1220", "Contract assets", AccountType.ASSET, CONTRACT_ASSETS),
    AccountSpec("2100", "Customer credits", AccountType.LIABILITY, CUSTOMER_CREDITS),
    AccountSpec("2110", "Refunds payable", AccountType.LIABILITY, REFUNDS),
    AccountSpec("2200", "Deferred revenue", AccountType.LIABILITY, DEFERRED_REVENUE),
    AccountSpec("3000", "Retained earnings", AccountType.EQUITY, RETAINED_EARNINGS),
    AccountSpec("3900", "Opening balances", AccountType.EQUITY, OPENING_BALANCES),
    *(
        AccountSpec(_REVENUE_CODES[c], f"Revenue — {c.value}", AccountType.REVENUE, revenue(c))
        for c in RevenueCategory
    ),
    AccountSpec("4900", "FX gains", AccountType.REVENUE, FX_GAINS),
    AccountSpec("6000", "Bank fees", AccountType.EXPENSE, BANK_FEES),
    AccountSpec("6100", "Bad debt", AccountType.EXPENSE, BAD_DEBT),
    AccountSpec("6900", "FX losses", AccountType.EXPENSE, FX_LOSSES),
)

#: Tax-payable accounts are numbered from here, one per tax code, as the codes first appear.
TAX_PAYABLE_CODE_RANGE = range(2300, 2400)


def tax_payable_spec(tax_code: str, used_codes: set[str]) -> AccountSpec:
    """The spec of a new tax-payable account: the first free code of the 2300–2399 range."""
    check_tax_code(tax_code)
    for number in TAX_PAYABLE_CODE_RANGE:
        if str(number) not in used_codes:
            return AccountSpec(
                str(number), f"Tax payable — {tax_code}", AccountType.LIABILITY, tax_payable(tax_code)
            )
    raise ValidationError(
        "no free account code left for tax payable (2300–2399)", code="ledger.chart_full", field="tax_code"
    )
