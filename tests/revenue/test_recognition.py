"""Revenue through the database: obligations from a contract's activation payload, modifications
from amendments decided by ASC 606-10-25-12/13, measured progress and milestones entered by
finance, the monthly run (idempotent, forward only, one balanced entry), period close and reopen,
and bad input refused with nothing written.

Payloads are what ``contracts.contract.activated`` / ``amended`` carry (docs/contracts.md); the
expected figures are worked out by hand from the cited examples.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from q2c.core import clock
from q2c.core.errors import Conflict, InvalidTransition, PermissionDenied, ValidationError
from q2c.ledger import queries as ledger_queries
from q2c.ledger.models import JournalEntry
from q2c.revenue import queries, services
from q2c.revenue import run as revenue_run
from q2c.revenue.models import Decision, Obligation, RecognitionLine, RevenueContract

pytestmark = pytest.mark.django_db

ENTITY = {
    "name": "Acme Cloud GmbH", "address_line1": "Friedrichstraße 100", "postal_code": "10117", "city": "Berlin",
    "country": "DE", "base_currency": "EUR", "time_zone": "Europe/Berlin", "tax_id": "DE136457858",
    "payment_terms_days": 30,
}  # fmt: skip


@pytest.fixture
def entity_id() -> int:
    from q2c.parties import services as parties

    clock.install(clock.SimulationClock(date(2020, 1, 1), default_tz="Europe/Berlin"))
    return int(parties.create_entity(actor="test", **ENTITY).pk)


def on(day: date) -> None:
    clock.current().set(day)  # type: ignore[attr-defined]


def line(key: str, **kw: Any) -> dict[str, Any]:
    base = {
        "key": key,
        "sku": f"SKU{key}",
        "charge_kind": "recurring",
        "quantity": "1",
        "revenue_category": "subscriptions",
    }
    return {**base, **kw}


def activate(
    entity_id: int, contract_id: int, lines: list[dict[str, Any]], start: str, end: str
) -> RevenueContract:
    return services.identify(
        {"contract_id": contract_id, "number": f"CON-{contract_id}", "entity_id": entity_id, "account_id": 1,
         "currency": "EUR", "start_date": start, "end_date": end, "lines": lines},
        actor="test",
    )  # fmt: skip


def amend(contract_id: int, number: int, effective: str, delta: list[dict[str, Any]]) -> Any:
    return services.modify(
        {
            "contract_id": contract_id,
            "amendment_number": number,
            "effective_date": effective,
            "delta_lines": delta,
        },
        actor="test",
    )


def recognised(entity_id: int, period: date) -> Decimal:
    total = sum(
        RecognitionLine.objects.filter(entity_id=entity_id, period=period).values_list(
            "amount_minor", flat=True
        )
    )
    return Decimal(total).scaleb(-2)


def test_a_services_contract_modified_prospectively_as_in_asc_606_example_7(entity_id):
    """ASC 606-10-55-140..145 (IFRS 15 IE33-IE36 has the same): three years of services at
    100,000 a year; at the start of year 3 the fee for year 3 drops to 80,000 and three more years
    are added for 200,000 (not their SSP of 80,000 a year). The remaining services are distinct:
    termination of the old contract and a new one — 80,000 + 200,000 = 280,000 over the four
    remaining years, 70,000 a year, nothing adjusted on what was recognised."""
    on(date(2021, 1, 1))
    activate(entity_id, 7, [line("1", value="300000.00", net_unit_price="100000", period_months=12,
                                 ssp_unit="100000", service_start="2021-01-01", service_end="2024-01-01")],
             "2021-01-01", "2024-01-01")  # fmt: skip
    on(date(2022, 12, 31))
    first = revenue_run.recognise(entity_id, date(2022, 12, 1), actor="test")
    assert (
        first["recognised"] == "200000.00"
    )  # two whole years of the cumulative day method: 730 of 1,095 days
    on(date(2023, 1, 1))
    amend(7, 1, "2023-01-01", [
        line("1", adjusts="1", quantity="0", value="-20000.00", ssp_unit="80000", period_months=12),
        line("2", value="200000.00", ssp_unit="80000", period_months=12, service_start="2024-01-01",
             service_end="2027-01-01"),
    ])  # fmt: skip
    (decision,) = Decision.objects.filter(contract__contract_id=7)
    assert (decision.treatment, decision.decided_by) == ("terminate_and_create", "rules")
    added = Obligation.objects.get(contract__contract_id=7, key="2")
    assert added.allocated_minor == 21_000_000  # 280,000 × 240,000 ÷ 320,000
    on(date(2023, 12, 31))
    revenue_run.recognise(entity_id, date(2023, 12, 1), actor="test")
    assert recognised(entity_id, date(2023, 12, 1)) == Decimal("70000.00")  # year 3
    # Recognised 200,000 earlier stays (no catch-up): 270,000 in all through year 3.
    assert Obligation.objects.get(contract__contract_id=7, key="1").recognised_minor == 27_000_000


def test_a_construction_contract_modified_by_cumulative_catch_up_as_in_asc_606_example_8(entity_id):
    """ASC 606-10-55-129..133 (IFRS 15 IE37-IE41): a building for 1,000,000 plus a 200,000 bonus
    (constrained: not included), one obligation measured by costs — 60 % complete after year 1
    (420,000 of 700,000), revenue 600,000. In year 2 the design changes: +150,000 of price, costs
    to 820,000, and the bonus is now included. The remaining goods are not distinct from what was
    transferred: part of the existing contract, a cumulative catch-up. Progress 420 ÷ 820 =
    51.2 %, transaction price 1,350,000 → 691,200 to date: a catch-up of 91,200."""
    on(date(2020, 1, 1))
    activate(entity_id, 8, [line("1", charge_kind="one_time", revenue_rule="measured_progress", value="1000000.00",
                                 net_unit_price="1000000", service_start="2020-01-01", service_end="2022-01-01",
                                 revenue_category="services")],
             "2020-01-01", "2022-01-01")  # fmt: skip
    services.set_variable(
        8, [{"id": "bonus", "method": "most_likely", "amount": "200000", "constraint": {"amount": "0"}}]
    )
    services.record_progress(8, "1", "2020-12", "60")
    on(date(2020, 12, 31))
    revenue_run.recognise(entity_id, date(2020, 12, 1), actor="test")
    assert recognised(entity_id, date(2020, 12, 1)) == Decimal("600000.00")
    on(date(2021, 1, 15))
    amend(
        8, 1, "2021-01-15", [line("1", charge_kind="one_time", adjusts="1", quantity="0", value="150000.00")]
    )
    services.set_variable(8, [{"id": "bonus", "method": "most_likely", "amount": "200000", "constraint": {"amount": "0"},
                               "reestimates": [{"as_of": "2021-01-15", "method": "most_likely", "amount": "200000"}]}])  # fmt: skip
    services.record_progress(8, "1", "2021-01", "51.2")
    (decision,) = Decision.objects.filter(contract__contract_id=8)
    assert decision.treatment == "cumulative_catch_up"
    on(date(2021, 1, 31))
    revenue_run.recognise(entity_id, date(2021, 1, 1), actor="test")
    assert recognised(entity_id, date(2021, 1, 1)) == Decimal("91200.00")


def test_progress_above_100_percent_and_into_a_closed_month_is_refused_with_nothing_written(entity_id):
    on(date(2020, 1, 1))
    activate(entity_id, 9, [line("1", charge_kind="one_time", revenue_rule="measured_progress", value="1000.00",
                                 net_unit_price="1000", service_start="2020-01-01", service_end="2020-06-01")],
             "2020-01-01", "2020-06-01")  # fmt: skip
    before = RevenueContract.objects.get(contract_id=9).document
    with pytest.raises(ValidationError) as err:
        services.record_progress(9, "1", "2020-01", "100.5")
    assert (err.value.code, err.value.field) == ("revenue.progress_above_100", "percent_complete")
    assert RevenueContract.objects.get(contract_id=9).document == before
    services.record_progress(9, "1", "2020-01", "25")
    on(date(2020, 1, 31))
    services.close_period(entity_id, "2020-01", actor="test")
    assert recognised(entity_id, date(2020, 1, 1)) == Decimal("250.00")
    with pytest.raises(InvalidTransition) as closed:
        services.record_progress(9, "1", "2020-01", "30")
    assert closed.value.code == "revenue.period_closed"
    with pytest.raises(InvalidTransition) as rerun:
        revenue_run.recognise(entity_id, date(2020, 1, 1))
    assert rerun.value.code == "revenue.period_closed"


def test_milestones_recognise_each_share_when_reached(entity_id):
    on(date(2020, 1, 1))
    activate(entity_id, 10, [line("1", charge_kind="one_time", value="10000.00", net_unit_price="10000",
                                  service_start="2020-01-01", service_end="2020-01-01")], "2020-01-01", "2021-01-01")  # fmt: skip
    services.set_milestones(10, "1", [{"id": "design", "percent": "30"}, {"id": "build", "percent": "70"}])
    services.reach_milestone(10, "1", "design", date(2020, 2, 10))
    on(date(2020, 2, 29))
    revenue_run.recognise(entity_id, date(2020, 2, 1))
    assert recognised(entity_id, date(2020, 2, 1)) == Decimal("3000.00")


def test_a_rerun_posts_only_what_is_new_and_runs_go_forward_only(entity_id):
    """Two obligations: 12,000.00 ratable over 2020 (366 days) and a 1,000.00 device. January:
    round(12,000 × 31 ÷ 366) = 1,016.39 and, once delivered on 2020-01-20, the device 1,000.00."""
    on(date(2020, 1, 1))
    activate(entity_id, 11, [
        line("1", value="12000.00", net_unit_price="1000", ssp_unit="1000", period_months=1,
             service_start="2020-01-01", service_end="2021-01-01"),
        line("2", charge_kind="one_time", value="1000.00", net_unit_price="1000", ssp_unit="1000",
             service_start="2020-01-01", service_end="2020-01-01", revenue_category="hardware"),
    ], "2020-01-01", "2021-01-01")  # fmt: skip
    on(date(2020, 1, 31))
    first = revenue_run.recognise(entity_id, date(2020, 1, 1))
    assert first["recognised"] == "1016.39"
    assert services.satisfy(11, "2", date(2020, 1, 20)) is True
    assert services.satisfy(11, "2", date(2020, 1, 20)) is False  # already satisfied: nothing changes
    second = revenue_run.recognise(entity_id, date(2020, 1, 1))
    assert (second["attempt"], second["recognised"]) == (2, "1000.00")
    third = revenue_run.recognise(entity_id, date(2020, 1, 1))
    assert (third["recognised"], third["entry"]) == ("0.00", "")
    assert JournalEntry.objects.filter(entity_id=entity_id, source_app="revenue").count() == 2
    tb = ledger_queries.trial_balance(entity_id, date(2020, 1, 31)).by_key()
    # Nothing billed yet: the recognised revenue is a contract asset.
    assert tb["contract_assets"].amount == Decimal("2016.39")
    assert tb["revenue.subscriptions"].amount == Decimal("-1016.39")
    assert tb["revenue.hardware"].amount == Decimal("-1000.00")
    on(date(2020, 2, 29))
    revenue_run.recognise(entity_id, date(2020, 2, 1))
    with pytest.raises(Conflict) as err:
        revenue_run.recognise(entity_id, date(2020, 1, 1))
    assert err.value.code == "revenue.run_out_of_order"
    assert revenue_run.positions_tie() == []


def test_a_cancellation_ends_the_ratable_obligation_and_drops_the_undelivered_one(entity_id):
    on(date(2020, 1, 1))
    activate(entity_id, 12, [
        line("1", value="3660.00", net_unit_price="305", ssp_unit="305", period_months=1,
             service_start="2020-01-01", service_end="2021-01-01"),
        line("2", charge_kind="one_time", value="500.00", net_unit_price="500", ssp_unit="500",
             service_start="2020-01-01", service_end="2020-01-01"),
    ], "2020-01-01", "2021-01-01")  # fmt: skip
    on(date(2020, 2, 1))
    services.modify({"contract_id": 12, "effective_date": "2020-02-01", "delta_lines": [
        line("1", adjusts="1", quantity="-1", value="0"), line("2", adjusts="2", quantity="-1", value="0"),
    ]}, cancel=True)  # fmt: skip
    contract = queries.contract(12)
    assert contract["status"] == "cancelled"
    seat = next(o for o in contract["obligations"] if o["id"] == "1")
    # What was allocated to the seats is recognised over what ran: 31 days of January.
    assert seat["schedule"][-1]["month"] == "2020-01"


def test_reopening_needs_an_admin_and_close_needs_the_month_ended(entity_id, django_user_model):
    on(date(2020, 1, 15))
    with pytest.raises(ValidationError) as early:
        services.close_period(entity_id, "2020-01")
    assert early.value.code == "revenue.period_not_ended"
    on(date(2020, 1, 31))
    services.close_period(entity_id, "2020-01")
    clerk = django_user_model.objects.create_user("clerk")
    with pytest.raises(PermissionDenied):
        services.reopen_period(entity_id, "2020-01", user=clerk)
    boss = django_user_model.objects.create_superuser("boss", "boss@example.com", "x")
    assert services.reopen_period(entity_id, "2020-01", user=boss, reason="late invoice")["status"] == "open"
    assert not services.is_closed(entity_id, date(2020, 1, 1))


def test_the_daily_job_recognises_on_the_month_end_and_reruns_the_open_previous_month(entity_id):
    on(date(2020, 1, 1))
    activate(entity_id, 13, [line("1", value="3660.00", net_unit_price="305", ssp_unit="305", period_months=1,
                                  service_start="2020-01-01", service_end="2021-01-01")], "2020-01-01", "2021-01-01")  # fmt: skip
    assert revenue_run.daily(date(2020, 1, 30)) == {"runs": []}  # not a month end
    (jan,) = revenue_run.daily(date(2020, 1, 31))["runs"]
    assert (jan["period"], jan["recognised"]) == ("2020-01", "310.00")  # 3,660 × 31 ÷ 366
    (again,) = revenue_run.daily(date(2020, 2, 1))["runs"]  # the open previous month: nothing new
    assert (again["period"], again["attempt"], again["recognised"], again["entry"]) == (
        "2020-01",
        2,
        "0.00",
        "",
    )


def test_finance_forces_a_treatment_with_a_note_and_the_decision_says_so(entity_id):
    on(date(2020, 1, 1))
    activate(entity_id, 14, [line("1", value="12000.00", net_unit_price="1000", ssp_unit="1000", period_months=1,
                                  service_start="2020-01-01", service_end="2021-01-01")], "2020-01-01", "2021-01-01")  # fmt: skip
    amend(14, 1, "2020-07-01", [line("5", value="3000.00", net_unit_price="500", ssp_unit="500", period_months=1,
                                     service_start="2020-07-01", service_end="2021-01-01")])  # fmt: skip
    assert Decision.objects.get(contract__contract_id=14).treatment == "separate_contract"
    with pytest.raises(ValidationError) as err:
        services.override(14, 0, "cumulative_catch_up", "  ")
    assert (err.value.code, err.value.field) == ("revenue.note_required", "note")
    services.override(14, 0, "cumulative_catch_up", "the seats were sold to keep the customer")
    decision = Decision.objects.get(contract__contract_id=14)
    assert (decision.treatment, decision.decided_by, decision.note) == (
        "cumulative_catch_up", "override", "the seats were sold to keep the customer",
    )  # fmt: skip


def test_the_cli_refuses_a_malformed_month_and_writes_nothing(entity_id):
    from django.core.management import call_command
    from django.core.management.base import CommandError

    from q2c.revenue.models import RecognitionRun

    for args in (
        ("revenue", "run", "--period", "2020-13"),
        ("close-period", "20-1"),
        ("close-period", "<b>"),
    ):
        with pytest.raises(CommandError, match=r"revenue\.invalid_period"):
            call_command(*args)
    assert RecognitionRun.objects.count() == 0


def test_a_discount_the_evidence_ties_to_one_obligation_goes_to_it_alone(entity_id):
    """ASC 606-10-32-37 (IFRS 15.82): a 1,000.00 contract of A (SSP 500.00) and B (SSP 600.00)
    carries a 100.00 discount. By relative SSP: A 1,000 × 500 ÷ 1,100 = 454.545… → 454.55, B 545.45.
    With the discount tied to B by the contract's evidence: A keeps its SSP, 500.00, B 500.00."""
    on(date(2020, 1, 1))
    activate(entity_id, 15, [
        line("1", charge_kind="one_time", value="600.00", net_unit_price="600", ssp_unit="500",
             service_start="2020-01-01", service_end="2020-01-01"),
        line("2", charge_kind="one_time", value="400.00", net_unit_price="400", ssp_unit="600",
             service_start="2020-01-01", service_end="2020-01-01"),
    ], "2020-01-01", "2021-01-01")  # fmt: skip

    def allocated() -> dict[str, int]:
        return dict(Obligation.objects.filter(contract__contract_id=15).values_list("key", "allocated_minor"))

    assert allocated() == {"1": 45455, "2": 54545}
    services.set_terms(15, discount_allocation=[{"obligations": ["2"], "amount": "100.00"}])
    assert allocated() == {"1": 50000, "2": 50000}
    with pytest.raises(ValidationError) as err:
        services.set_terms(15, discount_allocation=[{"obligations": ["nope"], "amount": "100.00"}])
    assert "discount_allocation" in (err.value.field or "")
    assert allocated() == {"1": 50000, "2": 50000}


