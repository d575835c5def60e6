"""The customer portal shows the reminders sent for the customer's open invoices (issue 15, item 4)
and lets the customer pay them; a paid invoice's reminders leave the portal, another customer's
reminders never appear, and a tampered link still opens nothing.

Figures by hand: Northwind's invoice of 2027-03-01 is 1,275.00 + 19 % VAT = 1,517.25 EUR, due
2027-03-31 (30 days). The policy's steps are at +7 and +21 days; on 2027-05-30 the invoice is 60
days overdue, so only the second reminder is carried out (the first is logged as skipped and never
sent late). Fabrikam's 3,000.00 invoice (reverse charge) falls due 2027-05-20 and is 10 days
overdue: its first reminder is Fabrikam's, not Northwind's.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from q2c.payments import portal
from q2c.payments.dunning import services as dunning
from q2c.payments.dunning.models import DunningEntry
from tests.billing.world import FABRIKAM, at, customer, seller
from tests.payments.test_dunning_api import issue_on

pytestmark = pytest.mark.django_db

STEPS = [
    {"key": "reminder", "offset_days": 7, "action": "reminder"},
    {"key": "second", "offset_days": 21, "action": "second_reminder"},
]


@pytest.fixture(autouse=True)
def _immediate_tasks(settings: Any) -> None:
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def world():
    sim = at(date(2027, 3, 1))
    acme = seller()
    northwind = customer(acme)
    fabrikam = customer(acme, FABRIKAM)
    inv = issue_on(sim, northwind, date(2027, 3, 1), "1275.00")
    other = issue_on(sim, fabrikam, date(2027, 4, 20), "3000.00")
    sim.set(date(2027, 5, 30))
    dunning.save_policy(acme.pk, "default", name="Standard", steps=STEPS)
    dunning.run_day(date(2027, 5, 30))
    return sim, northwind, fabrikam, inv, other


def _reminders_table(html: str) -> str:
    start = html.index('<table id="reminders">')
    return html[start : html.index("</table>", start)]


def test_the_portal_shows_the_reminder_sent_for_an_open_invoice(world):
    _, northwind, _, inv, other = world
    assert sorted(DunningEntry.objects.filter(account_id=northwind.pk).values_list("step_key", "status")) == [
        ("reminder", "skipped"), ("second", "done"),
    ]  # fmt: skip
    page = Client().get(f"/payments/portal/{portal.link_token(northwind.pk)}/")
    assert page.status_code == 200
    table = _reminders_table(page.content.decode())
    assert table.count("<tr><td>") == 1  # the skipped first reminder was never sent: not shown
    assert (
        f'<tr><td>2027-05-30</td><td>{inv.number}</td><td>Second reminder</td><td class="num">1517.25 EUR</td></tr>'
        in table
    )
    assert other.number not in table  # Fabrikam's reminder is Fabrikam's


def test_the_other_customer_sees_only_their_own_reminder(world):
    _, _, fabrikam, inv, other = world
    table = _reminders_table(
        Client().get(f"/payments/portal/{portal.link_token(fabrikam.pk)}/").content.decode()
    )
    assert (
        f'<td>2027-05-30</td><td>{other.number}</td><td>Reminder</td><td class="num">3000.00 EUR</td>'
        in table
    )
    assert inv.number not in table


def test_paying_in_the_portal_clears_the_reminder(world):
    _, northwind, _, inv, _ = world
    token = portal.link_token(northwind.pk)
    paid = Client().post(
        f"/payments/portal/{token}/pay/", {"invoice": [inv.pk], "card_number": "4242424242424242"}
    )
    assert paid.status_code == 200, paid.content
    html = paid.content.decode()
    assert "Thank you: 1517.25 EUR paid" in html
    assert 'id="reminders"' not in html  # nothing open is left to remind of
    inv.refresh_from_db()
    assert inv.status == "paid"


def test_a_customer_without_reminders_sees_no_section(world):
    _, northwind, _, _, _ = world
    DunningEntry.objects.filter(account_id=northwind.pk).delete()
    assert (
        'id="reminders"'
        not in Client().get(f"/payments/portal/{portal.link_token(northwind.pk)}/").content.decode()
    )


def test_a_tampered_link_still_opens_nothing(world):
    _, northwind, _, inv, _ = world
    token = portal.link_token(northwind.pk)
    payload_changed = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    for bad in (f"{token[:-2]}xx", payload_changed, "<script>"):
        answer = Client().get(f"/payments/portal/{bad}/")
        assert answer.status_code == 404, bad
        assert inv.number not in answer.content.decode()
