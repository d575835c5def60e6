"""ISO 11649 creditor references (pure: no database).

Worked examples:
- ISO 11649's own example: reference 539007547034 → RF18 5390 0754 7034 (also the example in
  python-stdnum's documentation and on Wikipedia's "Creditor Reference" page).
- INV-2027-000001 by hand: drop the hyphens → INV2027000001; append "RF00"; letters to numbers
  (I=18, N=23, V=31, R=27, F=15) → 1823312027000001271500; that number mod 97 = 54;
  98 − 54 = 44 → RF44INV2027000001.
- INV-2027-000003 the same way: 1823312027000003271500 mod 97 = 11 → 98 − 11 = 87 → RF87INV2027000003.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iso11649

from q2c.core.errors import ValidationError
from q2c.parties.references import creditor_reference, format_reference, is_creditor_reference


def test_the_iso_11649_example_gives_rf18():
    assert creditor_reference("539007547034") == "RF18539007547034"
    assert format_reference("RF18539007547034") == "RF18 5390 0754 7034"


def test_an_invoice_number_keeps_its_letters_and_loses_its_hyphens():
    assert creditor_reference("INV-2027-000001") == "RF44INV2027000001"
    assert creditor_reference("inv-2027-000003") == "RF87INV2027000003"


def test_a_reference_with_one_character_changed_is_not_valid():
    assert is_creditor_reference("RF44 INV2 0270 0000 1")
    assert not is_creditor_reference("RF44INV2027000002")


@pytest.mark.parametrize("value", ["", "---", "Ä-1", "X" * 22, None])
def test_nothing_usable_or_more_than_21_characters_is_refused(value):
    with pytest.raises(ValidationError) as exc:
        creditor_reference(value)
    assert exc.value.code == "parties.invalid_reference"


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-/ ", min_size=1, max_size=30))
def test_every_reference_built_passes_python_stdnums_validator_and_keeps_the_document_number(text):
    body = "".join(ch for ch in text if ch.isalnum())
    if not body or len(body) > 21:
        return
    reference = creditor_reference(text)
    assert iso11649.is_valid(reference)
    assert reference[4:] == body
    assert reference[2:4].isdigit()
