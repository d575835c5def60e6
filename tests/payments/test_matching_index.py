"""The matcher's bulk building blocks: position indexes, number keys in bulk, compact RF checks.

Each is a faster way to compute what a plain loop computes; the expected values are worked out
by hand (positions counted from 0).
"""

from datetime import date

from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from q2c.payments.matching import BankLine, CashMatcher, Customer, KnownPayer, OpenItem, Status
from q2c.payments.matching.index import PositionIndex
from q2c.payments.matching.references import (
    creditor_reference,
    is_compact_creditor_reference,
    is_creditor_reference,
)
from q2c.payments.matching.text import number_key, number_keys


def test_integer_values_list_their_positions_in_position_order():
    index = PositionIndex([500, 200, 500, 900, 200, 500])
    assert list(index.get(500)) == [0, 2, 5]
    assert list(index.get(200)) == [1, 4]
    assert list(index.get(900)) == [3]
    assert list(index.get(7)) == []
    assert (index.size(500), index.size(900), index.size(7)) == (3, 1, 0)
    assert 900 in index
    assert 7 not in index


def test_a_value_added_later_follows_the_positions_indexed_at_first():
    index = PositionIndex([500, 200, 500])
    index.add(200, 3)  # a partly paid invoice now open for 2.00
    index.add(100, 4)
    assert list(index.get(200)) == [1, 3]
    assert list(index.get(100)) == [4]
    assert index.size(200) == 2
    assert 100 in index


def test_get_at_most_leaves_out_values_held_by_too_many_positions():
    index = PositionIndex([500, 200, 500, 900, 200, 500])
    assert list(index.get_at_most(500, 3) or ()) == [0, 2, 5]
    assert index.get_at_most(500, 2) is None
    assert list(index.get_at_most(900, 1) or ()) == [3]
    assert index.get_at_most(7, 0) == ()
    index.add(900, 6)  # now held twice
    assert index.get_at_most(900, 1) is None
    assert list(index.get_at_most(900, 2) or ()) == [3, 6]


def test_integers_too_far_apart_for_one_sort_key_keep_position_order():
    # (2**61 − (−2**61) + 1) × 3 positions is beyond 2**62: the stable sort takes over.
    index = PositionIndex([2**61, -(2**61), 2**61, 5])
    assert list(index.get(2**61)) == [0, 2]
    assert list(index.get(-(2**61))) == [1]
    # Beyond 64 bits numpy cannot hold them: the values are indexed as plain keys.
    big = PositionIndex([2**70, 1, 2**70])
    assert list(big.get(2**70)) == [0, 2]
    assert list(big.get(1)) == [1]


def test_text_values_index_each_position_and_skip_missing_values():
    index = PositionIndex(["RF1", None, "RF2", "RF1"])
    assert list(index.get("RF1")) == [0, 3]
    assert list(index.get("RF2")) == [2]
    assert list(index.get(None)) == []
    nothing = PositionIndex([None, None])
    assert list(nothing.get(None)) == []
    assert nothing.size("RF1") == 0


def test_present_keeps_the_values_that_hold_a_position_in_the_order_asked():
    assert PositionIndex(["a", "b", "c"]).present(["c", "x", "a", "b"]) == ["c", "a", "b"]
    amounts = PositionIndex([500, 200])
    amounts.add(300, 2)
    assert amounts.present([300, 100, 500]) == [300, 500]


def test_number_keys_in_bulk_are_the_digits_of_each_number():
    numbers = ["INV-2027-000002", "K 10442", "", "ohne Nummer", "RE-٣4", "A\n1"]
    # Non-ASCII digits and a number holding a line break take the one-by-one path.
    assert number_keys(numbers) == ["2027000002", "10442", "", "", "٣4", "1"]
    assert number_keys(numbers[:3]) == ["2027000002", "10442", ""]
    assert number_keys([]) == []


