"""Quotes: numbering, pricing with the catalog engine, editing with optimistic locking, versions
and the primary quote, withdrawal.

Northwind figures are the literals of /work/shared/scenarios/northwind.md, step 1.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from q2c.core.errors import InvalidTransition, ValidationError
from q2c.core.money import Money
from q2c.platform.models import Event
from q2c.quotes import services
from q2c.quotes.errors import QuoteConflict, QuoteForbidden, QuoteInvalid, QuoteNotFound
from q2c.quotes.models import ApprovalRequest, Opportunity, Quote
from tests.quotes import builders

pytestmark = pytest.mark.django_db

EUR = "EUR"


def test_the_first_quote_of_the_year_is_numbered_q_2027_000001_and_priced_as_northwind_step_1(
    northwind_quote,
):
    q = northwind_quote
    assert q.number == "Q-2027-000001"
    assert q.version == 1 and q.is_primary and q.status == "draft"
    assert q.one_time == Money("9000.00", EUR)
    assert q.mrr == Money("1275.00", EUR)
    assert q.arr == Money("15300.00", EUR)
    assert q.tcv == Money("24300.00", EUR)
    assert q.list_tcv == Money("27000.00", EUR)
    assert q.discount_percent == Decimal("10.00")
    seat = next(line for line in q.pricing["lines"] if line["sku"] == "SEAT")
    assert seat["net_unit_price"] == "25.50"
    assert seat["product_id"] is not None and seat["charge_id"] is not None
    assert [m["line"] for m in q.approval_matches] == ["L1"]


def test_numbers_are_gapless_per_entity_and_a_failed_create_takes_none(world, opportunity):
    first = services.create_quote(
        actor=world["rita"], opportunity_id=opportunity.pk, lines=builders.NORTHWIND_LINES
    )
    with pytest.raises(ValidationError):
        services.create_quote(
            actor=world["rita"], opportunity_id=opportunity.pk, lines=[{"sku": "NOPE", "quantity": "1"}]
        )
    second = services.create_quote(actor=world["rita"], opportunity_id=opportunity.pk)
    assert (first.number, second.number) == ("Q-2027-000001", "Q-2027-000002")


def test_the_entitys_quote_prefix_is_used(world):
    from q2c.parties import services as parties

    parties.update_entity(world["entity"].pk, {"quote_prefix": "ACQ"}, actor="test")
    opp = services.create_opportunity(actor=world["rita"], account_id=world["account"].pk, name="x")
    assert services.create_quote(actor=world["rita"], opportunity_id=opp.pk).number == "ACQ-2027-000001"


def test_quote_defaults_come_from_the_account_and_the_business_clock(world, opportunity):
    q = services.create_quote(actor=world["rita"], opportunity_id=opportunity.pk)
    assert q.start_date == date(2027, 1, 10)
    assert q.valid_until == date(2027, 2, 9)
    assert q.payment_terms_days == 30
    assert q.currency == EUR
    assert (q.contact_name, q.contact_email) == ("Nora North", "nora@northwind.example")
    assert q.created_at.isoformat() == "2027-01-10T08:00:00+00:00"  # 09:00 in Berlin


def test_the_opportunity_amount_is_the_primary_quotes_tcv(northwind_quote):
    opp = Opportunity.objects.get(pk=northwind_quote.opportunity_id)
    assert opp.amount == Money("24300.00", EUR)


def test_saving_with_a_stale_lock_version_answers_409_and_changes_nothing(world, northwind_quote):
    q = northwind_quote
    services.update_quote(q.pk, actor=world["rita"], lock_version=1, changes={"title": "first"})
    with pytest.raises(QuoteConflict) as caught:
        services.update_quote(q.pk, actor=world["max"], lock_version=1, changes={"title": "second"})
    assert caught.value.code == "quotes.stale" and caught.value.status == 409
    fresh = Quote.objects.get(pk=q.pk)
    assert (fresh.title, fresh.lock_version) == ("first", 2)


def test_replacing_lines_reprices_the_quote(world, northwind_quote):
    q = services.update_quote(
        northwind_quote.pk,
        actor=world["rita"],
        lock_version=1,
        lines=[{"key": "L1", "sku": "SEAT", "quantity": "10"}],
    )
    # 10 seats × 30.00 × 12 months, no discount: nothing to approve.
    assert q.tcv == Money("3600.00", EUR)
    assert q.approval_matches == []
    assert list(q.lines.values_list("sku", flat=True)) == ["SEAT"]


def test_lines_the_engine_cannot_price_are_refused_naming_the_line(world, northwind_quote):
    with pytest.raises(ValidationError) as caught:
        services.update_quote(
            northwind_quote.pk,
            actor=world["rita"],
            lock_version=1,
            lines=[
                {"key": "A", "sku": "SEAT", "quantity": "2.5"},
                {"key": "B", "sku": "GHOST", "quantity": "1"},
            ],
        )
    lines = {d.get("line") for d in caught.value.details}
    assert {"A", "B"} <= lines
    assert Quote.objects.get(pk=northwind_quote.pk).lock_version == 1


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"term_months": 0}, "term_months"),
        ({"payment_terms_days": -1}, "payment_terms_days"),
        ({"currency": "EURO"}, "currency"),
        ({"valid_until": "2026-12-31"}, "valid_until"),
        ({"billing_frequency": "weekly"}, "billing_frequency"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"start_date": "10.01.2027"}, "start_date"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_header_values_are_refused_with_their_field(world, northwind_quote, changes, field):
    with pytest.raises(QuoteInvalid) as caught:
        services.update_quote(northwind_quote.pk, actor=world["rita"], lock_version=1, changes=changes)
    assert caught.value.field == field


def test_editing_an_approved_quote_sends_it_back_to_draft_and_voids_its_approval(world, northwind_quote):
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    step = ApprovalRequest.objects.get(quote=q).steps.get()
    services.decide(step.pk, actor=world["max"], decision="approve", comment="ok")
    assert Quote.objects.get(pk=q.pk).status == "approved"
    q = Quote.objects.get(pk=q.pk)
    edited = services.update_quote(
        q.pk, actor=world["rita"], lock_version=q.lock_version, changes={"title": "v1b"}
    )
    assert edited.status == "draft"
    assert ApprovalRequest.objects.get(quote=q).status == "void"
    assert Event.objects.filter(type="quotes.quote.returned_to_draft", aggregate_id=str(q.pk)).exists()


def test_a_revision_is_the_next_version_of_the_same_number_and_the_old_one_is_superseded(
    world, northwind_quote
):
    clone = services.revise_quote(northwind_quote.pk, actor=world["rita"])
    old = Quote.objects.get(pk=northwind_quote.pk)
    assert (clone.number, clone.version, clone.status, clone.is_primary) == (
        "Q-2027-000001",
        2,
        "draft",
        True,
    )
    assert (old.status, old.is_primary, old.superseded_at is not None) == ("withdrawn", False, True)
    assert clone.tcv == Money("24300.00", EUR)
    assert list(clone.lines.values_list("sku", flat=True)) == ["SEAT", "ONB", "EDGE", "API"]
    with pytest.raises(QuoteConflict) as caught:
        services.revise_quote(northwind_quote.pk, actor=world["rita"])
    assert caught.value.code == "quotes.superseded"


def test_exactly_one_quote_of_an_opportunity_is_primary(world, opportunity, northwind_quote):
    other = services.create_quote(
        actor=world["rita"], opportunity_id=opportunity.pk, lines=[{"sku": "ONB", "quantity": "1"}]
    )
    assert not other.is_primary
    services.make_primary(other.pk, actor=world["rita"])
    primaries = list(
        Quote.objects.filter(opportunity=opportunity, is_primary=True).values_list("pk", flat=True)
    )
    assert primaries == [other.pk]
    assert Opportunity.objects.get(pk=opportunity.pk).amount == Money("5000.00", EUR)
    with pytest.raises(QuoteConflict):
        services.make_primary(other.pk, actor=world["rita"])


def test_a_withdrawn_quote_cannot_change_again(world, northwind_quote):
    services.withdraw_quote(northwind_quote.pk, actor=world["rita"], reason="customer paused")
    with pytest.raises(InvalidTransition):
        services.withdraw_quote(northwind_quote.pk, actor=world["rita"])
    with pytest.raises(QuoteConflict) as caught:
        services.update_quote(
            northwind_quote.pk, actor=world["rita"], lock_version=None, changes={"title": "x"}
        )
    assert caught.value.code == "quotes.not_editable"


def test_a_rep_sees_and_edits_only_their_own_quotes_and_a_manager_their_teams(world, northwind_quote):
    other_rep = builders.user("olga", "sales_rep")
    outsider_manager = builders.user("mia", "sales_manager")
    finance = builders.user("fin", "finance")
    with pytest.raises(QuoteNotFound):
        services.get_quote(northwind_quote.pk, other_rep)
    with pytest.raises(QuoteNotFound):
        services.get_quote(northwind_quote.pk, outsider_manager)
    assert services.get_quote(northwind_quote.pk, world["max"]).pk == northwind_quote.pk
    assert services.get_quote(northwind_quote.pk, finance).pk == northwind_quote.pk
    with pytest.raises(QuoteForbidden):
        services.update_quote(northwind_quote.pk, actor=finance, lock_version=1, changes={"title": "x"})
    services.update_quote(northwind_quote.pk, actor=world["max"], lock_version=1, changes={"title": "by max"})


def test_every_change_records_an_event_stamped_by_the_business_clock(world, northwind_quote, on_day):
    on_day(date(2027, 1, 11))
    services.update_quote(northwind_quote.pk, actor=world["rita"], lock_version=1, changes={"title": "x"})
    created, updated = Event.objects.filter(
        aggregate_type="quotes.quote", aggregate_id=str(northwind_quote.pk)
    ).order_by("seq")
    assert (created.type, updated.type) == ("quotes.quote.created", "quotes.quote.updated")
    assert created.occurred_at.date() == date(2027, 1, 10)
    assert updated.occurred_at.date() == date(2027, 1, 11)
    assert updated.actor == "rita"
