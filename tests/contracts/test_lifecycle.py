"""Cancellation (notice period, non-cancellable term, override role), renewal quotes N days
before the end with the uplift, automatic renewal into a linked next-term contract, expiry."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.contracts import services
from q2c.contracts.errors import ContractConflict, ContractForbidden, ContractInvalid
from q2c.contracts.models import Amendment, Contract, ContractLine, ContractVersion
from q2c.core.errors import InvalidTransition
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db


def state(contract):
    contract.refresh_from_db()
    return (
        contract.status,
        contract.lock_version,
        ContractVersion.objects.filter(contract=contract).count(),
        Amendment.objects.filter(contract=contract).count(),
        Event.objects.filter(type__startswith="contracts.").count(),
    )


@pytest.fixture
def cancellable(world, on_day):
    on_day(date(2027, 1, 20))
    return builders.active_contract(
        world["entity"], world["account"], non_cancellable=False, notice_days=30, owner_id=world["rita"].pk
    )


def test_a_cancellation_with_notice_stops_every_recurring_line_from_its_date(world, cancellable, on_day):
    on_day(date(2027, 6, 1))
    amendment = services.cancel(
        cancellable.pk,
        actor=world["rita"],
        lock_version=cancellable.lock_version,
        effective_date=date(2027, 7, 1),
        reason="budget cut",
    )
    cancellable.refresh_from_db()
    assert (cancellable.status, cancellable.cancel_effective_date, amendment.kind) == (
        "cancelled",
        date(2027, 7, 1),
        "cancel",
    )
    delta = ContractLine.objects.get(version__contract=cancellable, version__number=2, key="A1.1")
    # 50 seats stop for Jul–Jan: 7 × 1,275.00 = 8,925.00 no longer due.
    assert (delta.quantity, delta.adjusts, delta.service_start, str(delta.value.amount)) == (
        D(-50),
        "1",
        date(2027, 7, 1),
        "-8925.00",
    )
    event = Event.objects.get(type="contracts.contract.cancelled")
    assert (
        event.payload["effective_date"],
        event.payload["reason"],
        event.payload["delta_value"]["amount"],
    ) == (
        "2027-07-01",
        "budget cut",
        "-8925.00",
    )


def test_cancelling_inside_the_notice_period_needs_the_override_role(world, cancellable, on_day):
    on_day(date(2027, 6, 10))  # 21 days before 2027-07-01: inside the 30-day notice period
    before = state(cancellable)
    with pytest.raises(ContractConflict) as err:
        services.cancel(
            cancellable.pk,
            actor=world["rita"],
            lock_version=cancellable.lock_version,
            effective_date=date(2027, 7, 1),
            reason="x",
        )
    assert (err.value.code, err.value.field) == ("contracts.notice_period", "effective_date")
    with pytest.raises(ContractForbidden) as denied:
        services.cancel(
            cancellable.pk,
            actor=world["rita"],
            lock_version=cancellable.lock_version,
            effective_date=date(2027, 7, 1),
            reason="x",
            override=True,
        )
    assert (denied.value.code, denied.value.status) == ("contracts.override_role", 403)
    assert state(cancellable) == before
    services.cancel(
        cancellable.pk,
        actor=world["max"],
        lock_version=cancellable.lock_version,
        effective_date=date(2027, 7, 1),
        reason="x",
        override=True,
    )
    assert state(cancellable)[0] == "cancelled"
    assert Event.objects.get(type="contracts.contract.cancelled").payload["override"] is True


def test_a_non_cancellable_contract_runs_to_its_end_unless_overridden(world, contract, on_day):
    on_day(date(2027, 3, 1))
    before = state(contract)
    with pytest.raises(ContractConflict) as err:
        services.cancel(
            contract.pk,
            actor=world["rita"],
            lock_version=contract.lock_version,
            effective_date=date(2027, 6, 1),
            reason="x",
        )
    assert err.value.code == "contracts.non_cancellable"
    assert state(contract) == before
    # Notice of non-renewal in time: effective on the end date, nothing stops early.
    services.cancel(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        effective_date=date(2028, 2, 1),
        reason="not renewing",
    )
    contract.refresh_from_db()
    assert contract.status == "cancelled"
    assert Event.objects.get(type="contracts.contract.cancelled").payload["delta_lines"] == []


@pytest.mark.parametrize(
    ("effective", "code"),
    [
        (date(2027, 1, 31), "contracts.effective_before_start"),
        (date(2028, 2, 2), "contracts.effective_after_end"),
    ],
)
def test_a_cancellation_outside_the_term_is_refused(world, cancellable, on_day, effective, code):
    on_day(date(2027, 1, 21))
    before = state(cancellable)
    with pytest.raises(ContractInvalid) as err:
        services.cancel(
            cancellable.pk,
            actor=world["max"],
            lock_version=cancellable.lock_version,
            effective_date=effective,
            reason="x",
            override=True,
        )
    assert err.value.code == code
    assert state(cancellable) == before


def test_a_cancelled_contract_is_not_cancelled_again(world, cancellable, on_day):
    on_day(date(2027, 3, 1))
    services.cancel(
        cancellable.pk,
        actor=world["rita"],
        lock_version=cancellable.lock_version,
        effective_date=date(2027, 6, 1),
        reason="x",
    )
    cancellable.refresh_from_db()
    with pytest.raises(InvalidTransition):
        services.cancel(
            cancellable.pk,
            actor=world["rita"],
            lock_version=cancellable.lock_version,
            effective_date=date(2027, 6, 1),
            reason="x",
        )


def test_the_daily_job_makes_the_renewal_quote_sixty_days_before_the_end_with_the_uplift(world, on_day):
    from q2c.quotes.models import Quote

    on_day(date(2027, 1, 20))
    contract = builders.active_contract(
        world["entity"], world["account"], renewal_uplift_percent=D(5), owner_id=world["rita"].pk
    )
    on_day(date(2027, 12, 2))
    assert services.run_daily(date(2027, 12, 2))["renewal_quotes"] == []  # 61 days before 2028-02-01
    on_day(date(2027, 12, 3))
    assert services.run_daily(date(2027, 12, 3))["renewal_quotes"] == ["CON-2027-000001"]
    assert services.run_daily(date(2027, 12, 3))["renewal_quotes"] == []  # idempotent
    contract.refresh_from_db()
    quote = Quote.objects.get(pk=contract.renewal_quote_id)
    assert (quote.sale_context, quote.start_date, quote.term_months, quote.owner_id) == (
        "renewal",
        date(2028, 2, 1),
        12,
        world["rita"].pk,
    )
    seat = next(x for x in quote.pricing["lines"] if x["sku"] == "SEAT")
    # 25.50 × 1.05 = 26.775 → 26.78 a seat a month (half-up).
    assert (seat["quantity"], seat["net_unit_price"]) == ("50", "26.78")
    assert {x["sku"] for x in quote.pricing["lines"]} == {"SEAT", "API"}  # one-time charges do not renew
    assert Event.objects.filter(type="contracts.contract.renewal_quoted").count() == 1


def test_an_auto_renew_contract_renews_into_a_linked_contract_on_its_end_date(world, on_day):
    on_day(date(2027, 1, 20))
    contract = builders.active_contract(
        world["entity"], world["account"], auto_renew=True, renewal_uplift_percent=D(5)
    )
    on_day(date(2028, 1, 31))
    assert services.run_daily(date(2028, 1, 31))["renewed"] == []
    on_day(date(2028, 2, 1))
    result = services.run_daily(date(2028, 2, 1))
    assert result["renewed"] == ["CON-2027-000001"]
    contract.refresh_from_db()
    new = Contract.objects.get(previous=contract)
    assert (contract.status, new.status, new.sale_context) == ("renewed", "active", "renewal")
    assert (new.number, new.start_date, new.end_date, new.auto_renew) == (
        "CON-2028-000001",
        date(2028, 2, 1),
        date(2029, 2, 1),
        True,
    )
    assert [
        (x.sku, x.quantity, x.net_unit_price)
        for x in ContractLine.objects.filter(version__contract=new).order_by("position")
    ] == [
        ("SEAT", D(50), D("26.78")),
        ("API", D(0), None),
    ]
    renewed = Event.objects.get(type="contracts.contract.renewed")
    assert (renewed.payload["new_contract_id"], renewed.payload["how"]) == (new.pk, "auto_renew")
    activated = Event.objects.filter(type="contracts.contract.activated", aggregate_id=str(new.pk)).get()
    assert activated.payload["previous_contract_id"] == contract.pk
    assert services.run_daily(date(2028, 2, 1))["renewed"] == []  # idempotent


def test_a_contract_without_auto_renew_expires_on_its_end_date(world, contract, on_day):
    on_day(date(2028, 2, 1))
    assert services.run_daily(date(2028, 2, 1))["expired"] == ["CON-2027-000001"]
    contract.refresh_from_db()
    assert (contract.status, contract.ended_on) == ("expired", date(2028, 2, 1))


def test_a_reduction_at_renewal_is_applied_to_the_next_term(world, on_day):
    on_day(date(2027, 1, 20))
    contract = builders.active_contract(world["entity"], world["account"], auto_renew=True)
    on_day(date(2027, 9, 1))
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="remove_quantity",
        effective_date="2027-09-01",
        sku="SEAT",
        quantity="20",
    )
    on_day(date(2028, 2, 1))
    services.run_daily(date(2028, 2, 1))
    new = Contract.objects.get(previous=contract)
    assert ContractLine.objects.get(version__contract=new, sku="SEAT").quantity == D(30)


def test_an_accepted_renewal_quote_makes_the_next_term_contract_and_the_end_date_hands_over(world, on_day):
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalStep

    on_day(date(2027, 1, 20))
    contract = builders.active_contract(
        world["entity"], world["account"], renewal_uplift_percent=D(5), owner_id=world["rita"].pk
    )
    on_day(date(2027, 12, 3))
    services.run_daily(date(2027, 12, 3))
    contract.refresh_from_db()
    quote = quotes.submit_quote(contract.renewal_quote_id, actor=world["rita"])
    for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    sent = quotes.send_quote(quote.pk, actor=world["rita"])
    on_day(date(2027, 12, 20))
    quotes.accept_quote(sent.token, signer_name="Nora North", signer_title="CFO", agree=True)
    new = Contract.objects.get(previous=contract)
    assert (new.sale_context, new.start_date, new.end_date, new.status) == (
        "renewal",
        date(2028, 2, 1),
        date(2029, 2, 1),
        "active",
    )
    assert new.renewal_uplift_percent == D(5)
    assert ContractLine.objects.get(version__contract=new, sku="SEAT").net_unit_price == D("26.78")
    contract.refresh_from_db()
    assert contract.status == "active"  # it still runs to its end
    on_day(date(2028, 2, 1))
    assert services.run_daily(date(2028, 2, 1))["renewed"] == ["CON-2027-000001"]
    contract.refresh_from_db()
    assert contract.status == "renewed"
    assert Event.objects.get(type="contracts.contract.renewed").payload["how"] == "accepted_renewal"


def test_the_daily_job_uses_the_lead_days_the_entity_saved(world, on_day):
    from q2c.contracts.models import ContractSettings

    ContractSettings.objects.create(entity_id=world["entity"].pk, renewal_lead_days=90)
    on_day(date(2027, 1, 20))
    builders.active_contract(world["entity"], world["account"], owner_id=world["rita"].pk)
    # The term ends 2028-02-01: 90 days before is 2027-11-03 (28 days of November 2027 + 31 of
    # December + 31 of January = 90).
    on_day(date(2027, 11, 2))
    assert services.run_daily(date(2027, 11, 2))["renewal_quotes"] == []
    on_day(date(2027, 11, 3))
    assert services.run_daily(date(2027, 11, 3))["renewal_quotes"] == ["CON-2027-000001"]


def test_the_daily_job_makes_no_renewal_quote_for_a_contract_whose_next_term_exists(world, on_day):
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalStep

    on_day(date(2027, 1, 20))
    contract = builders.active_contract(world["entity"], world["account"], owner_id=world["rita"].pk)
    on_day(date(2027, 12, 3))
    assert services.run_daily(date(2027, 12, 3))["renewal_quotes"] == ["CON-2027-000001"]
    contract.refresh_from_db()
    quote = quotes.submit_quote(contract.renewal_quote_id, actor=world["rita"])
    for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    quotes.accept_quote(quotes.send_quote(quote.pk, actor=world["rita"]).token, signer_name="Nora North",
                        signer_title="CFO", agree=True)  # fmt: skip
    assert Contract.objects.filter(previous=contract).exists()
    # The link to the renewal quote gone (as for a next term made another way), the next term
    # alone keeps the job from quoting the renewal again.
    Contract.objects.filter(pk=contract.pk).update(renewal_quote_id=None)
    on_day(date(2027, 12, 4))
    assert services.run_daily(date(2027, 12, 4)) == {"renewal_quotes": [], "skipped": [], "renewed": [], "expired": []}


def test_the_command_runs_the_daily_job_for_a_date(world, contract, on_day):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("contracts_renewals", "--as-of", "2028-02-01", stdout=out)
    assert out.getvalue().strip() == "2028-02-01: 0 renewal quote(s), 0 renewed, 1 expired"
    contract.refresh_from_db()
    assert contract.status == "expired"


def test_the_command_refuses_a_bad_date(world):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError) as err:
        call_command("contracts_renewals", "--as-of", "2028-02-30")
    assert err.value.returncode == 2
