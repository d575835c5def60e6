"""The chart template: the accounts issue 4 lists, with stable keys, types and normal sides."""

import pytest

from q2c.core.errors import ValidationError
from q2c.ledger import chart
from q2c.ledger.categories import RevenueCategory
from q2c.ledger.chart import DEFAULT_CHART, AccountType, Side


def _by_key():
    return {spec.key: spec for spec in DEFAULT_CHART}


@pytest.mark.parametrize(
    ("key", "type_", "side"),
    [
        ("bank", AccountType.ASSET, Side.DEBIT),
        ("ar", AccountType.ASSET, Side.DEBIT),
        ("unbilled_receivables", AccountType.ASSET, Side.DEBIT),
        ("contract_assets", AccountType.ASSET, Side.DEBIT),
        ("payment_clearing", AccountType.ASSET, Side.DEBIT),
        ("deferred_revenue", AccountType.LIABILITY, Side.CREDIT),
        ("customer_credits", AccountType.LIABILITY, Side.CREDIT),
        ("refunds", AccountType.LIABILITY, Side.CREDIT),
        ("bank_fees", AccountType.EXPENSE, Side.DEBIT),
        ("bad_debt", AccountType.EXPENSE, Side.DEBIT),
        ("fx_losses", AccountType.EXPENSE, Side.DEBIT),
        ("fx_gains", AccountType.REVENUE, Side.CREDIT),
        ("retained_earnings", AccountType.EQUITY, Side.CREDIT),
    ],
)
def test_the_template_has_each_account_the_issue_lists_with_its_type_and_normal_side(key, type_, side):
    spec = _by_key()[key]
    assert (spec.type, spec.normal_side) == (type_, side)


def test_there_is_one_revenue_account_per_revenue_category():
    keys = _by_key()
    for category in RevenueCategory:
        spec = keys[f"revenue.{category.value}"]
        assert spec.type == AccountType.REVENUE
        assert category.value in spec.name
    assert chart.revenue(RevenueCategory.USAGE) == "revenue.usage"


def test_codes_and_keys_are_unique_and_keys_are_well_formed():
    codes = [s.code for s in DEFAULT_CHART]
    keys = [s.key for s in DEFAULT_CHART]
    assert len(set(codes)) == len(codes)
    assert len(set(keys)) == len(keys)
    assert all(k is not None and chart.is_valid_key(k) for k in keys)


def test_a_tax_payable_account_takes_the_first_free_code_of_its_range():
    spec = chart.tax_payable_spec("DE-S-19", {"2300", "2301", "1000"})
    assert (spec.code, spec.key, spec.type) == ("2302", "tax_payable.DE-S-19", AccountType.LIABILITY)


@pytest.mark.parametrize("code", ["", "DE 19", "x" * 41, "DE/19"])
def test_a_malformed_tax_code_is_refused(code):
    with pytest.raises(ValidationError) as err:
        chart.tax_payable(code)
    assert err.value.code == "ledger.invalid_tax_code"


def test_an_unknown_revenue_category_is_refused():
    with pytest.raises(ValueError):
        chart.revenue("consulting")
