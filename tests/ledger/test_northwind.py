"""The Northwind story's journal gives the story's trial balances (northwind.md, "Trial balance")."""

from datetime import date

import pytest

from q2c.core.money import Money
from q2c.ledger import queries
from tests.ledger.northwind import TOTALS, TRIAL_BALANCE, post_northwind

ENTITY = 7


@pytest.mark.django_db
@pytest.mark.parametrize("as_of", [date(2027, 3, 31), date(2027, 4, 30)])
def test_the_northwind_journal_gives_the_storys_trial_balance(as_of):
    vat_key = post_northwind(ENTITY)
    tb = queries.trial_balance(ENTITY, as_of)
    balances = {("vat" if k == vat_key else k): v for k, v in tb.by_key().items()}
    assert balances == {k: Money(v, "EUR") for k, v in TRIAL_BALANCE[as_of].items()}
    assert tb.total_debit == tb.total_credit == Money(TOTALS[as_of], "EUR")


@pytest.mark.django_db
def test_a_trial_balance_before_any_posting_is_empty_and_balanced():
    post_northwind(ENTITY)
    tb = queries.trial_balance(ENTITY, date(2027, 1, 31))
    assert tb.rows == []
    assert tb.balanced
