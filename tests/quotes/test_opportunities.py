"""Opportunities: stages with configurable probabilities, stage history, closing as lost, the
pipeline board, teams and who sees what."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c.core.errors import InvalidTransition
from q2c.core.money import Money
from q2c.quotes import queries, services
from q2c.quotes.errors import QuoteConflict, QuoteForbidden, QuoteInvalid, QuoteNotFound
from q2c.quotes.models import Opportunity
from tests.quotes import builders

pytestmark = pytest.mark.django_db


def test_a_new_opportunity_starts_in_prospecting_at_10_percent_with_its_first_history_row(world, opportunity):
    assert (opportunity.stage, opportunity.probability, opportunity.owner_id) == (
        "prospecting",
        10,
        world["rita"].pk,
    )
    (row,) = opportunity.stage_changes.all()
    assert (row.from_stage, row.to_stage, row.actor) == ("", "prospecting", "rita")


def test_moving_stages_keeps_the_history_and_takes_the_stage_probability(world, opportunity, on_day):
    on_day(date(2027, 1, 11))
    services.move(opportunity.pk, "proposal", actor=world["rita"], note="demo went well")
    on_day(date(2027, 1, 12))
    services.move(opportunity.pk, "qualification", actor=world["max"])
    opp = Opportunity.objects.get(pk=opportunity.pk)
    assert (opp.stage, opp.probability) == ("qualification", Decimal(20))
    history = [
        (c.from_stage, c.to_stage, c.probability, c.changed_at.date(), c.actor)
        for c in opp.stage_changes.order_by("id")
    ]
    assert history == [
        ("", "prospecting", Decimal(10), date(2027, 1, 10), "rita"),
        ("prospecting", "proposal", Decimal(50), date(2027, 1, 11), "rita"),
        ("proposal", "qualification", Decimal(20), date(2027, 1, 12), "max"),
    ]


def test_the_admin_changes_a_stages_probability(world, opportunity):
    services.set_probability("proposal", "60", actor="admin")
    services.move(opportunity.pk, "proposal", actor=world["rita"])
    assert Opportunity.objects.get(pk=opportunity.pk).probability == Decimal(60)
    with pytest.raises(QuoteInvalid):
        services.set_probability("proposal", "101", actor="admin")
    with pytest.raises(QuoteInvalid):
        services.set_probability("haggling", "5", actor="admin")


def test_closing_as_lost_needs_a_reason_and_closed_deals_stay_closed(world, opportunity):
    with pytest.raises(QuoteInvalid) as caught:
        services.move(opportunity.pk, "closed_lost", actor=world["rita"])
    assert caught.value.field == "loss_reason"
    services.move(opportunity.pk, "closed_lost", actor=world["rita"], loss_reason="Chose a competitor")
    opp = Opportunity.objects.get(pk=opportunity.pk)
    assert (opp.stage, opp.probability, opp.loss_reason, opp.closed_on) == (
        "closed_lost",
        Decimal(0),
        "Chose a competitor",
        date(2027, 1, 10),
    )
    with pytest.raises(InvalidTransition):
        services.move(opportunity.pk, "proposal", actor=world["rita"])
    with pytest.raises(QuoteConflict):
        services.create_quote(actor=world["rita"], opportunity_id=opportunity.pk)


def test_an_opportunity_is_won_by_an_accepted_quote_not_by_hand(world, opportunity):
    with pytest.raises(QuoteInvalid) as caught:
        services.move(opportunity.pk, "closed_won", actor=world["rita"])
    assert caught.value.code == "quotes.won_by_acceptance"


def test_moving_to_the_same_stage_is_an_illegal_move(world, opportunity):
    with pytest.raises(InvalidTransition):
        services.move(opportunity.pk, "prospecting", actor=world["rita"])


def test_a_stale_opportunity_update_answers_409(world, opportunity):
    services.update_opportunity(
        opportunity.pk, {"next_step": "call CFO"}, actor=world["rita"], lock_version=1
    )
    with pytest.raises(QuoteConflict) as caught:
        services.update_opportunity(
            opportunity.pk, {"next_step": "send deck"}, actor=world["max"], lock_version=1
        )
    assert caught.value.code == "quotes.stale"
    assert Opportunity.objects.get(pk=opportunity.pk).next_step == "call CFO"


def test_reps_see_their_own_opportunities_managers_their_teams_finance_all_read_only(world, opportunity):
    olga = builders.user("olga", "sales_rep")
    finance = builders.user("fin", "finance")
    theirs = services.create_opportunity(actor=olga, account_id=world["account"].pk, name="Olga's")
    assert list(queries.opportunities_for(world["rita"])) == [opportunity]
    assert list(queries.opportunities_for(world["max"])) == [opportunity]  # Olga is not in his team
    assert set(queries.opportunities_for(finance)) == {opportunity, theirs}
    with pytest.raises(QuoteNotFound):
        services.get_opportunity(theirs.pk, world["rita"])
    with pytest.raises(QuoteForbidden):
        services.move(opportunity.pk, "proposal", actor=finance)


def test_a_rep_cannot_create_an_opportunity_for_someone_else_but_a_manager_can_for_the_team(world):
    olga = builders.user("olga", "sales_rep")
    with pytest.raises(QuoteInvalid) as caught:
        services.create_opportunity(
            actor=world["rita"], account_id=world["account"].pk, name="x", owner_id=olga.pk
        )
    assert caught.value.field == "owner_id"
    opp = services.create_opportunity(
        actor=world["max"], account_id=world["account"].pk, name="y", owner_id=world["rita"].pk
    )
    assert opp.owner_id == world["rita"].pk


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"name": ""}, "name"),
        ({"account_id": 999999}, "account_id"),
        ({"stage": "closed_won"}, "stage"),
        ({"stage": "dreaming"}, "stage"),
        ({"expected_close_date": "next week"}, "expected_close_date"),
        ({"name": "bell\x07"}, "name"),
    ],
)
def test_bad_opportunity_input_is_refused_with_its_field(world, kw, field):
    data = {"account_id": world["account"].pk, "name": "Deal", **kw}
    with pytest.raises(QuoteInvalid) as caught:
        services.create_opportunity(actor=world["rita"], **data)
    assert caught.value.field == field
    assert not Opportunity.objects.exists()


def test_the_board_sums_amounts_and_weights_them_by_probability(world, opportunity, northwind_quote):
    services.move(opportunity.pk, "proposal", actor=world["rita"])
    board = {col["stage"]: col for col in queries.pipeline(world["max"])}
    assert board["proposal"]["count"] == 1
    assert board["proposal"]["totals"] == [Money("24300.00", "EUR")]
    # 24,300.00 × 50 % = 12,150.00
    assert board["proposal"]["weighted"] == [Money("12150.00", "EUR")]
    assert board["prospecting"]["count"] == 0
