"""Receivables metrics: DSO (standard, count-back), CEI, aging, collection and bad-debt rates,
disputes, billings and billing accuracy — hand-worked examples, sources cited, and properties."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from q2c.analytics.metrics import (
    BUCKETS,
    CreditNote,
    Dispute,
    Invoice,
    Payment,
    RangeReversed,
    RateTable,
    Receivables,
    WriteOff,
    ar_aging,
    ar_total,
    bad_debt_rate,
    billing_accuracy,
    billings,
    cei,
    collection_rate,
    disputes,
    dso,
    dso_countback,
)
from q2c.core.errors import ValidationError
from tests.analytics.conftest import d, eur, usd

RATES = RateTable.fixed("EUR", {"USD": "0.9"})

# Count-back example after benjipays.com ("Mastering DSO Calculation: The Count-Back Method
# Explained"): monthly credit sales 70,000 / 80,000 / 100,000, closing AR 212,000. The source counts
# 30-day months (73.71 days); q2c counts each month's real days (April 30, May 31, June 30).
QUARTER = Receivables(
    invoices=[
        Invoice(1, 1, d("2027-04-15"), d("2027-05-15"), eur(70000)),
        Invoice(2, 2, d("2027-05-15"), d("2027-06-14"), eur(80000)),
        Invoice(3, 3, d("2027-06-15"), d("2027-07-15"), eur(100000)),
    ],
    payments=[Payment(1, d("2027-05-20"), eur(38000))],  # leaves 32,000 open on invoice 1
)
Q_START, Q_END = d("2027-04-01"), d("2027-07-01")


def test_count_back_dso_walks_back_through_monthly_sales():
    # June covers 100,000 → 30 days, 112,000 left; May 80,000 → 31 days, 32,000 left;
    # April: 32,000 / 70,000 × 30 = 13.714285… → 74.714285… days
    expected = Decimal(61) + Decimal(32000) / Decimal(70000) * 30
    assert dso_countback(QUARTER, Q_START, Q_END, RATES) == expected


def test_standard_dso_is_closing_ar_over_sales_times_days():
    # 212,000 / 250,000 × 91 days = 77.168
    assert dso(QUARTER, Q_START, Q_END, RATES) == Decimal("77.168")


def test_aging_puts_each_open_balance_in_its_days_past_due_bucket():
    # At 30 June: inv 1 due 15 May → 46 days late (16 + 30): 31–60; inv 2 due 14 June → 16 days:
    # 1–30; inv 3 due 15 July → current.
    aging = ar_aging(QUARTER, d("2027-06-30"), RATES)
    assert aging == {
        "current": eur(100000),
        "1-30": eur(80000),
        "31-60": eur(32000),
        "61-90": eur(0),
        "90+": eur(0),
    }
    assert list(aging) == list(BUCKETS)


def test_an_invoice_due_today_is_current_and_one_day_later_is_in_1_to_30():
    data = Receivables(invoices=[Invoice(1, 1, d("2027-01-01"), d("2027-01-31"), eur(10))])
    assert ar_aging(data, d("2027-01-31"), RATES)["current"] == eur(10)
    assert ar_aging(data, d("2027-02-01"), RATES)["1-30"] == eur(10)
    # 1 May is 90 days after 31 January (28 + 31 + 30 + 1): still 61–90; 2 May is 91 days: 90+.
    assert ar_aging(data, d("2027-05-01"), RATES)["61-90"] == eur(10)
    assert ar_aging(data, d("2027-05-02"), RATES)["90+"] == eur(10)


# CEI: creditguru.com "Ratio - Collection Effectiveness Index (CEI)" illustration, Jan–Mar, N = 3:
# beginning receivables 6,200, credit sales 10,890, ending total 6,340, ending current 3,590 →
# CEI = 55.9 %. Records built to give exactly those four figures:
CEI_DATA = Receivables(
    invoices=[
        Invoice(10, 1, d("2026-12-01"), d("2026-12-31"), eur(6200)),  # the opening AR
        Invoice(11, 1, d("2027-01-10"), d("2027-02-09"), eur(3390)),
        Invoice(12, 2, d("2027-02-10"), d("2027-03-12"), eur(3610)),
        Invoice(13, 3, d("2027-03-10"), d("2027-04-09"), eur(3890)),  # not yet due at 31 March
    ],
    payments=[
        Payment(10, d("2027-01-20"), eur(6200)),
        Payment(11, d("2027-02-15"), eur(2390)),  # 1,000 left, past due
        Payment(12, d("2027-03-20"), eur(1860)),  # 1,750 left, past due
        Payment(13, d("2027-03-25"), eur(300)),  # 3,590 left, current
    ],
)
JAN, APR = d("2027-01-01"), d("2027-04-01")


def test_cei_averaged_per_month_matches_the_credit_research_worked_example():
    assert ar_total(CEI_DATA, d("2026-12-31"), RATES) == eur(6200)
    assert ar_total(CEI_DATA, d("2027-03-31"), RATES) == eur(6340)
    # (6,200 + 10,890 / 3 − 6,340) / (6,200 + 3,630 − 3,590) = 3,490 / 6,240 = 0.5593 → 55.9 %
    assert cei(CEI_DATA, JAN, APR, RATES, average_months=True) == Decimal(3490) / Decimal(6240)


def test_cei_over_the_whole_period_matches_the_same_figures_without_averaging():
    # wizedu.com works the same table without dividing by N:
    # (6,200 + 10,890 − 6,340) / (6,200 + 10,890 − 3,590) = 10,750 / 13,500 = 0.7963 → 79.63 %
    assert cei(CEI_DATA, JAN, APR, RATES) == Decimal(10750) / Decimal(13500)


def test_collection_rate_is_cash_over_what_could_be_collected():
    # cash 6,200 + 2,390 + 1,860 + 300 = 10,750 over opening 6,200 + sales 10,890 = 17,090
    assert collection_rate(CEI_DATA, JAN, APR, RATES) == Decimal(10750) / Decimal(17090)


def test_write_offs_set_the_bad_debt_rate_and_leave_ar():
    data = Receivables(
        invoices=[
            Invoice(1, 1, d("2027-01-05"), d("2027-02-04"), eur(1000)),
            Invoice(2, 2, d("2027-01-06"), d("2027-02-05"), eur(3000)),
        ],
        write_offs=[WriteOff(1, d("2027-01-25"), eur(250))],
    )
    # 250 / 4,000 = 0.0625; AR at 31 Jan = 750 + 3,000
    assert bad_debt_rate(data, JAN, d("2027-02-01"), RATES) == Decimal("0.0625")
    assert ar_total(data, d("2027-01-31"), RATES) == eur(3750)


def test_billings_are_invoices_less_credit_notes_and_accuracy_counts_credit_notes_per_invoice():
    data = Receivables(
        invoices=[Invoice(i, i, d("2027-01-10"), d("2027-02-09"), eur(1000)) for i in (1, 2, 3, 4)]
        + [Invoice(5, 5, d("2027-01-10"), d("2027-02-09"), usd(1000))],
        credit_notes=[
            CreditNote(1, 1, d("2027-01-15"), eur(200)),
            CreditNote(2, 1, d("2027-01-20"), eur(100)),
            CreditNote(3, 2, d("2027-02-03"), eur(50)),  # issued after January: not in its billings
        ],
    )
    feb = d("2027-02-01")
    # 4 × 1,000 + 1,000 USD × 0.9 − 200 − 100 = 4,600.00
    assert billings(data, JAN, feb, RATES) == eur("4600.00")
    acc = billing_accuracy(data, JAN, feb)
    # 3 credit notes against January's 5 invoices; invoices 1 and 2 credited → 3 of 5 accurate
    assert (acc.invoices, acc.credit_notes) == (5, 3)
    assert acc.credit_notes_per_invoice == Decimal("0.6")
    assert acc.accuracy == Decimal("0.6")


def test_disputes_count_what_opened_in_the_range_and_what_is_still_open_at_its_close():
    data = Receivables(
        invoices=[Invoice(i, i, d("2027-01-10"), d("2027-02-09"), eur(100)) for i in range(1, 5)]
    )
    items = [
        Dispute(1, 1, d("2026-12-20"), eur(40)),  # before the range, still open
        Dispute(2, 2, d("2027-01-12"), eur(60), resolved_on=d("2027-01-20")),
        Dispute(3, 3, d("2027-01-25"), usd(100)),
    ]
    stats = disputes(items, data, JAN, d("2027-02-01"), RATES)
    assert (stats.opened, stats.open_at_end) == (2, 2)
    assert stats.opened_amount == eur("150.00")  # 60 + 100 USD × 0.9
    assert stats.rate == Decimal("0.5")  # 2 disputes / 4 invoices


def test_a_foreign_invoice_paid_in_full_leaves_no_balance_after_the_rate_moved():
    rates = RateTable("EUR", {"USD": [(d("2027-01-01"), Decimal("0.9")), (d("2027-01-15"), Decimal(1))]})
    data = Receivables(
        invoices=[Invoice(1, 1, d("2027-01-02"), d("2027-02-01"), usd(100))],
        payments=[Payment(1, d("2027-01-20"), usd(100))],
    )
    assert ar_total(data, d("2027-01-31"), rates) == eur(0)


def test_empty_ranges_and_no_sales_give_none():
    day = d("2027-01-10")
    assert dso(CEI_DATA, day, day, RATES) is None
    assert dso_countback(CEI_DATA, day, day, RATES) is None
    assert cei(CEI_DATA, day, day, RATES) is None
    assert bad_debt_rate(CEI_DATA, day, day, RATES) is None
    assert billings(CEI_DATA, day, day, RATES) == eur("0.00")
    empty = Receivables()
    assert collection_rate(empty, JAN, APR, RATES) is None
    acc = billing_accuracy(empty, JAN, APR)
    assert (acc.invoices, acc.credit_notes_per_invoice, acc.accuracy) == (0, None, None)
    assert disputes([], empty, JAN, APR, RATES).rate is None


@pytest.mark.parametrize(
    "call",
    [
        lambda: dso(CEI_DATA, APR, JAN, RATES),
        lambda: dso_countback(CEI_DATA, APR, JAN, RATES),
        lambda: cei(CEI_DATA, APR, JAN, RATES),
        lambda: collection_rate(CEI_DATA, APR, JAN, RATES),
        lambda: bad_debt_rate(CEI_DATA, APR, JAN, RATES),
        lambda: billings(CEI_DATA, APR, JAN, RATES),
        lambda: billing_accuracy(CEI_DATA, APR, JAN),
        lambda: disputes([], CEI_DATA, APR, JAN, RATES),
    ],
)
def test_a_reversed_range_is_refused_with_a_stable_code(call):
    with pytest.raises(RangeReversed) as err:
        call()
    assert err.value.code == "analytics.range_reversed"


@pytest.mark.parametrize(
    "build",
    [
        lambda: Invoice(1, 1, d("2027-01-10"), d("2027-01-09"), eur(1)),  # due before issue
        lambda: Invoice(1, 1, d("2027-01-10"), d("2027-01-10"), eur(0)),
        lambda: Payment(1, d("2027-01-10"), eur(-5)),
        lambda: CreditNote(1, 1, d("2027-01-10"), eur(0)),
        lambda: WriteOff(1, d("2027-01-10"), eur(-1)),
        lambda: Dispute(1, 1, d("2027-01-10"), eur(0)),
    ],
)
def test_impossible_receivable_records_are_refused(build):
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.code == "analytics.invalid"


# --- properties -------------------------------------------------------------------------------
BASE = date(2027, 1, 1)
invoice_specs = st.lists(
    st.tuples(
        st.integers(0, 200),  # issue day offset
        st.integers(0, 90),  # terms in days
        st.integers(1, 100_000),  # total in cents
        st.sampled_from(["EUR", "USD"]),
        st.integers(0, 120),  # share paid, percent (above 100 = overpaid)
        st.integers(0, 60),  # days after issue it was paid
    ),
    max_size=25,
)


def _receivables(specs) -> Receivables:
    invoices, payments = [], []
    for i, (offset, terms, cents, cur, paid_pct, paid_after) in enumerate(specs):
        issue = BASE + timedelta(days=offset)
        total = Decimal(cents) / 100
        invoices.append(Invoice(i, i, issue, issue + timedelta(days=terms), _m(total, cur)))
        if paid_pct:
            payments.append(Payment(i, issue + timedelta(days=paid_after), _m(total * paid_pct / 100, cur)))
    return Receivables(invoices=invoices, payments=payments)


def _m(amount: Decimal, cur: str):
    return eur(str(amount)) if cur == "EUR" else usd(str(amount))


@settings(max_examples=150, deadline=None)
@given(invoice_specs, st.integers(0, 300))
def test_aging_buckets_always_sum_to_the_total_open_ar(specs, as_of_offset):
    data = _receivables(specs)
    as_of = BASE + timedelta(days=as_of_offset)
    aging = ar_aging(data, as_of, RATES)
    assert sum(aging.values(), eur(0)) == ar_total(data, as_of, RATES)
    assert all(bucket.amount >= 0 for bucket in aging.values())
    # Independent recomputation: open balances straight from the specs.
    expected = Decimal(0)
    for offset, _terms, cents, cur, paid_pct, paid_after in specs:
        if offset > as_of_offset:
            continue
        total = Decimal(cents) / 100
        paid = total * paid_pct / 100 if paid_pct and offset + paid_after <= as_of_offset else Decimal(0)
        left = (total - paid) * (Decimal("0.9") if cur == "USD" else 1)
        expected += max(left, Decimal(0))
    assert ar_total(data, as_of, RATES).amount == expected


@settings(max_examples=100, deadline=None)
@given(invoice_specs)
def test_whole_period_cei_and_collection_rate_stay_within_zero_and_one_without_overpayment(specs):
    specs = [(*s[:4], min(s[4], 100), *s[5:]) for s in specs]
    data = _receivables(specs)
    for value in (
        cei(data, BASE, d("2027-04-01"), RATES),
        collection_rate(data, BASE, d("2027-04-01"), RATES),
    ):
        assert value is None or Decimal(0) <= value <= Decimal(1)