@given(st.lists(st.text(alphabet="INV-/ 0123456789ab\n", max_size=12), max_size=20))
def test_number_keys_agree_with_number_key_one_by_one(numbers):
    assert number_keys(numbers) == [number_key(n) for n in numbers]


def test_a_compact_reference_is_checked_like_a_written_one():
    # RF44INV2027000001 is worked out by hand in test_matching_text.py.
    assert is_compact_creditor_reference("RF44INV2027000001")
    assert not is_compact_creditor_reference("RF45INV2027000001")
    assert is_compact_creditor_reference("RF18539007547034")  # ISO 11649's example: digits only
    # Letters after digits take the general path: "2027INV" + "RF00" as numbers is
    # 2027 18 23 31 27 15 00 → 2027182331271500 mod 97 = 72 → check digits 98 − 72 = 26.
    assert creditor_reference("2027INV") == "RF262027INV"
    assert is_compact_creditor_reference("RF262027INV")
    assert not is_compact_creditor_reference("RF272027INV")
    assert not is_compact_creditor_reference("RF26 2027INV")  # not compact: not a reference


@given(
    st.text(alphabet="ABINVXZ", max_size=5),
    st.text(alphabet="0123456789", max_size=16),
    st.text(alphabet="AB012", max_size=3),
    st.integers(0, 99),
)
def test_the_compact_check_agrees_with_python_stdnum(letters, digits, tail, check):
    reference = f"RF{check:02d}{letters}{digits}{tail}"
    assert is_compact_creditor_reference(reference) == iso11649.is_valid(reference)
    assert is_creditor_reference(reference) == iso11649.is_valid(reference)


def _line(cents: int, *, name: str | None = None, iban: str | None = None) -> BankLine:
    return BankLine("L1", cents, "EUR", "DE89370400440532013000", date(2027, 4, 1), "", (), name, iban)


def _item(n: int, cents: int, customer: int) -> OpenItem:
    return OpenItem(n, customer, f"INV-2027-{n:06d}", cents, "EUR", date(2027, 3, 1))


def test_an_iban_known_for_two_customers_looks_among_the_open_items_of_both():
    shared = "DE34 2005 0550 1234 5678 90"
    matcher = CashMatcher(
        [_item(1, 10_000, 1), _item(2, 25_000, 2)],
        [Customer(1, "Alpha GmbH"), Customer(2, "Beta AG")],
        [KnownPayer(shared, 1), KnownPayer("DE34200505501234567890", 2)],
    )
    outcome = matcher.match(_line(25_000, iban="de34200505501234567890"))
    # Customer 2 has an invoice of exactly 250.00 (93); customer 1 has none that fits (30).
    assert outcome.status is Status.AUTO
    assert outcome.proposal is not None
    assert [a.item_id for a in outcome.proposal.applications] == [2]
    assert outcome.proposal.confidence == 93
    assert [r.code for r in outcome.proposal.reasons] == ["payer_iban", "amount_exact"]
    assert [(p.confidence, p.customer_id, p.applications) for p in outcome.alternatives] == [(30, 1, ())]


def test_every_name_a_customer_paid_under_is_compared_with_the_payer_name():
    matcher = CashMatcher(
        [_item(1, 10_000, 7)],
        [Customer(7, "Gamma GmbH")],
        [
            KnownPayer("DE02120300000000202051", 7, "Alpha Trading"),
            KnownPayer("AT611904300234573201", 7, "Beta Handel"),
        ],
    )
    outcome = matcher.match(_line(10_000, name="BETA HANDEL", iban="FR7630006000011234567890189"))
    assert outcome.status is Status.AUTO
    assert outcome.proposal is not None
    assert outcome.proposal.confidence == 91
    assert [(r.code, r.text) for r in outcome.proposal.reasons] == [
        ("payer_name", "payer name matches the customer (100/100)"),
        ("amount_exact", "the amount equals the open amount of INV-2027-000001"),
    ]
