"""Approval rules, teams and stage probabilities are configured in the Django admin, with the
same checks as the API."""

from __future__ import annotations

import pytest
from django.test import Client

from q2c.platform.models import Event
from q2c.quotes.models import ApprovalRule, StageSetting
from tests.quotes import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_(db):
    client = Client()
    client.force_login(builders.user("root", "admin"))
    return client


def rule_form(**overrides):
    data = {
        "name": "Big deals",
        "kind": "deal_size_above",
        "threshold": "100000",
        "currency": "EUR",
        "is_active": "on",
        "description": "",
        "steps-TOTAL_FORMS": "1",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-sequence": "1",
        "steps-0-role": "finance",
        "steps-0-user": "",
        "steps-0-mode": "any",
    }
    data.update(overrides)
    return data


def test_an_admin_adds_a_rule_with_its_steps(admin_client_):
    response = admin_client_.post("/admin/quotes/approvalrule/add/", rule_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    rule = ApprovalRule.objects.get(name="Big deals")
    assert (rule.threshold, rule.currency) == (100000, "EUR")
    assert list(rule.steps.values_list("role", "mode")) == [("finance", "any")]
    assert Event.objects.filter(type="quotes.approval_rule.saved", payload__via="admin").exists()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"threshold": ""}, "needs a threshold"),
        ({"currency": ""}, "needs a currency"),
        ({"steps-0-user": "__admin__"}, "name either a role or a user"),
        ({"steps-TOTAL_FORMS": "0"}, "at least one approval step"),
    ],
)
def test_the_admin_refuses_rules_that_could_not_route(admin_client_, overrides, message):
    from django.contrib.auth import get_user_model

    root = get_user_model().objects.get(username="root")
    overrides = {k: (str(root.pk) if v == "__admin__" else v) for k, v in overrides.items()}
    before = ApprovalRule.objects.count()
    response = admin_client_.post("/admin/quotes/approvalrule/add/", rule_form(**overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ApprovalRule.objects.count() == before


def test_an_admin_changes_a_stage_probability(admin_client_):
    row = StageSetting.objects.get(stage="proposal")
    response = admin_client_.post(
        f"/admin/quotes/stagesetting/{row.pk}/change/",
        {"stage": "proposal", "probability": "55", "position": "2"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.probability == 55
    bad = admin_client_.post(
        f"/admin/quotes/stagesetting/{row.pk}/change/",
        {"stage": "proposal", "probability": "120", "position": "2"},
    )
    assert bad.status_code == 200 and "from 0 to 100" in bad.content.decode()


def test_quotes_are_read_only_in_the_admin(admin_client_, northwind_quote):
    assert admin_client_.get(f"/admin/quotes/quote/{northwind_quote.pk}/change/").status_code == 200
    assert admin_client_.get("/admin/quotes/quote/add/").status_code == 403
