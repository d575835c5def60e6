"""Several proposed amendments on one contract at once. Each amendment quote is priced on the
contract's current version; applying one makes the others stale. A stale proposal whose quote the
current version still gives the same lines and end applies on acceptance (re-based on the way);
one whose quote no longer holds is refused at acceptance with 409 ``contracts.amendment_stale``
naming the amendment in the way, nothing changed, and is re-based onto a new quote.

C-1 of northwind.md: 50 SEAT at 25.50 a month over [2027-02-01, 2028-02-01), billed from the 1st.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal as D

import pytest

from q2c.contracts import services
from q2c.contracts.errors import ContractConflict
from q2c.contracts.models import Amendment, Contract, ContractLine
from q2c.platform.models import Event
from tests.contracts import builders

pytestmark = pytest.mark.django_db

BASE = "/api/v1/contracts"


def _send(quote_id, world):
    from q2c.quotes import services as quotes
    from q2c.quotes.models import ApprovalStep

    quote = quotes.submit_quote(quote_id, actor=world["rita"])
    for step in ApprovalStep.objects.filter(request__quote_id=quote.pk, status="pending"):
        quotes.decide(step.pk, actor=world["max"], decision="approve")
    return quotes.send_quote(quote_id, actor=world["rita"])


def _accept(sent):
    from q2c.quotes import services as quotes

    quotes.accept_quote(sent.token, signer_name="Nora North", signer_title="CFO", agree=True)


def _price_change(world, contract, price="24.00"):
    contract.refresh_from_db()
    return services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="change_price",
        effective_date="2027-08-01",
        line_key="1",
        unit_price=price,
    )


def test_two_proposals_wait_at_once_and_an_independent_one_applies_after_the_other(world, contract, on_day):
    on_day(date(2027, 7, 20))
    a1 = _price_change(world, contract)
    contract.refresh_from_db()
    a2 = services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_product",
        effective_date="2027-08-01",
        sku="EDGE",
        quantity="1",
        unit_price="1900.00",
    )
    assert (a1.status, a2.status, a1.based_on_version, a2.based_on_version) == ("proposed", "proposed", 1, 1)
    sent1, sent2 = _send(a1.quote_id, world), _send(a2.quote_id, world)
    on_day(date(2027, 7, 25))
    _accept(sent2)  # A2 first: version 2; A1 is now stale
    contract.refresh_from_db()
    a1.refresh_from_db()
    assert (contract.current_version, a1.status, a1.based_on_version) == (2, "proposed", 1)
    # A2 added an EDGE line only: A1's quote (50 SEAT at 24.00 to 2028-02-01) still holds.
    _accept(sent1)
    a1.refresh_from_db()
    contract.refresh_from_db()
    assert (a1.status, a1.based_on_version, a1.request["proposed_on_version"]) == ("applied", 2, 1)
    assert contract.current_version == 3
    keys = list(
        ContractLine.objects.filter(version__contract=contract, version__number=3)
        .order_by("position")
        .values_list("key", "sku", "quantity")
    )
    assert ("A2.1", "EDGE", D(1)) in keys
    assert ("A1.1", "SEAT", D(-50)) in keys and ("A1.2", "SEAT", D(50)) in keys
    # Aug 2027–Jan 2028: 6 × 50 × (24.00 − 25.50) = −450.00; MRR 50 × 24.00 = 1,200.00.
    assert str(a1.delta_value.amount) == "-450.00"
    assert str(contract.mrr.amount) == "1200.00"
    amended = Event.objects.filter(type="contracts.contract.amended").order_by("seq")
    assert [(e.payload["amendment_number"], e.payload["previous_version"]) for e in amended] == [
        (2, 1),
        (1, 2),
    ]


def test_a_proposal_an_extension_overtook_is_refused_at_acceptance_then_rebased(world, contract, on_day):
    from q2c.quotes.models import Quote

    on_day(date(2027, 7, 20))
    a1 = _price_change(world, contract)
    sent = _send(a1.quote_id, world)
    on_day(date(2027, 7, 21))
    contract.refresh_from_db()
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="extend_term",
        effective_date="2027-07-21",
        new_end_date="2028-08-01",
    )
    contract.refresh_from_db()
    before = (contract.current_version, contract.lock_version, Event.objects.count())
    on_day(date(2027, 7, 25))
    with pytest.raises(ContractConflict) as err:
        _accept(sent)
    assert (err.value.status, err.value.code) == (409, "contracts.amendment_stale")
    assert "CON-2027-000001/A2 (extend term, version 2)" in err.value.message
    assert "re-base" in err.value.message
    contract.refresh_from_db()
    a1.refresh_from_db()
    assert (contract.current_version, contract.lock_version, Event.objects.count()) == before
    assert a1.status == "proposed"
    assert Quote.objects.get(pk=a1.quote_id).status != "accepted"

    old_quote = a1.quote_id
    a1 = services.rebase_amendment(contract.pk, 1, actor=world["rita"], lock_version=contract.lock_version)
    assert (a1.status, a1.based_on_version, a1.request["rebased_from_version"]) == ("proposed", 2, 1)
    assert a1.quote_id != old_quote
    assert Quote.objects.get(pk=old_quote).status == "withdrawn"
    new_quote = Quote.objects.get(pk=a1.quote_id)
    # Aug 2027 to the new end 2028-08-01: twelve months, 50 seats at 24.00.
    assert (new_quote.start_date, new_quote.term_months) == (date(2027, 8, 1), 12)
    priced = new_quote.pricing["lines"][0]
    assert (priced["sku"], priced["quantity"], priced["net_unit_price"]) == ("SEAT", "50", "24.00")
    rebased = Event.objects.get(type="contracts.amendment.rebased")
    assert (rebased.payload["from_version"], rebased.payload["version"], rebased.payload["old_quote_id"]) == (
        1,
        2,
        old_quote,
    )

    _accept(_send(a1.quote_id, world))
    a1.refresh_from_db()
    contract.refresh_from_db()
    assert (a1.status, contract.current_version) == ("applied", 3)
    off = ContractLine.objects.get(version__contract=contract, version__number=3, key="A1.1")
    assert (off.quantity, off.service_start, off.service_end) == (D(-50), date(2027, 8, 1), date(2028, 8, 1))
    # Twelve months × 50 × (24.00 − 25.50) = −900.00.
    assert str(a1.delta_value.amount) == "-900.00"


def test_a_proposal_a_reduction_of_its_line_overtook_is_refused_naming_it(world, contract, on_day):
    from q2c.catalog.models import Product

    services.set_product_policy(
        Product.objects.get(sku="SEAT").pk, reduction="immediate_with_credit", actor="test"
    )
    on_day(date(2027, 7, 20))
    a1 = _price_change(world, contract)
    sent = _send(a1.quote_id, world)
    contract.refresh_from_db()
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="remove_quantity",
        effective_date="2027-07-20",
        line_key="1",
        quantity="10",
    )
    on_day(date(2027, 7, 25))
    with pytest.raises(ContractConflict) as err:
        _accept(sent)  # its quote re-prices 50 seats; 40 remain
    assert err.value.code == "contracts.amendment_stale"
    assert "CON-2027-000001/A2 (remove quantity, version 2)" in err.value.message
    contract.refresh_from_db()
    a1 = services.rebase_amendment(contract.pk, 1, actor=world["rita"], lock_version=contract.lock_version)
    from q2c.quotes.models import Quote

    assert Quote.objects.get(pk=a1.quote_id).pricing["lines"][0]["quantity"] == "40"


def test_the_api_shows_a_stale_proposal_and_rebases_it_for_its_owner_only(world, contract, on_day, api_as):
    on_day(date(2027, 7, 20))
    _price_change(world, contract)
    contract.refresh_from_db()
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="extend_term",
        effective_date="2027-07-20",
        new_end_date="2028-08-01",
    )
    contract.refresh_from_db()
    rita = api_as(None, user=world["rita"])
    body = rita.get(f"{BASE}/contracts/{contract.pk}/amendments/1").json()
    assert (body["status"], body["stale"], body["based_on_version"]) == ("proposed", True, 1)
    olga = api_as(None, user=builders.user("olga", "sales_rep"))
    path = f"{BASE}/contracts/{contract.pk}/amendments/1/rebase"
    body_in = json.dumps({"lock_version": contract.lock_version})
    assert olga.post(path, data=body_in, content_type="application/json").status_code == 404
    stale = rita.post(path, data=json.dumps({"lock_version": 1}), content_type="application/json")
    assert (stale.status_code, stale.json()["code"]) == (409, "contracts.stale")
    response = rita.post(path, data=body_in, content_type="application/json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["stale"], body["based_on_version"]) == (False, 2)
    applied = rita.post(
        f"{BASE}/contracts/{contract.pk}/amendments/2/rebase",
        data=json.dumps({"lock_version": Contract.objects.get(pk=contract.pk).lock_version}),
        content_type="application/json",
    )
    assert (applied.status_code, applied.json()["code"]) == (409, "contracts.not_proposed")
    assert Amendment.objects.get(contract=contract, number=1).status == "proposed"


def test_the_contract_page_marks_a_stale_proposal_and_rebases_it(world, contract, on_day):
    from django.test import Client

    on_day(date(2027, 7, 20))
    a1 = _price_change(world, contract)
    contract.refresh_from_db()
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="extend_term",
        effective_date="2027-07-20",
        new_end_date="2028-08-01",
    )
    contract.refresh_from_db()
    client = Client()
    client.force_login(world["rita"])
    html = client.get(f"/contracts/{contract.pk}/").content.decode()
    assert 'data-stale="1"' in html and "stale: priced on v1" in html and "Re-base on v2" in html
    response = client.post(
        f"/contracts/{contract.pk}/amendments/1/rebase/", {"lock_version": contract.lock_version}, follow=True
    )
    html = response.content.decode()
    a1.refresh_from_db()
    assert (a1.based_on_version, a1.status) == (2, "proposed")
    assert f"quote {a1.quote_number} replaces the old one" in html
    assert 'data-stale="1"' not in html
