"""Amendments through the services: each writes a new version with delta lines, keeps the earlier
versions readable, co-terms to the end and records its sale context; bad input changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.contracts import services
from q2c.contracts.errors import ContractConflict, ContractInvalid
from q2c.contracts.models import Amendment, Contract, ContractLine, ContractVersion
from q2c.core.errors import DomainError
from q2c.platform.models import Event

pytestmark = pytest.mark.django_db


def lines(contract, number):
    return [
        (x.key, x.sku, x.quantity, x.net_unit_price, x.service_start, x.service_end)
        for x in ContractLine.objects.filter(version__contract=contract, version__number=number).order_by(
            "position"
        )
    ]


def snapshot(contract):
    contract.refresh_from_db()
    return (
        contract.lock_version,
        contract.current_version,
        ContractVersion.objects.filter(contract=contract).count(),
        Amendment.objects.filter(contract=contract).count(),
        Event.objects.filter(type__startswith="contracts.").count(),
    )


def test_northwind_step_6_adds_ten_seats_co_termed_as_an_add_on(world, contract, on_day):
    on_day(date(2027, 3, 15))
    amendment = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )
    contract.refresh_from_db()
    assert (amendment.status, amendment.sale_context, amendment.number, contract.current_version) == (
        "applied",
        "add_on",
        1,
        2,
    )
    # 10 × 25.50 × 17/31 = 139.84 for March, then ten months of 255.00: 2,689.84 (northwind.md step 6).
    assert str(amendment.delta_value.amount) == "2689.84"
    delta = ContractLine.objects.get(version__contract=contract, version__number=2, key="A1.1")
    assert (delta.sku, delta.quantity, delta.net_unit_price, delta.service_start, delta.service_end) == (
        "SEAT",
        D(10),
        D("25.50"),
        date(2027, 3, 15),
        date(2028, 2, 1),
    )
    assert (delta.sale_context, delta.amendment_number, delta.ssp_unit) == ("add_on", 1, D("25.50"))
    # Version 1 is unchanged and readable; version 2 holds it all plus the delta line.
    assert [k for k, *_ in lines(contract, 1)] == ["1", "2", "3", "4"]
    assert [k for k, *_ in lines(contract, 2)] == ["1", "2", "3", "4", "A1.1"]
    assert str(contract.mrr.amount) == "1530.00"  # 60 seats × 25.50 running on 2027-03-15
    event = Event.objects.get(type="contracts.contract.amended")
    (line,) = event.payload["delta_lines"]
    assert (
        line["quantity"],
        line["net_unit_price"],
        line["sale_context"],
        line["service_start"],
        line["service_end"],
    ) == (
        "10",
        "25.50",
        "add_on",
        "2027-03-15",
        "2028-02-01",
    )
    assert (event.payload["effective_date"], event.payload["sale_context"], line["value"]["amount"]) == (
        "2027-03-15",
        "add_on",
        "2689.84",
    )


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"effective_date": "2027-01-31"}, "contracts.effective_before_start", "effective_date"),
        ({"effective_date": "2028-02-01"}, "contracts.effective_after_end", "effective_date"),
        ({"effective_date": "2027-15-01"}, "contracts.invalid_date", "effective_date"),
        ({"quantity": "0"}, "contracts.invalid_quantity", "quantity"),
        ({"quantity": None}, "contracts.required", "quantity"),
        ({"sku": "NOPE"}, "contracts.unknown_line", "sku"),
        ({"kind": "double"}, "contracts.invalid_choice", "kind"),
    ],
)
def test_a_bad_amendment_is_refused_and_changes_nothing(world, contract, on_day, changes, code, field):
    on_day(date(2027, 3, 15))
    before = snapshot(contract)
    request = {
        "kind": "add_quantity",
        "effective_date": "2027-03-15",
        "sku": "SEAT",
        "quantity": "10",
        **changes,
    }
    with pytest.raises(ContractInvalid) as err:
        services.amend(contract.pk, actor=world["rita"], lock_version=contract.lock_version, **request)
    assert (err.value.code, err.value.field) == (code, field)
    assert snapshot(contract) == before


def test_reducing_below_zero_is_refused_and_changes_nothing(world, contract, on_day):
    on_day(date(2027, 5, 1))
    before = snapshot(contract)
    with pytest.raises(ContractInvalid) as err:
        services.amend(
            contract.pk,
            actor=world["rita"],
            lock_version=contract.lock_version,
            kind="remove_quantity",
            effective_date="2027-05-01",
            line_key="1",
            quantity="51",
        )
    assert (err.value.code, err.value.field) == ("contracts.below_zero", "quantity")
    assert snapshot(contract) == before


def test_a_reduction_waits_for_the_renewal_unless_the_product_says_at_once(world, contract, on_day):
    from q2c.catalog.models import Product

    on_day(date(2027, 5, 1))
    later = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="remove_quantity",
        effective_date="2027-05-01",
        line_key="1",
        quantity="5",
    )
    assert later.request["reduction"] == "at_renewal"
    line = ContractLine.objects.get(version__contract=contract, version__number=2, key="A1.1")
    assert (line.quantity, line.service_start, line.at_renewal, str(line.value.amount)) == (
        D(-5),
        date(2028, 2, 1),
        True,
        "0.00",
    )
    services.set_product_policy(
        Product.objects.get(sku="SEAT").pk, reduction="immediate_with_credit", actor="test"
    )
    contract.refresh_from_db()
    now = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="remove_quantity",
        effective_date="2027-05-01",
        line_key="1",
        quantity="5",
    )
    line = ContractLine.objects.get(version__contract=contract, version__number=3, key="A2.1")
    # −5 seats for May–January: 9 × 127.50 = 1,147.50 credited.
    assert (now.request["reduction"], line.credit, line.service_start, str(line.value.amount)) == (
        "immediate_with_credit",
        True,
        date(2027, 5, 1),
        "-1147.50",
    )
    # 50 − 5 (at renewal) − 5 (now) leave 40; a third reduction of 41 goes below zero.
    contract.refresh_from_db()
    with pytest.raises(ContractInvalid) as err:
        services.amend(
            contract.pk,
            actor=world["rita"],
            lock_version=contract.lock_version,
            kind="remove_quantity",
            effective_date="2027-06-01",
            line_key="1",
            quantity="41",
        )
    assert err.value.code == "contracts.below_zero"


def test_extending_the_term_co_terms_every_running_line_to_the_new_end(world, contract, on_day):
    on_day(date(2027, 6, 1))
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="extend_term",
        effective_date="2027-06-01",
        new_end_date="2028-08-01",
    )
    contract.refresh_from_db()
    assert (contract.end_date, contract.term_months) == (date(2028, 8, 1), 18)
    assert lines(contract, 2)[-2:] == [
        ("A1.1", "SEAT", D(50), D("25.50"), date(2028, 2, 1), date(2028, 8, 1)),
        ("A1.2", "API", D(0), None, date(2028, 2, 1), date(2028, 8, 1)),
    ]
    version = ContractVersion.objects.get(contract=contract, number=2)
    assert version.end_date == date(2028, 8, 1)
    assert ContractVersion.objects.get(contract=contract, number=1).end_date == date(2028, 2, 1)


def test_an_amendment_on_a_stale_version_is_a_409_and_changes_nothing(world, contract, on_day):
    on_day(date(2027, 3, 15))
    stale = contract.lock_version
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=stale,
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )
    before = snapshot(contract)
    with pytest.raises(ContractConflict) as err:
        services.amend(
            contract.pk,
            actor=world["max"],
            lock_version=stale,
            kind="add_quantity",
            effective_date="2027-03-15",
            sku="SEAT",
            quantity="5",
        )
    assert (err.value.code, err.value.status) == ("contracts.stale", 409)
    assert snapshot(contract) == before


def test_a_cancelled_contract_is_not_amended(world, contract, on_day):
    services.save_settings(world["entity"].pk, {}, actor="test")
    Contract.objects.filter(pk=contract.pk).update(non_cancellable=False)
    on_day(date(2027, 3, 1))
    contract.refresh_from_db()
    services.cancel(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        effective_date=date(2027, 5, 1),
        reason="merged",
    )
    contract.refresh_from_db()
    with pytest.raises(ContractConflict) as err:
        services.amend(
            contract.pk,
            actor=world["rita"],
            lock_version=contract.lock_version,
            kind="add_quantity",
            effective_date="2027-04-01",
            sku="SEAT",
            quantity="1",
        )
    assert err.value.code == "contracts.not_active"


def test_a_price_change_waits_for_its_quote_and_leaves_the_contract_as_it_was(world, contract, on_day):
    from q2c.quotes.models import Quote

    on_day(date(2027, 7, 20))
    amendment = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="change_price",
        effective_date="2027-08-01",
        line_key="1",
        unit_price="24.00",
    )
    contract.refresh_from_db()
    assert (amendment.status, contract.current_version) == ("proposed", 1)
    quote = Quote.objects.get(pk=amendment.quote_id)
    assert (quote.sale_context, quote.start_date, quote.term_months, quote.status) == (
        "add_on",
        date(2027, 8, 1),
        6,
        "draft",
    )
    priced = quote.pricing["lines"][0]
    assert (priced["sku"], priced["quantity"], priced["net_unit_price"]) == ("SEAT", "50", "24.00")
    # Another amendment does not wait for it (test_concurrent_amendments.py: what that makes of this one).
    other = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_quantity",
        effective_date="2027-08-01",
        sku="SEAT",
        quantity="1",
    )
    amendment.refresh_from_db()
    assert (other.status, amendment.status, amendment.based_on_version) == ("applied", "proposed", 1)


def test_withdrawing_the_amendment_quote_withdraws_the_amendment(world, contract, on_day):
    from q2c.quotes import services as quotes

    on_day(date(2027, 7, 20))
    amendment = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_product",
        effective_date="2027-08-01",
        sku="ONB",
        quantity="1",
    )
    quotes.withdraw_quote(amendment.quote_id, actor=world["rita"], reason="not now")
    amendment.refresh_from_db()
    assert amendment.status == "withdrawn"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_amendments_at_once_one_wins_and_the_other_gets_409(world, on_day):
    import threading

    from django.db import connection

    from tests.contracts import builders

    on_day(date(2027, 1, 20))
    contract = builders.active_contract(world["entity"], world["account"])
    read = contract.lock_version
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    on_day(date(2027, 3, 15))
    current = __import__("q2c.core.clock", fromlist=["current"]).current()

    def worker(quantity: str) -> None:
        from q2c.core import clock

        clock.install(current)
        try:
            barrier.wait()
            services.amend(
                contract.pk,
                actor=world["rita"],
                lock_version=read,
                kind="add_quantity",
                effective_date="2027-03-15",
                sku="SEAT",
                quantity=quantity,
            )
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(f"{exc.status} {exc.code}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(q,)) for q in ("10", "5")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["409 contracts.stale", "ok"]
    contract.refresh_from_db()
    assert (contract.current_version, Amendment.objects.filter(contract=contract).count()) == (2, 1)


def _approve_send_accept(quote_id, world, on_day, day):
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalStep

    quote = quotes.submit_quote(quote_id, actor=world["rita"])
    for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    sent = quotes.send_quote(quote_id, actor=world["rita"])
    on_day(day)
    quotes.accept_quote(
        sent.token,
        signer_name="Nora North",
        signer_title="CFO",
        agree=True,
        ip="203.0.113.7",
        user_agent="test",
    )


def test_a_price_change_applies_when_its_quote_is_approved_and_accepted(world, contract, on_day):
    on_day(date(2027, 7, 20))
    amendment = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="change_price",
        effective_date="2027-08-01",
        line_key="1",
        unit_price="24.00",
    )
    _approve_send_accept(amendment.quote_id, world, on_day, date(2027, 7, 25))
    amendment.refresh_from_db()
    contract.refresh_from_db()
    assert (amendment.status, contract.current_version) == ("applied", 2)
    off = ContractLine.objects.get(version__contract=contract, version__number=2, key="A1.1")
    on = ContractLine.objects.get(version__contract=contract, version__number=2, key="A1.2")
    assert (off.quantity, off.net_unit_price, off.adjusts) == (D(-50), D("25.50"), "1")
    assert (on.quantity, on.net_unit_price, on.service_start, on.quote_id) == (
        D(50),
        D("24.00"),
        date(2027, 8, 1),
        amendment.quote_id,
    )
    # Aug–Jan: 6 × 50 × (24.00 − 25.50) = −450.00.
    assert str(amendment.delta_value.amount) == "-450.00"
    assert str(contract.mrr.amount) == "1200.00"  # 50 × 24.00 running from the effective date 2027-08-01
    event = Event.objects.get(type="contracts.contract.amended")
    assert (event.payload["kind"], event.payload["quote_id"]) == ("change_price", amendment.quote_id)


def test_a_new_product_through_its_quote_is_co_termed_with_its_catalog_facts(world, contract, on_day):
    on_day(date(2027, 3, 1))
    amendment = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_product",
        effective_date="2027-03-15",
        sku="EDGE",
        quantity="1",
        unit_price="1900.00",
    )
    _approve_send_accept(amendment.quote_id, world, on_day, date(2027, 3, 10))
    line = ContractLine.objects.get(version__contract=contract, version__number=2, key="A1.1")
    assert (line.sku, line.charge_kind, line.quantity, line.net_unit_price, line.sale_context) == (
        "EDGE",
        "one_time",
        D(1),
        D("1900.00"),
        "add_on",
    )
    assert (line.service_start, line.service_end, line.tax_category) == (
        date(2027, 3, 15),
        date(2028, 2, 1),
        "goods",
    )
    assert line.product_id is not None and line.document_sha256
