"""RF references, reading numbers and names in remittance text, bounded subset-sum."""

from itertools import combinations

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iso11649

from q2c.payments.matching.references import (
    creditor_reference,
    fast_creditor_reference,
    is_creditor_reference,
    references_in_text,
)
from q2c.payments.matching.subset import subset_sums
from q2c.payments.matching.text import (
    name_score,
    normalise_name,
    number_candidates,
    number_key,
    one_edit_neighbours,
)


def test_the_iso_11649_example_reference_checks_out():
    # ISO 11649:2009 example: reference 539007547034 → RF18 5390 0754 7034.
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert is_creditor_reference("RF18 5390 0754 7034")
    assert not is_creditor_reference("RF19 5390 0754 7034")


def test_an_invoice_number_becomes_its_rf_reference():
    # By hand: "INV2027000001RF00" with letters as numbers (I=18, N=23, V=31, R=27, F=15) is
    # 182331 2027000001 2715 00 → mod 97 = 54 → check digits 98 − 54 = 44.
    assert creditor_reference("INV-2027-000001") == "RF44INV2027000001"
    assert iso11649.is_valid("RF44INV2027000001")


alnum = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=21)


@given(alnum)
def test_the_fast_reference_equals_the_parties_reference_built_with_python_stdnum(body):
    assert fast_creditor_reference(body) == creditor_reference(body)
    assert iso11649.is_valid(creditor_reference(body))


@given(st.text(alphabet="RF0123456789ABCXYZ ", max_size=30))
def test_the_fast_check_agrees_with_python_stdnum(text):
    assert is_creditor_reference(text) == iso11649.is_valid(text)


def test_rf_references_are_found_in_free_text_even_in_groups_of_four():
    assert references_in_text("SVWZ+RF18 5390 0754 7034 Danke") == ["RF18539007547034"]
    assert references_in_text("pay RF44INV2027000001/ok") == ["RF44INV2027000001"]
    assert references_in_text("RF45INV2027000001 typo in the check digits") == []


def test_numbers_in_text_are_read_with_look_alike_letters_and_split_groups_repaired():
    assert number_key("INV-2027-000002") == "2027000002"
    repaired: set[str] = set()
    assert number_candidates("NORTHWIND INV 2027 0000O2", {10}, repaired) == ["2027000002"]
    assert repaired == {"2027000002"}
    assert number_candidates("INV-2027-000004 INV-2027-000005", {10}) == ["2027000004", "2027000005"]
    assert number_candidates("Invoice INV2027000012 paid 4745.00 on 2027-03-05", {10}) == ["2027000012"]
    assert number_candidates("RE 2027/OOO1l3", {10}) == ["2027000113"]
    assert number_candidates("no digits at all", {10}) == []


def test_one_typo_neighbours_cover_missing_extra_wrong_and_swapped_digits():
    neighbours = one_edit_neighbours("1234", {3, 4, 5})
    assert {"234", "124", "123"} <= neighbours  # a digit missing
    assert {"01234", "12934"} <= neighbours  # a digit extra
    assert {"1294", "9234"} <= neighbours  # a digit wrong
    assert {"2134", "1324", "1243"} <= neighbours  # two swapped
    # 4 deletions + 4×9 substitutions + 3 swaps + 5×10 insertions, less duplicates of one another.
    assert len(neighbours) == len(set(neighbours)) <= 4 + 36 + 3 + 50
    assert "1234" not in neighbours


def test_names_compare_without_case_accents_punctuation_or_legal_form():
    assert normalise_name("Müller & Söhne KG") == normalise_name("MUELLER UND SOEHNE") == "MULLER SOHNE"
    assert normalise_name("Northwind Handels G.m.b.H.") == "NORTHWIND HANDELS"
    assert (
        name_score(normalise_name("NORTHWIND HANDELS GMBH HAMBURG"), normalise_name("Northwind Handels GmbH"))
        == 100
    )
    assert name_score(normalise_name("Handels Northwind"), normalise_name("Northwind Handels GmbH")) == 100
    assert name_score(normalise_name("Nordic Steel AG"), normalise_name("Nordic Timber GmbH")) < 80


def test_subset_sum_finds_the_invoices_a_payment_settles():
    # Northwind step 8: 2,582.11 = 166.41 + 2,415.70 among the open 1,517.25, 166.41 and 2,415.70.
    found = subset_sums([151725, 16641, 241570], 258211)
    assert found.unique == (1, 2)
    assert subset_sums([100, 200, 300, 400], 500).unique is None  # 100+400 and 200+300


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=1, max_value=5000), min_size=1, max_size=9),
    st.integers(min_value=1, max_value=15000),
)
def test_subset_sum_agrees_with_brute_force(amounts, target):
    expected = {
        combo
        for size in range(2, 6)
        for combo in combinations(range(len(amounts)), size)
        if sum(amounts[i] for i in combo) == target
    }
    found = subset_sums(amounts, target, limit=1000, budget=10**6)
    assert set(found.solutions) == expected
    assert not found.exhausted
