"""The contract pages: the contract page shows lines of any version, the timeline, the renewal
status and a redline; forms amend, cancel, negotiate and send; the public page signs; everything
typed by people is shown as text."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from q2c.contracts import services
from q2c.contracts.models import Amendment, Contract, Signature
from tests.contracts import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def rita_client(world):
    client = Client()
    client.force_login(world["rita"])
    return client


def test_the_contract_page_shows_lines_timeline_and_renewal_status(rita_client, contract, world, on_day):
    on_day(date(2027, 3, 15))
    services.amend(
        contract.pk,
        actor=world["rita"],
        lock_version=contract.lock_version,
        kind="add_quantity",
        effective_date="2027-03-15",
        sku="SEAT",
        quantity="10",
    )
    html = rita_client.get(f"/contracts/{contract.pk}/").content.decode()
    assert "CON-2027-000001" in html and 'data-line="A1.1"' in html
    assert "contracts.contract.amended" in html
    assert "expires at the end date" in html
    assert 'id="mrr">1530.00 EUR' in html
    earlier = rita_client.get(f"/contracts/{contract.pk}/?version=1").content.decode()
    assert 'data-line="A1.1"' not in earlier and "earlier version" in earlier
    red = rita_client.get(f"/contracts/{contract.pk}/?a=1&b=2").content.decode()
    assert '<div class="redline" id="redline">' in red and "<ins>" in red


def test_the_amend_form_applies_an_amendment_and_a_bad_one_says_why(rita_client, contract, on_day):
    on_day(date(2027, 3, 15))
    response = rita_client.post(
        f"/contracts/{contract.pk}/amend/",
        {
            "lock_version": contract.lock_version,
            "kind": "add_quantity",
            "effective_date": "2027-03-15",
            "sku": "SEAT",
            "quantity": "10",
        },
        follow=True,
    )
    assert "Amendment A1 applied" in response.content.decode()
    contract.refresh_from_db()
    response = rita_client.post(
        f"/contracts/{contract.pk}/amend/",
        {
            "lock_version": contract.lock_version,
            "kind": "remove_quantity",
            "effective_date": "2027-03-20",
            "sku": "SEAT",
            "quantity": "100",
        },
        follow=True,
    )
    assert "contracts.below_zero" in response.content.decode()
    assert Amendment.objects.count() == 1


def test_negotiating_shows_the_redline_and_html_stays_text(rita_client, world, on_day):
    on_day(date(2027, 1, 20))
    draft = services.create_contract(
        builders.new_contract(world["entity"], world["account"], owner_id=world["rita"].pk), actor="test"
    )
    response = rita_client.post(
        f"/contracts/{draft.pk}/negotiate/",
        {
            "lock_version": draft.lock_version,
            "clause-payment-terms": "Payable in 45 days <script>alert(1)</script>",
        },
        follow=True,
    )
    html = response.content.decode()
    assert "needs a sales manager" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_public_page_signs_the_sent_version(world, on_day):
    on_day(date(2027, 1, 20))
    draft = services.create_contract(
        builders.new_contract(world["entity"], world["account"], owner_id=world["rita"].pk), actor="test"
    )
    _, token = services.send_for_signature(draft.pk, actor=world["rita"], lock_version=draft.lock_version)
    client = Client()
    page = client.get(f"/contracts/sign/{token}/").content.decode()
    assert "Contract CON-2027-000001" in page and 'name="signer_name"' in page
    response = client.post(
        f"/contracts/sign/{token}/",
        {"signer_name": "Nora North", "agree": "on"},
        REMOTE_ADDR="192.0.2.10",
        HTTP_USER_AGENT="Safari",
    )
    assert "is signed" in response.content.decode()
    assert Contract.objects.get(pk=draft.pk).status == "active"
    assert Signature.objects.get().ip_address == "192.0.2.10"
    assert client.get(f"/contracts/sign/{token}x/").status_code == 403


def test_the_contracts_nav_entry_leads_to_the_list(rita_client, contract):
    home = rita_client.get("/").content.decode()
    assert 'href="/contracts/"' in home
    listing = rita_client.get("/contracts/?status=active").content.decode()
    assert "CON-2027-000001" in listing
