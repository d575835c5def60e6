"""Approvals: routing by the configured rules, sequential and parallel steps, decisions, the
inbox, and the refusals (own quote, not an approver, configuration errors, repeated decisions).

Rule semantics are those of q2c.quotes.approval_rules; figures are Northwind's (step 1:
15 % on 50 SEAT, Rita's limit 10 %, TCV 24,300.00).
"""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from q2c.catalog import services as catalog
from q2c.core.errors import InvalidTransition
from q2c.platform.models import Event
from q2c.quotes import queries, services
from q2c.quotes.errors import QuoteConflict, QuoteForbidden, QuoteInvalid
from q2c.quotes.models import ApprovalRequest, ApprovalRule, Quote
from tests.quotes import builders

pytestmark = pytest.mark.django_db


def request_of(quote) -> ApprovalRequest:
    return ApprovalRequest.objects.get(quote=quote)


def steps_of(quote):
    return list(request_of(quote).steps.order_by("sequence", "id"))


def test_the_default_rule_sends_ritas_15_percent_discount_to_her_manager_max(
    world, northwind_quote, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    assert q.status == "in_review"
    (step,) = steps_of(q)
    assert (step.role, step.mode, step.status) == ("sales_manager", "any", "pending")
    assert list(step.approvers.values_list("username", flat=True)) == ["max"]
    assert request_of(q).reasons[0]["message"] == "SEAT: discount 15 % is above the owner's limit of 10 %"
    (message,) = mail.outbox
    assert message.to == ["max@acme.example"]
    assert "Q-2027-000001 v1" in message.subject
    assert [s.pk for s in queries.inbox(world["max"])] == [step.pk]
    assert list(queries.inbox(world["rita"])) == []


def test_max_approves_and_the_quote_is_approved_with_his_comment_kept(world, northwind_quote, on_day):
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    (step,) = steps_of(q)
    on_day(date(2027, 1, 11))
    services.decide(step.pk, actor=world["max"], decision="approve", comment="Strategic logo")
    q = Quote.objects.get(pk=q.pk)
    assert q.status == "approved"
    assert q.approved_at.date() == date(2027, 1, 11)
    decision = step.decisions.get()
    assert (decision.approver.username, decision.comment) == ("max", "Strategic logo")
    assert request_of(q).status == "approved"
    types = list(
        Event.objects.filter(type__startswith="quotes.approval")
        .order_by("seq")
        .values_list("type", flat=True)
    )
    assert types == [
        "quotes.approval.requested",
        "quotes.approval.decided",
        "quotes.approval.step_completed",
        "quotes.approval.completed",
    ]


def test_nobody_approves_their_own_quote_not_even_an_admin(world, opportunity):
    boss = builders.user("boss", "admin")
    opp = services.create_opportunity(actor=boss, account_id=world["account"].pk, name="own")
    ApprovalRule.objects.all().delete()
    services.save_rule(
        actor="test",
        name="everything",
        kind="deal_size_above",
        threshold="0",
        currency="EUR",
        steps=[{"sequence": 1, "user_id": boss.pk}],
    )
    q = services.create_quote(actor=boss, opportunity_id=opp.pk, lines=[{"sku": "ONB", "quantity": "1"}])
    q = services.submit_quote(q.pk, actor=boss)
    (step,) = steps_of(q)
    assert list(step.approvers.all()) == []  # the owner is never their own approver
    with pytest.raises(QuoteForbidden) as caught:
        services.decide(step.pk, actor=boss, decision="approve")
    assert caught.value.code == "quotes.own_quote"
    assert Quote.objects.get(pk=q.pk).status == "in_review"


def test_a_manager_who_is_not_an_approver_of_the_step_is_refused(world, northwind_quote):
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    (step,) = steps_of(q)
    other = builders.user("mia", "sales_manager")
    with pytest.raises(Exception) as caught:  # 404: she may not even see the quote
        services.decide(step.pk, actor=other, decision="approve")
    assert caught.value.status == 404
    finance = builders.user("fin", "finance")  # reads every quote, approves none of this step
    with pytest.raises(QuoteForbidden) as caught:
        services.decide(step.pk, actor=finance, decision="approve")
    assert caught.value.code == "quotes.not_approver"


def test_a_rejection_needs_a_comment_and_sends_the_quote_back_to_draft(world, northwind_quote):
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    (step,) = steps_of(q)
    with pytest.raises(QuoteInvalid) as caught:
        services.decide(step.pk, actor=world["max"], decision="reject", comment=" ")
    assert caught.value.field == "comment"
    services.decide(step.pk, actor=world["max"], decision="reject", comment="Too deep: 12 % max")
    assert Quote.objects.get(pk=q.pk).status == "draft"
    assert request_of(q).status == "rejected"
    with pytest.raises(InvalidTransition):
        services.decide(step.pk, actor=world["max"], decision="approve")


def test_a_quote_that_matches_no_rule_is_approved_on_submit(world, opportunity):
    q = services.create_quote(
        actor=world["rita"], opportunity_id=opportunity.pk, lines=[{"sku": "SEAT", "quantity": "5"}]
    )
    q = services.submit_quote(q.pk, actor=world["rita"])
    assert q.status == "approved"
    assert not ApprovalRequest.objects.filter(quote=q).exists()
    assert Event.objects.filter(type="quotes.quote.approved", payload__automatic=True).count() == 1


def test_submitting_twice_is_an_illegal_move(world, northwind_quote):
    services.submit_quote(northwind_quote.pk, actor=world["rita"])
    with pytest.raises(InvalidTransition):
        services.submit_quote(northwind_quote.pk, actor=world["rita"])


def test_a_quote_with_configuration_errors_cannot_be_submitted(world, opportunity):
    catalog.create_rule(
        {
            "code": "EDGE-NEEDS-ONB",
            "name": "Appliances need onboarding",
            "kind": "requires",
            "source": "EDGE",
            "target": "ONB",
            "message": "Edge appliances need onboarding",
        }
    )
    q = services.create_quote(
        actor=world["rita"],
        opportunity_id=opportunity.pk,
        lines=[{"key": "E", "sku": "EDGE", "quantity": "2"}],
    )
    assert q.valid_configuration is False
    with pytest.raises(QuoteInvalid) as caught:
        services.submit_quote(q.pk, actor=world["rita"])
    assert caught.value.code == "quotes.configuration_errors"
    assert caught.value.details[0]["lines"] == ["E"]
    fresh = Quote.objects.get(pk=q.pk)
    assert (fresh.status, fresh.lock_version) == ("draft", 1)


def test_an_empty_quote_cannot_be_submitted(world, opportunity):
    q = services.create_quote(actor=world["rita"], opportunity_id=opportunity.pk)
    with pytest.raises(QuoteInvalid) as caught:
        services.submit_quote(q.pk, actor=world["rita"])
    assert caught.value.code == "quotes.no_lines"


def _rules(*specs) -> None:
    ApprovalRule.objects.all().delete()
    for spec in specs:
        services.save_rule(actor="test", **spec)


def test_sequential_steps_open_one_after_the_other(
    world, northwind_quote, django_capture_on_commit_callbacks
):
    finance = builders.user("fin", "finance")
    _rules(
        {
            "name": "discount",
            "kind": "line_discount_over_role_limit",
            "steps": [{"sequence": 1, "role": "sales_manager"}],
        },
        {
            "name": "big deal",
            "kind": "deal_size_above",
            "threshold": "20000",
            "currency": "EUR",
            "steps": [{"sequence": 2, "role": "finance"}],
        },
    )
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    first, second = steps_of(q)
    assert (first.role, first.status, second.role, second.status) == (
        "sales_manager",
        "pending",
        "finance",
        "waiting",
    )
    assert list(queries.inbox(finance)) == []
    with pytest.raises(InvalidTransition):
        services.decide(second.pk, actor=finance, decision="approve")
    with django_capture_on_commit_callbacks(execute=True):
        services.decide(first.pk, actor=world["max"], decision="approve")
    assert [m.to for m in mail.outbox] == [["fin@acme.example"]]
    second.refresh_from_db()
    assert second.status == "pending"
    assert Quote.objects.get(pk=q.pk).status == "in_review"
    services.decide(second.pk, actor=finance, decision="approve", comment="terms fine")
    assert Quote.objects.get(pk=q.pk).status == "approved"


def test_parallel_all_step_needs_every_approver_and_any_step_needs_one(world, northwind_quote):
    finance_a = builders.user("fa", "finance")
    finance_b = builders.user("fb", "finance")
    _rules(
        {
            "name": "discount",
            "kind": "line_discount_above",
            "threshold": "5",
            "steps": [
                {"sequence": 1, "role": "finance", "mode": "all"},
                {"sequence": 1, "role": "sales_manager", "mode": "any"},
            ],
        },
    )
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    by_role = {s.role: s for s in steps_of(q)}
    assert {by_role["finance"].status, by_role["sales_manager"].status} == {"pending"}
    services.decide(by_role["finance"].pk, actor=finance_a, decision="approve")
    services.decide(by_role["sales_manager"].pk, actor=world["max"], decision="approve")
    by_role["finance"].refresh_from_db()
    assert by_role["finance"].status == "pending"  # fb has not approved yet
    assert Quote.objects.get(pk=q.pk).status == "in_review"
    with pytest.raises(QuoteConflict):
        services.decide(by_role["finance"].pk, actor=finance_a, decision="approve")
    services.decide(by_role["finance"].pk, actor=finance_b, decision="approve")
    assert Quote.objects.get(pk=q.pk).status == "approved"


def test_payment_terms_and_non_standard_terms_route_to_their_approvers(world, northwind_quote):
    cfo = builders.user("cfo", "finance")
    legal = builders.user("legal", "admin")
    _rules(
        {
            "name": "long terms",
            "kind": "payment_terms_over",
            "threshold": "45",
            "steps": [{"sequence": 1, "user_id": cfo.pk}],
        },
        {"name": "legal", "kind": "nonstandard_terms", "steps": [{"sequence": 1, "user_id": legal.pk}]},
    )
    q = services.update_quote(
        northwind_quote.pk,
        actor=world["rita"],
        lock_version=1,
        changes={"payment_terms_days": 60, "terms": "Liability capped at fees paid."},
    )
    q = services.submit_quote(q.pk, actor=world["rita"])
    approvers = sorted(s.approvers.get().username for s in steps_of(q))
    assert approvers == ["cfo", "legal"]
    assert sorted(m["kind"] for m in request_of(q).reasons) == ["nonstandard_terms", "payment_terms_over"]


def test_margin_and_floor_rules_route_lines_priced_too_low(world, opportunity):
    catalog.update_product(
        catalog_product_id("SEAT"),
        {"cost": "20.00", "cost_currency": "EUR", "floor_price": "27.00", "floor_currency": "EUR"},
    )
    _rules(
        {"name": "floor", "kind": "net_below_floor", "steps": [{"sequence": 1, "role": "sales_manager"}]},
        {
            "name": "margin",
            "kind": "margin_below",
            "threshold": "20",
            "steps": [{"sequence": 1, "role": "finance"}],
        },
    )
    builders.user("fin", "finance")
    q = services.create_quote(
        actor=world["rita"],
        opportunity_id=opportunity.pk,
        lines=[{"key": "S", "sku": "SEAT", "quantity": "10", "discount": {"percent": "15"}}],
    )
    # Net 25.50 per seat is below the 27.00 floor; the margin is (25.50 − 20.00) ÷ 25.50 = 21.57 %
    # (not below 20 %).
    kinds = [m["kind"] for m in q.approval_matches]
    assert kinds == ["net_below_floor"]
    q = services.update_quote(
        q.pk,
        actor=world["rita"],
        lock_version=1,
        lines=[{"key": "S", "sku": "SEAT", "quantity": "10", "discount": {"percent": "30"}}],
    )
    # Net 21.00: margin (21.00 − 20.00) ÷ 21.00 = 4.76 % < 20 %.
    assert sorted(m["kind"] for m in q.approval_matches) == ["margin_below", "net_below_floor"]


def catalog_product_id(sku: str) -> int:
    from q2c.catalog.models import Product

    return Product.objects.get(sku=sku).pk


def test_a_manager_outside_the_team_is_not_asked_while_a_team_manager_exists(world, northwind_quote):
    builders.user("mia", "sales_manager")
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    (step,) = steps_of(q)
    assert list(step.approvers.values_list("username", flat=True)) == ["max"]


def test_recalling_voids_the_request(world, northwind_quote):
    q = services.submit_quote(northwind_quote.pk, actor=world["rita"])
    services.recall(q.pk, actor=world["rita"])
    assert Quote.objects.get(pk=q.pk).status == "draft"
    assert request_of(q).status == "void"
    assert list(queries.inbox(world["max"])) == []


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (
            {"name": "x", "kind": "deal_size_above", "threshold": "1", "steps": [{"role": "finance"}]},
            "currency",
        ),
        ({"name": "x", "kind": "margin_below", "steps": [{"role": "finance"}]}, "threshold"),
        ({"name": "x", "kind": "no_such_kind", "steps": [{"role": "finance"}]}, "kind"),
        ({"name": "x", "kind": "nonstandard_terms", "steps": []}, "steps"),
        ({"name": "x", "kind": "nonstandard_terms", "steps": [{"role": "pope"}]}, "steps[0].role"),
        ({"name": "x", "kind": "nonstandard_terms", "steps": [{"user_id": 999999}]}, "steps[0].user_id"),
        ({"name": "", "kind": "nonstandard_terms", "steps": [{"role": "finance"}]}, "name"),
    ],
)
def test_bad_rules_are_refused_with_their_field(db, spec, field):
    with pytest.raises(QuoteInvalid) as caught:
        services.save_rule(actor="test", **spec)
    assert caught.value.field == field


def test_a_step_cannot_name_both_a_role_and_a_user(world):
    with pytest.raises(QuoteInvalid) as caught:
        services.save_rule(
            actor="test",
            name="x",
            kind="nonstandard_terms",
            steps=[{"role": "finance", "user_id": world["max"].pk}],
        )
    assert caught.value.field == "steps[0].role"