def test_goods_delivered_in_parts_are_recognised_unit_by_unit_from_the_orders_events(entity_id):
    """Ten devices at 400.00 (4,000.00, the only obligation): orders reports 4 delivered on
    2020-01-20 and the other 6 on 2020-02-10 (``orders.line.delivered`` with ``delivered_total``
    and ``ordered_quantity``). By hand: January 4/10 × 4,000.00 = 1,600.00, February 2,400.00."""
    from q2c.platform.events import DomainEvent
    from q2c.revenue import handlers

    on(date(2020, 1, 1))
    activate(entity_id, 14, [line("1", charge_kind="one_time", quantity="10", value="4000.00", net_unit_price="400",
                                  ssp_unit="400", service_start="2020-01-01", service_end="2020-01-01",
                                  revenue_category="hardware")], "2020-01-01", "2021-01-01")  # fmt: skip

    def delivered(day: str, total: str, fully: bool) -> None:
        handlers.on_line_delivered(DomainEvent(
            "orders.line.delivered", "orders.order", 99,
            {"contract_id": 14, "contract_line_key": "1", "ordered_quantity": "10", "quantity": "x",
             "delivered_total": total, "fully_delivered": fully, "delivered_on": day},
            entity_id=entity_id, actor="test",
        ))  # fmt: skip

    delivered("2020-01-20", "4", False)
    delivered("2020-01-20", "4", False)  # the same event again changes nothing
    assert services.deliver_part(14, "1", date(2020, 1, 20), Decimal(3), Decimal(10)) is False
    on(date(2020, 1, 31))
    assert revenue_run.recognise(entity_id, date(2020, 1, 1))["recognised"] == "1600.00"
    delivered("2020-02-10", "10", True)
    on(date(2020, 2, 29))
    assert revenue_run.recognise(entity_id, date(2020, 2, 1))["recognised"] == "2400.00"
    ob = Obligation.objects.get(contract__contract_id=14, key="1")
    assert (ob.recognised_minor, ob.allocated_minor) == (400_000, 400_000)
    assert revenue_run.positions_tie() == []


def test_a_cancellation_keeps_the_units_already_delivered(entity_id):
    """Half of a 1,000.00 goods line (2 of 4 units) delivered in January, then the contract is
    cancelled: the delivered part stays recognised (500.00); nothing is removed behind it."""
    on(date(2020, 1, 1))
    activate(entity_id, 15, [line("1", charge_kind="one_time", quantity="4", value="1000.00", net_unit_price="250",
                                  ssp_unit="250", service_start="2020-01-01", service_end="2020-01-01",
                                  revenue_category="hardware")], "2020-01-01", "2021-01-01")  # fmt: skip
    assert services.deliver_part(15, "1", date(2020, 1, 10), Decimal(2), Decimal(4)) is True
    on(date(2020, 1, 31))
    assert revenue_run.recognise(entity_id, date(2020, 1, 1))["recognised"] == "500.00"
    on(date(2020, 2, 1))
    services.modify({"contract_id": 15, "effective_date": "2020-02-01", "delta_lines": [
        line("1", charge_kind="one_time", adjusts="1", quantity="-4", value="0"),
    ]}, cancel=True)  # fmt: skip
    ob = next(o for o in queries.contract(15)["obligations"] if o["id"] == "1")
    assert ob["recognised"] == "500.00"
