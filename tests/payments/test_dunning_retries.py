"""Payment retries by failure reason: the pure planner (dates worked by hand) and the path through
the payments app — a failed card payment planned for retry after 3 and 7 days, the retry submitted
by the daily job, the rest cancelled once it is paid; an expired card asks for a new method.
SEPA reason codes from the EPC SDD Core Rulebook (AM04 insufficient funds, MD01 no mandate).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D
from typing import Any

import pytest
from django.core import mail

from q2c.core.errors import DomainError
from q2c.core.money import Money
from q2c.invoicing import services as invoicing
from q2c.payments import services as payments
from q2c.payments.dunning import services
from q2c.payments.dunning.models import PaymentRetry
from q2c.payments.dunning.retries import (
    DEFAULT_RULES,
    PlannedRetry,
    RetryAction,
    RetryRule,
    plan_retries,
    reason_of,
)
from q2c.payments.models import Payment
from tests.billing.world import at, customer, seller

FAILED = date(2027, 4, 10)


def test_insufficient_funds_on_a_card_is_retried_after_3_and_7_days():
    assert plan_retries(DEFAULT_RULES, "card", "insufficient_funds", FAILED) == [
        PlannedRetry(1, RetryAction.RETRY, date(2027, 4, 13)),
        PlannedRetry(2, RetryAction.RETRY, date(2027, 4, 17)),
    ]


def test_an_expired_card_asks_for_a_new_method_at_once_and_is_never_retried():
    assert plan_retries(DEFAULT_RULES, "card", "card_expired", FAILED) == [
        PlannedRetry(1, RetryAction.ASK_NEW_METHOD, FAILED)
    ]


def test_sepa_reason_codes_map_to_reasons():
    assert reason_of("direct_debit", "am04") == "insufficient_funds"
    assert reason_of("direct_debit", "MD01") == "mandate_revoked"
    assert plan_retries(DEFAULT_RULES, "direct_debit", reason_of("direct_debit", "MD01"), FAILED)[
        0
    ].action == (RetryAction.ASK_NEW_METHOD)
    assert plan_retries(DEFAULT_RULES, "direct_debit", "refused_by_payer", FAILED) == []


def test_an_unknown_reason_falls_back_to_the_methods_rule_then_to_one_retry_after_3_days():
    rules = (*DEFAULT_RULES, RetryRule("card", "*", RetryAction.RETRY, (2, 5)))
    assert [p.due_on for p in plan_retries(rules, "card", "gateway_timeout", FAILED)] == [
        date(2027, 4, 12), date(2027, 4, 15),
    ]  # fmt: skip
    assert [p.due_on for p in plan_retries(DEFAULT_RULES, "card", "gateway_timeout", FAILED)] == [
        date(2027, 4, 13)
    ]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"action": RetryAction.RETRY, "retry_days": (7, 3)}, "retry_days"),
        ({"action": RetryAction.RETRY, "retry_days": (0,)}, "retry_days"),
        ({"action": RetryAction.RETRY, "retry_days": ()}, "retry_days"),
        ({"action": RetryAction.RETRY, "retry_days": (1, 2, 3, 4, 5, 6)}, "retry_days"),
        ({"action": RetryAction.ASK_NEW_METHOD, "retry_days": (3,)}, "retry_days"),
    ],
)
def test_bad_retry_rules_are_refused(kwargs, field):
    with pytest.raises(DomainError) as caught:
        RetryRule("card", "insufficient_funds", **kwargs)
    assert (caught.value.code, caught.value.field) == ("dunning.invalid_retry_rule", field)


# --------------------------------------------------------------------------- through the database


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    sim = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    draft = invoicing.create_draft(
        account_id=northwind.pk,
        lines=[{"description": "Platform seats", "quantity": D(1), "unit_price": D("1275.00"),
                "tax_category": "service", "revenue_category": "services"}],
    )  # fmt: skip
    invoice = invoicing.issue(draft.pk, formats=[])  # 1,517.25 due 2027-03-31
    return sim, acme, northwind, invoice


def eur(text: str) -> Money:
    return Money(D(text), "EUR")


def failed_card_payment(sim, northwind, code: str) -> Payment:
    sim.set(FAILED)
    pending = payments.record_payment(northwind.pk, eur("1517.25"), method="card", pending=True,
                                      external_id=f"ch_{code}", received_on=FAILED)  # fmt: skip
    return payments.fail_payment(pending.pk, code=code)


@pytest.mark.django_db
def test_a_failed_card_payment_is_retried_by_the_job_and_the_rest_cancelled_once_paid(
    world, django_capture_on_commit_callbacks
):
    sim, _, northwind, _ = world
    failed = failed_card_payment(sim, northwind, "insufficient_funds")
    assert [(r.attempt, r.action, r.due_on, r.status) for r in PaymentRetry.objects.order_by("attempt")] == [
        (1, "retry", date(2027, 4, 13), "planned"),
        (2, "retry", date(2027, 4, 17), "planned"),
    ]
    sim.set(date(2027, 4, 12))
    assert services.run_day(date(2027, 4, 12))["retries"] == 0
    sim.set(date(2027, 4, 13))
    with django_capture_on_commit_callbacks(execute=True):
        assert services.run_day(date(2027, 4, 13))["retries"] == 1
        assert services.run_day(date(2027, 4, 13))["retries"] == 0  # rerun: nothing submitted twice
    retry = Payment.objects.get(external_id=f"retry:{failed.pk}:1")
    assert (retry.method, retry.status, retry.amount) == ("card", "pending", eur("1517.25"))
    sim.set(date(2027, 4, 14))
    payments.receive_pending(retry.pk, allocations=[(world[3].pk, eur("1517.25"))])
    second = PaymentRetry.objects.get(attempt=2)
    assert (second.status, second.outcome) == ("cancelled", "an earlier retry was paid")


@pytest.mark.django_db
def test_an_expired_card_asks_the_customer_for_a_new_method(world, django_capture_on_commit_callbacks):
    sim, _, northwind, _ = world
    failed_card_payment(sim, northwind, "card_expired")
    with django_capture_on_commit_callbacks(execute=True):
        result = services.run_day(FAILED)
    assert result["new_method_requests"] == 1
    (request,) = [m for m in mail.outbox if m.subject == "Please update your payment method"]
    assert request.to == ["ap@northwind.example"]
    assert "card: card expired" in request.body
    assert PaymentRetry.objects.get().status == "done"


@pytest.mark.django_db
def test_a_segment_rule_overrides_the_default(world):
    sim, acme, northwind, _ = world
    services.set_segment(northwind.pk, "key-accounts")
    services.save_retry_rule(acme.pk, segment="key-accounts", method="card", reason="insufficient_funds",
                             action="retry", retry_days=[1, 2, 5])  # fmt: skip
    failed_card_payment(sim, northwind, "insufficient_funds")
    assert [r.due_on.day for r in PaymentRetry.objects.order_by("attempt")] == [11, 12, 15]
