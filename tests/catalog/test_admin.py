"""The catalog's Django admin: every page opens for an administrator, a tier table with a gap and
a rule closing a cycle are refused with the engine's own messages, and changes reprice at once."""

from __future__ import annotations

import pytest
from django.test import Client

from q2c.catalog import models as m
from q2c.catalog import services
from q2c.catalog.admin import RuleForm, TierFormSet

pytestmark = pytest.mark.django_db

MODELS = [
    "unitofmeasure",
    "product",
    "charge",
    "pricebook",
    "priceentry",
    "contractedprice",
    "discountschedule",
    "promotion",
    "optiongroup",
    "configurationrule",
    "manualdiscountlimit",
]


@pytest.fixture
def admin_client(make_user, northwind_catalog):
    client = Client()
    client.force_login(make_user("admin", "cat_admin"))
    return client


@pytest.mark.parametrize("model", MODELS)
def test_every_catalog_admin_page_opens(admin_client, model):
    assert admin_client.get(f"/admin/catalog/{model}/").status_code == 200
    assert admin_client.get(f"/admin/catalog/{model}/add/").status_code == 200


def test_a_price_entry_page_shows_its_tiers(admin_client):
    entry = m.PriceEntry.objects.get(charge__product__sku="API")
    page = admin_client.get(f"/admin/catalog/priceentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert "1000000" in page.content.decode()


def _tier_formset(entry, rows):
    data = {
        "tiers-TOTAL_FORMS": str(len(rows)),
        "tiers-INITIAL_FORMS": "0",
        "tiers-MIN_NUM_FORMS": "0",
        "tiers-MAX_NUM_FORMS": "1000",
    }
    for i, (lower, upper, price) in enumerate(rows):
        data.update(
            {
                f"tiers-{i}-position": str(i),
                f"tiers-{i}-lower": lower,
                f"tiers-{i}-upper": upper,
                f"tiers-{i}-unit_price": price,
                f"tiers-{i}-flat_fee": "0",
            }
        )
    from django.forms import inlineformset_factory

    from q2c.catalog.admin import DecimalTextFormField
    from q2c.platform.fields import DecimalTextField

    formset_class = inlineformset_factory(
        m.PriceEntry,
        m.PriceTier,
        formset=TierFormSet,
        fields=["position", "lower", "upper", "unit_price", "flat_fee"],
        formfield_callback=lambda f, **kw: (
            DecimalTextFormField(required=not f.null)
            if isinstance(f, DecimalTextField)
            else f.formfield(**kw)
        ),
    )
    return formset_class(data, instance=entry, prefix="tiers")


def test_the_admin_refuses_a_tier_table_with_a_gap():
    services.create_product({"sku": "GB", "name": "Storage", "type": "usage", "unit": "gb"})
    services.create_charge(
        {"sku": "GB", "code": "USE", "kind": "usage", "usage_metric": "gb", "usage_aggregation": "max"}
    )
    services.create_price_book({"code": "B", "name": "B", "currency": "EUR"})
    entry = services.create_price_entry(
        {
            "price_book": "B",
            "sku": "GB",
            "charge": "USE",
            "model": "tiered",
            "tiers": [{"lower": "0", "unit_price": "1"}],
        }
    )
    bad = _tier_formset(entry, [("0", "100", "1"), ("150", "", "0.5")])
    assert not bad.is_valid()
    assert "tier 2 starts at 150, leaving a gap: tier 1 ends at 100" in bad.non_form_errors()[0]
    good = _tier_formset(entry, [("0", "100", "1"), ("100", "", "0.5")])
    assert good.is_valid(), good.errors


def test_the_admin_refuses_a_rule_that_closes_a_cycle(northwind_catalog):
    services.create_rule(
        {"code": "SEAT-ONB", "name": "x", "kind": "requires", "source": "SEAT", "target": "ONB"}
    )
    ids = {p.sku: p.pk for p in m.Product.objects.all()}
    form = RuleForm(
        data={
            "code": "ONB-SEAT",
            "name": "y",
            "kind": "requires",
            "source": ids["ONB"],
            "target": ids["SEAT"],
            "per_quantity": "1",
            "target_quantity": "1",
            "operator": "eq",
            "action": "requires",
            "is_active": "on",
        }
    )
    assert not form.is_valid()
    assert "form a cycle" in form.non_field_errors()[0]


def test_an_admin_change_renews_the_catalog_revision_and_is_recorded(admin_client):
    from q2c.catalog.services.common import revision
    from q2c.platform.models import Event

    before = revision()
    unit = m.UnitOfMeasure.objects.get(code="each")
    response = admin_client.post(
        f"/admin/catalog/unitofmeasure/{unit.pk}/change/", {"code": "each", "name": "Each piece"}
    )
    assert response.status_code == 302
    assert revision() != before  # cached pricing snapshots keyed by the old token are not used again
    assert Event.objects.filter(type="catalog.admin_changed", aggregate_id=str(unit.pk)).exists()
