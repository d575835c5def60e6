"""The word-level redline and clause texts with variables (pure, no database)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from q2c.contracts import clauses, redline
from q2c.contracts.redline import Chunk


def test_a_changed_word_shows_as_a_deletion_and_an_insertion():
    chunks = redline.diff("Invoices are payable within 30 days.", "Invoices are payable within 45 days.")
    assert chunks == [
        Chunk("equal", "Invoices are payable within "),
        Chunk("delete", "30"),
        Chunk("insert", "45"),
        Chunk("equal", " days."),
    ]
    assert redline.stats(chunks) == {"inserted": 1, "deleted": 1}


def test_numbers_with_points_and_commas_are_one_word():
    assert redline.tokens("at 1,275.00 EUR") == ["at", " ", "1,275.00", " ", "EUR"]


def test_inserted_words_keep_the_rest_equal():
    chunks = redline.diff("governed by German law.", "governed exclusively by German law.")
    assert [c.op for c in chunks] == ["equal", "insert", "equal"]
    assert chunks[1].text.strip() == "exclusively"


def test_the_html_escapes_every_chunk():
    html = redline.to_html(redline.diff("a <b>", "a <i>"))
    assert html == "a &lt;<del>b</del><ins>i</ins>&gt;"


@given(st.text(max_size=200), st.text(max_size=200))
def test_a_redline_gives_both_texts_back(old, new):
    chunks = redline.diff(old, new)
    assert redline.old_text(chunks) == old
    assert redline.new_text(chunks) == new


def test_a_clause_renders_its_variables_as_text():
    body = "Payable within {{ payment_terms_days }} days; governed by {{governing_law}}."
    assert clauses.variables_in(body) == ["payment_terms_days", "governing_law"]
    assert clauses.render(body, {"payment_terms_days": 30, "governing_law": "German law"}) == (
        "Payable within 30 days; governed by German law."
    )


def test_template_syntax_other_than_variables_stays_plain_text():
    body = "{% load static %} {{ payment_terms_days }}"
    assert clauses.render(clauses.check_body(body), {"payment_terms_days": 30}) == "{% load static %} 30"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("Pay within {{ payment_days }} days.", "contracts.unknown_variable"),
        ("   ", "contracts.required"),
        ("bell \x07", "contracts.clause_invalid"),
    ],
)
def test_a_bad_clause_body_is_refused(body, code):
    with pytest.raises(clauses.ClauseInvalid) as err:
        clauses.check_body(body)
    assert (err.value.code, err.value.field) == (code, "body")
