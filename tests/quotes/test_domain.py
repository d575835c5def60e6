"""The state tables of opportunities, quotes and approvals, walked move by move."""

from __future__ import annotations

import pytest

from q2c.core.errors import InvalidTransition
from q2c.core.statemachine import all_moves, terminal_states, transition
from q2c.quotes.domain import (
    QUOTE_TRANSITIONS,
    REQUEST_TRANSITIONS,
    STAGE_TRANSITIONS,
    STEP_TRANSITIONS,
    QuoteStatus,
    RequestStatus,
    Stage,
    StepStatus,
)

TABLES = [
    ("opportunity", Stage, STAGE_TRANSITIONS),
    ("quote", QuoteStatus, QUOTE_TRANSITIONS),
    ("approval", RequestStatus, REQUEST_TRANSITIONS),
    ("approval_step", StepStatus, STEP_TRANSITIONS),
]
MOVES = [
    pytest.param(what, a, b, allowed, table, id=f"{what}:{a}->{b}")
    for what, states, table in TABLES
    for a, b, allowed in all_moves(states, table)
]


@pytest.mark.parametrize(("what", "current", "target", "allowed", "table"), MOVES)
def test_every_move_is_allowed_or_refused_as_the_table_says(what, current, target, allowed, table):
    if allowed:
        assert transition(table, current, target, what=what) == target
    else:
        with pytest.raises(InvalidTransition) as caught:
            transition(table, current, target, what=what)
        assert caught.value.code == f"{what}.invalid_transition"
        assert caught.value.status == 409


def test_no_state_moves_to_itself_so_repeating_an_action_is_refused():
    for _what, states, table in TABLES:
        for state in states:
            assert state not in table.get(state, frozenset())


def test_the_quote_lifecycle_reads_as_the_issue_states_it():
    assert QUOTE_TRANSITIONS[QuoteStatus.DRAFT] >= {QuoteStatus.IN_REVIEW, QuoteStatus.WITHDRAWN}
    assert QuoteStatus.APPROVED in QUOTE_TRANSITIONS[QuoteStatus.IN_REVIEW]
    assert QuoteStatus.SENT in QUOTE_TRANSITIONS[QuoteStatus.APPROVED]
    assert {QuoteStatus.ACCEPTED, QuoteStatus.REJECTED, QuoteStatus.EXPIRED} <= QUOTE_TRANSITIONS[
        QuoteStatus.SENT
    ]
    # Editing an approved or sent quote sends it back to draft.
    assert QuoteStatus.DRAFT in QUOTE_TRANSITIONS[QuoteStatus.APPROVED]
    assert QuoteStatus.DRAFT in QUOTE_TRANSITIONS[QuoteStatus.SENT]
    # Only approved quotes are sent; only sent quotes are decided by the customer.
    assert all(
        QuoteStatus.SENT not in QUOTE_TRANSITIONS[s] for s in QuoteStatus if s is not QuoteStatus.APPROVED
    )
    assert all(
        QuoteStatus.ACCEPTED not in QUOTE_TRANSITIONS[s] for s in QuoteStatus if s is not QuoteStatus.SENT
    )
    assert terminal_states(QuoteStatus, QUOTE_TRANSITIONS) == {
        QuoteStatus.ACCEPTED,
        QuoteStatus.REJECTED,
        QuoteStatus.EXPIRED,
        QuoteStatus.WITHDRAWN,
    }


def test_closed_opportunities_stay_closed_and_open_ones_move_both_ways():
    assert terminal_states(Stage, STAGE_TRANSITIONS) == {Stage.CLOSED_WON, Stage.CLOSED_LOST}
    assert Stage.QUALIFICATION in STAGE_TRANSITIONS[Stage.PROPOSAL]
    assert Stage.NEGOTIATION in STAGE_TRANSITIONS[Stage.PROSPECTING]
