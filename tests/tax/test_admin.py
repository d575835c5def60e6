"""Admin editing of tax data: the forms run the same checks as the CSV import, and each edit is
saved in one transaction with a tax.data_edited event."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

from q2c.platform.models import Event
from q2c.tax.models import TaxRate, TaxRule

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    user = User.objects.create_superuser("tax-admin")
    client = Client()
    client.force_login(user)
    return client


def rate_form(**changes: str) -> dict[str, str]:
    return {
        "jurisdiction": "CH",
        "kind": "standard",
        "rate": "8.1",
        "valid_from": "2024-01-01",
        "valid_to": "",
        "category": "",
        "source": "ESTV",
        **changes,
    }


def test_an_admin_adds_a_rate_and_the_edit_is_recorded(admin_client):
    response = admin_client.post("/admin/tax/taxrate/add/", rate_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    assert str(TaxRate.objects.get(jurisdiction="CH").rate) == "8.1"
    event = Event.objects.get(type="tax.data_edited")
    assert (event.payload["table"], event.payload["change"], event.actor) == (
        "tax_rate",
        "created",
        "tax-admin",
    )


def test_the_admin_refuses_an_overlapping_or_impossible_rate(admin_client):
    # DE standard 19 % is in force from 2021-01-01 with no end: another from 2027 overlaps.
    response = admin_client.post(
        "/admin/tax/taxrate/add/", rate_form(jurisdiction="DE", rate="20", valid_from="2027-01-01")
    )
    assert response.status_code == 200
    assert "overlaps" in response.content.decode()
    response = admin_client.post("/admin/tax/taxrate/add/", rate_form(rate="120"))
    assert "is not a percentage in [0, 100)" in response.content.decode()
    response = admin_client.post("/admin/tax/taxrate/add/", rate_form(jurisdiction="XX"))
    assert "is not a country" in response.content.decode()
    assert not Event.objects.filter(type="tax.data_edited").exists()


def test_the_admin_refuses_a_rule_that_makes_no_sense(admin_client):
    form = {
        "seller": "EU",
        "buyer": "eu",
        "customer_kind": "business",
        "tax_category": "*",
        "supply_type": "services",
        "treatment": "intra_community",
        "valid_from": "2030-01-01",
        "valid_to": "",
        "mention": "",
        "reason_code": "",
        "legal_basis": "",
    }
    response = admin_client.post("/admin/tax/taxrule/add/", form)
    assert response.status_code == 200
    assert "intra-Community supply is a supply of goods" in response.content.decode()
    assert TaxRule.objects.count() == 25


def test_an_admin_deletes_a_rate_and_the_deletion_is_recorded(admin_client):
    row = TaxRate.objects.get(jurisdiction="US-OR")
    response = admin_client.post(f"/admin/tax/taxrate/{row.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not TaxRate.objects.filter(jurisdiction="US-OR").exists()
    assert Event.objects.get(type="tax.data_edited").payload["change"] == "deleted"
