"""Amendments of a term whose renewal quote was accepted already are carried into the next term.

Worked by hand. C-1 of northwind.md with a 5 % renewal uplift: 50 SEAT at 25.50 a month over
[2027-02-01, 2028-02-01). The renewal quote is accepted on 2027-12-20, so the next term
CON-2027-000002 exists from then: 50 SEAT at 25.50 × 1.05 = 26.775 → 26.78 over
[2028-02-01, 2029-02-01), worth 12 × 50 × 26.78 = 16,068.00.

1. 2027-12-21, 10 more seats on C-1 (at its 25.50): the next term gets +10 SEAT at its own 26.78
   over its whole term: 10 × 26.78 × 12 = 3,213.60; its MRR 60 × 26.78 = 1,606.80.
2. 2027-12-22, 5 seats fewer at renewal: the next term loses 5 from its start:
   −5 × 26.78 × 12 = −1,606.80; MRR 55 × 26.78 = 1,472.90.
3. 2027-12-23, a new price of 24.00 for the 50 original seats from 2028-01-01 (through its quote):
   the next term runs those 50 at 24.00 × 1.05 = 25.20 and keeps the 5 add-on seats at 26.78:
   MRR 5 × 26.78 + 50 × 25.20 = 133.90 + 1,260.00 = 1,393.90; the carried change is
   12 × (50 × 25.20 − 50 × 26.78) = 12 × (1,260.00 − 1,339.00) = −948.00.
4. Extending C-1's term would overlap the next term: 409 ``contracts.next_term_exists``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from q2c.contracts import services
from q2c.contracts.errors import ContractConflict
from q2c.contracts.models import Amendment, Contract, ContractLine
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db


def _approve_send_accept(quote_id, world):
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalStep

    quote = quotes.submit_quote(quote_id, actor=world["rita"])
    for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    sent = quotes.send_quote(quote_id, actor=world["rita"])
    quotes.accept_quote(sent.token, signer_name="Nora North", signer_title="CFO", agree=True)


def _seats(contract, version):
    """(quantity, unit price) of every SEAT line of a version, reductions included."""
    return sorted(
        (x.quantity, x.net_unit_price)
        for x in ContractLine.objects.filter(version__contract=contract, version__number=version, sku="SEAT")
    )


def _c1_with_its_renewal_quote(world, on_day):
    """C-1 (5 % uplift) signed on 2027-01-20, with the renewal quote the daily job made on 2027-12-03."""
    on_day(date(2027, 1, 20))
    c1 = builders.active_contract(
        world["entity"], world["account"], renewal_uplift_percent=D(5), owner_id=world["rita"].pk
    )
    on_day(date(2027, 12, 3))
    services.run_daily(date(2027, 12, 3))
    c1.refresh_from_db()
    return c1


def test_amendments_after_the_accepted_renewal_are_carried_into_the_next_term(world, on_day):
    c1 = _c1_with_its_renewal_quote(world, on_day)
    on_day(date(2027, 12, 20))
    _approve_send_accept(c1.renewal_quote_id, world)
    nxt = Contract.objects.get(previous=c1)
    assert (nxt.number, nxt.start_date, nxt.end_date) == (
        "CON-2027-000002",
        date(2028, 2, 1),
        date(2029, 2, 1),
    )
    assert _seats(nxt, 1) == [(D(50), D("26.78"))]
    assert str(nxt.value.amount) == "16068.00"

    # 1. Ten more seats on this term.
    on_day(date(2027, 12, 21))
    c1.refresh_from_db()
    services.amend(
        c1.pk,
        actor=world["rita"],
        lock_version=c1.lock_version,
        kind="add_quantity",
        effective_date="2027-12-21",
        sku="SEAT",
        quantity="10",
    )
    nxt.refresh_from_db()
    carried = Amendment.objects.get(contract=nxt, number=1)
    assert (carried.kind, carried.status, carried.effective_date, carried.reason) == (
        "add_quantity",
        "applied",
        date(2028, 2, 1),
        "carried from CON-2027-000001/A1",
    )
    assert carried.request["carried_from"] == {
        "contract_id": c1.pk,
        "number": "CON-2027-000001",
        "amendment_number": 1,
    }
    line = ContractLine.objects.get(version__contract=nxt, version__number=2, key="A1.1")
    assert (line.sku, line.quantity, line.net_unit_price, line.service_start, line.service_end) == (
        "SEAT",
        D(10),
        D("26.78"),
        date(2028, 2, 1),
        date(2029, 2, 1),
    )
    assert str(carried.delta_value.amount) == "3213.60"
    assert (nxt.current_version, str(nxt.mrr.amount)) == (2, "1606.80")
    event = Event.objects.filter(type="contracts.contract.amended", aggregate_id=str(nxt.pk)).get()
    assert (event.payload["carried_from_contract_id"], event.payload["carried_from_amendment_number"]) == (
        c1.pk,
        1,
    )
    assert [(x["sku"], x["quantity"]) for x in event.payload["delta_lines"]] == [("SEAT", "10")]

    # 2. Five seats fewer at renewal (the product's default policy): the next term starts with 55.
    on_day(date(2027, 12, 22))
    c1.refresh_from_db()
    services.amend(
        c1.pk,
        actor=world["rita"],
        lock_version=c1.lock_version,
        kind="remove_quantity",
        effective_date="2027-12-22",
        sku="SEAT",
        quantity="5",
    )
    nxt.refresh_from_db()
    carried = Amendment.objects.get(contract=nxt, number=2)
    assert _seats(nxt, 3) == [(D(-5), D("26.78")), (D(10), D("26.78")), (D(50), D("26.78"))]
    reduction = ContractLine.objects.get(version__contract=nxt, version__number=3, key="A2.1")
    assert (reduction.service_start, reduction.adjusts) == (date(2028, 2, 1), "A1.1")  # newest first
    assert str(carried.delta_value.amount) == "-1606.80"
    assert str(nxt.mrr.amount) == "1472.90"

    # 3. A new price for the original 50 seats, through its quote.
    on_day(date(2027, 12, 23))
    c1.refresh_from_db()
    change = services.amend(
        c1.pk,
        actor=world["rita"],
        lock_version=c1.lock_version,
        kind="change_price",
        effective_date="2028-01-01",
        line_key="1",
        unit_price="24.00",
    )
    _approve_send_accept(change.quote_id, world)
    nxt.refresh_from_db()
    carried = Amendment.objects.get(contract=nxt, number=3)
    assert carried.kind == "change_price"
    assert str(nxt.mrr.amount) == "1393.90"
    assert str(carried.delta_value.amount) == "-948.00"
    running = {}
    for x in ContractLine.objects.filter(version__contract=nxt, version__number=4, sku="SEAT"):
        running[x.net_unit_price] = running.get(x.net_unit_price, D(0)) + x.quantity
    assert running == {D("26.78"): D(5), D("25.20"): D(50)}
    # Every version of the next term stays readable.
    assert [_seats(nxt, n) for n in (1, 2)] == [
        [(D(50), D("26.78"))],
        [(D(10), D("26.78")), (D(50), D("26.78"))],
    ]

    # 4. The term cannot be extended into the next one.
    c1.refresh_from_db()
    before = (c1.lock_version, c1.current_version)
    with pytest.raises(ContractConflict) as err:
        services.amend(
            c1.pk,
            actor=world["rita"],
            lock_version=c1.lock_version,
            kind="extend_term",
            effective_date="2027-12-23",
            new_end_date="2028-08-01",
        )
    assert (err.value.status, err.value.code) == (409, "contracts.next_term_exists")
    assert "CON-2027-000002" in err.value.message
    c1.refresh_from_db()
    assert (c1.lock_version, c1.current_version) == before


def test_cancelling_a_term_whose_renewal_was_accepted_cancels_the_next_term_from_its_start(world, on_day):
    """C-1 (50 SEAT at 25.50 to 2028-02-01) with its renewal accepted on 2027-12-20: on 2027-12-21
    the customer gives notice for the end of the term. The next term CON-2027-000002 never
    starts: it is cancelled from 2028-02-01 in the same transaction, its cancellation stopping all
    50 seats over its whole term (−50 × 26.78 × 12 = −16,068.00), and the end-of-term job renews
    nothing."""
    c1 = _c1_with_its_renewal_quote(world, on_day)
    on_day(date(2027, 12, 20))
    _approve_send_accept(c1.renewal_quote_id, world)
    nxt = Contract.objects.get(previous=c1)
    assert nxt.status == "active"  # signed by the acceptance of the renewal quote
    on_day(date(2027, 12, 21))
    c1.refresh_from_db()
    cancel = services.cancel(
        c1.pk, actor=world["rita"], lock_version=c1.lock_version, effective_date=date(2028, 2, 1),
        reason="moving to another provider",
    )  # fmt: skip
    nxt.refresh_from_db()
    assert (nxt.status, nxt.cancel_effective_date) == ("cancelled", date(2028, 2, 1))
    carried = Amendment.objects.get(contract=nxt, kind="cancel")
    assert carried.reason == f"carried from CON-2027-000001/A{cancel.number}: moving to another provider"
    assert carried.request["carried_from"]["contract_id"] == c1.pk
    assert str(carried.delta_value.amount) == "-16068.00"
    event = Event.objects.filter(type="contracts.contract.cancelled", aggregate_id=str(nxt.pk)).get()
    assert (event.payload["carried_from_contract_id"], event.payload["from_status"]) == (c1.pk, "active")
    on_day(date(2028, 2, 1))
    services.run_daily(date(2028, 2, 1))
    c1.refresh_from_db()
    nxt.refresh_from_db()
    assert (c1.status, nxt.status) == ("cancelled", "cancelled")


def test_an_open_renewal_quote_follows_the_amendments_of_the_term(world, on_day):
    """The renewal quote of C-1 (made 2027-12-03: 50 SEAT at the uplifted 26.78) is sent but not
    accepted. 2027-12-10, ten more seats on C-1 (at 25.50 → 26.78 uplifted, the same price): the
    quote's SEAT line becomes 60 at 26.78 and, the quote having been sent, it is back in draft to
    be sent again (its MRR 60 × 26.78 = 1,606.80). 2027-12-11, five fewer at renewal: 55."""
    from q2c.quotes import services as quotes
    from q2c.quotes.models import Quote

    c1 = _c1_with_its_renewal_quote(world, on_day)
    quote_id = c1.renewal_quote_id
    quotes.submit_quote(quote_id, actor=world["rita"])
    from q2c.quotes.models import ApprovalStep

    for step in ApprovalStep.objects.filter(request__quote_id=quote_id, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    quotes.send_quote(quote_id, actor=world["rita"])
    assert Quote.objects.get(pk=quote_id).status == "sent"

    on_day(date(2027, 12, 10))
    c1.refresh_from_db()
    services.amend(c1.pk, actor=world["rita"], lock_version=c1.lock_version, kind="add_quantity",
                   effective_date="2027-12-10", sku="SEAT", quantity="10")  # fmt: skip
    quote = Quote.objects.get(pk=quote_id)
    assert quote.status == "draft"
    assert [(x.sku, x.quantity, x.discount_value) for x in quote.lines.all()] == [
        ("SEAT", D(60), D("26.78")),
        ("API", None, None),  # the usage rate renews as it is
    ]
    assert str(quote.mrr.amount) == "1606.80"
    event = Event.objects.get(type="contracts.contract.renewal_quote_refreshed", aggregate_id=str(c1.pk))
    assert (event.payload["from_status"], event.payload["status"], event.payload["amendment_number"]) == (
        "sent",
        "draft",
        1,
    )

    on_day(date(2027, 12, 11))
    c1.refresh_from_db()
    services.amend(c1.pk, actor=world["rita"], lock_version=c1.lock_version, kind="remove_quantity",
                   effective_date="2027-12-11", sku="SEAT", quantity="5")  # fmt: skip
    quote = Quote.objects.get(pk=quote_id)
    assert [(x.sku, x.quantity) for x in quote.lines.all()] == [("SEAT", D(55)), ("API", None)]
