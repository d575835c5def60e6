"""Pages of parties: account list (search, filter, sort, pages), detail, forms, escaping, admin."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils.html import format_html

from q2c.parties import services
from q2c.parties.models import Account
from q2c.platform import ui

pytestmark = pytest.mark.django_db

EVIL = '<script>alert("x")</script> & Co'
EVIL_ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co"


@pytest.fixture
def page_as(make_user):
    def make(role, username=None):
        client = Client()
        client.force_login(make_user(role, username))
        return client

    return make


def names_in(html: str) -> list[str]:
    return re.findall(r'<td><a href="/parties/accounts/\d+/">([^<]*)</a></td>', html)


class TestAccountList:
    @pytest.fixture
    def customers(self, acme):
        rows = [
            ("Northwind Handels GmbH", "DE", "business", "Hamburg"),
            ("Fabrikam SARL", "FR", "business", "Lyon"),
            ("Contoso AG", "DE", "business", "Berlin"),
            ("Erika Mustermann", "DE", "consumer", "Köln"),
        ]
        for name, country, kind, city in rows:
            services.create_account(name=name, country=country, kind=kind, billing_city=city)

    def test_the_list_shows_every_account_sorted_by_name(self, customers, page_as):
        html = page_as("viewer").get("/parties/accounts/").content.decode()
        assert names_in(html) == ["Contoso AG", "Erika Mustermann", "Fabrikam SARL", "Northwind Handels GmbH"]
        assert "4 accounts" in html

    def test_search_filter_and_sort_narrow_and_order_the_list(self, customers, page_as):
        client = page_as("viewer")
        assert names_in(client.get("/parties/accounts/", {"q": "lyon"}).content.decode()) == ["Fabrikam SARL"]
        assert names_in(client.get("/parties/accounts/", {"kind": "consumer"}).content.decode()) == [
            "Erika Mustermann"
        ]
        assert names_in(client.get("/parties/accounts/", {"country": "FR"}).content.decode()) == [
            "Fabrikam SARL"
        ]
        assert (
            names_in(client.get("/parties/accounts/", {"sort": "-name"}).content.decode())[0]
            == "Northwind Handels GmbH"
        )

    def test_the_list_is_paged_by_25(self, acme, page_as):
        for i in range(30):
            services.create_account(name=f"Customer {i:02d}", country="DE")
        client = page_as("viewer")
        first = client.get("/parties/accounts/").content.decode()
        assert len(names_in(first)) == 25
        assert "Page 1 of 2" in first and 'rel="next"' in first
        second = client.get("/parties/accounts/", {"page": 2}).content.decode()
        assert names_in(second) == [f"Customer {i:02d}" for i in range(25, 30)]

    def test_hand_edited_parameters_fall_back_to_defaults(self, customers, page_as):
        response = page_as("viewer").get(
            "/parties/accounts/", {"sort": "password", "kind": "x", "page": "abc"}
        )
        assert response.status_code == 200
        assert len(names_in(response.content.decode())) == 4

    def test_a_viewer_sees_no_new_account_button_and_a_rep_does(self, acme, page_as):
        assert "New account" not in page_as("viewer").get("/parties/accounts/").content.decode()
        assert "New account" in page_as("sales_rep").get("/parties/accounts/").content.decode()


class TestAccountForms:
    def test_a_rep_creates_an_account_through_the_form(self, acme, page_as):
        client = page_as("sales_rep")
        form = client.get("/parties/accounts/new/").content.decode()
        # Every input has a label pointing at it.
        for field_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="(id_[a-z_0-9]+)"', form):
            assert f'for="{field_id}"' in form, field_id
        assert 'name="csrfmiddlewaretoken"' in form
        response = client.post(
            "/parties/accounts/new/",
            {
                "entity": acme.pk,
                "name": "Northwind Handels GmbH",
                "kind": "business",
                "country": "DE",
                "currency": "EUR",
                "tax_id": "DE 812 651 301",
                "locale": "de-DE",
                "billing_city": "Hamburg",
            },
        )
        account = Account.objects.get()
        assert response.status_code == 302
        assert response["Location"] == f"/parties/accounts/{account.pk}/"
        assert account.tax_id == "DE812651301"

    def test_an_invalid_tax_id_shows_next_to_its_field_and_writes_nothing(self, acme, page_as):
        response = page_as("sales_rep").post(
            "/parties/accounts/new/",
            {
                "entity": acme.pk,
                "name": "Northwind",
                "kind": "business",
                "country": "DE",
                "currency": "EUR",
                "tax_id": "DE812651300",
                "locale": "en",
            },
        )
        html = response.content.decode()
        assert response.status_code == 422
        assert 'id="id_tax_id_error"' in html and "check digits are wrong" in html
        assert 'aria-invalid="true"' in html
        assert Account.objects.count() == 0

    def test_the_form_refuses_a_post_without_a_csrf_token(self, acme, make_user):
        client = Client(enforce_csrf_checks=True)
        client.force_login(make_user("sales_rep"))
        response = client.post("/parties/accounts/new/", {"name": "Northwind", "country": "DE"})
        assert response.status_code == 403
        assert Account.objects.count() == 0

    def test_an_edit_changes_the_account(self, northwind, page_as):
        client = page_as("finance")
        data = {
            k: v
            for k, v in client.get(f"/parties/accounts/{northwind.pk}/edit/").context["form"].initial.items()
            if v is not None
        }
        data.update(billing_city="Bremen")
        response = client.post(f"/parties/accounts/{northwind.pk}/edit/", data)
        assert response.status_code == 302, response.content
        assert Account.objects.get().billing_city == "Bremen"

    def test_a_viewer_may_not_open_the_form(self, acme, page_as):
        response = page_as("viewer").get("/parties/accounts/new/")
        assert response.status_code == 403
        assert "auth.forbidden" in response.content.decode()

    def test_a_contact_is_added_from_the_account_page(self, northwind, page_as):
        client = page_as("sales_rep")
        response = client.post(
            f"/parties/accounts/{northwind.pk}/contacts/new/", {"name": "Nora Nordmann", "is_primary": "on"}
        )
        assert response.status_code == 302
        assert "Nora Nordmann" in client.get(f"/parties/accounts/{northwind.pk}/").content.decode()


class TestEscaping:
    def test_html_in_names_is_escaped_on_every_page_that_shows_it(self, acme, make_user, page_as):
        account = services.create_account(name=EVIL, country="DE", billing_city=EVIL)
        services.create_contact(account.pk, name=EVIL, title=EVIL)
        admin = page_as("admin")
        pages = [
            "/parties/accounts/",
            f"/parties/accounts/{account.pk}/",
            f"/parties/accounts/{account.pk}/edit/",
            f"/parties/accounts/{account.pk}/contacts/new/",
            "/admin/parties/account/",
            f"/admin/parties/account/{account.pk}/change/",
            "/admin/parties/contact/",
        ]
        for url in pages:
            html = admin.get(url).content.decode()
            assert "<script>alert" not in html, url
            assert EVIL_ESCAPED in html or "&lt;script&gt;" in html, url

    def test_a_search_term_with_html_is_echoed_escaped(self, acme, page_as):
        html = page_as("viewer").get("/parties/accounts/", {"q": '"><script>x</script>'}).content.decode()
        assert "<script>x" not in html
        assert "&quot;&gt;&lt;script&gt;x&lt;/script&gt;" in html


class TestPanels:
    def test_a_later_app_adds_a_panel_to_the_account_page_without_being_imported(self, northwind, page_as):
        def win_probability(request, context):
            return format_html(
                '<section class="card" id="winprob">Win probability for {}: 42 %</section>',
                context["account"].name,
            )

        ui.add_panel("parties.account_detail", win_probability)
        try:
            html = page_as("viewer").get(f"/parties/accounts/{northwind.pk}/").content.decode()
        finally:
            ui.remove_panel("parties.account_detail", win_probability)
        assert (
            '<section class="card" id="winprob">Win probability for Northwind Handels GmbH: 42 %</section>'
            in html
        )
        assert 'data-slot="parties.account_detail"' in html

    def test_a_panel_returning_plain_text_is_escaped(self, northwind, page_as):
        def careless(request, context):
            return "<b>not bold</b>"

        ui.add_panel("parties.account_detail", careless)
        try:
            html = page_as("viewer").get(f"/parties/accounts/{northwind.pk}/").content.decode()
        finally:
            ui.remove_panel("parties.account_detail", careless)
        assert "&lt;b&gt;not bold&lt;/b&gt;" in html

    def test_a_failing_panel_does_not_take_the_page_down(self, northwind, page_as):
        def broken(request, context):
            raise RuntimeError("boom")

        ui.add_panel("parties.account_detail", broken)
        try:
            response = page_as("viewer").get(f"/parties/accounts/{northwind.pk}/")
        finally:
            ui.remove_panel("parties.account_detail", broken)
        assert response.status_code == 200
        assert "This panel could not be shown." in response.content.decode()


class TestAdmin:
    def test_the_admin_saves_through_the_services_and_shows_their_errors(self, acme, page_as):
        admin = page_as("admin")
        data = {
            "entity": acme.pk,
            "name": "Northwind",
            "kind": "business",
            "currency": "EUR",
            "country": "DE",
            "tax_id": "DE812651300",
            "locale": "en",
            "contacts-TOTAL_FORMS": "0",
            "contacts-INITIAL_FORMS": "0",
            "contacts-MIN_NUM_FORMS": "0",
            "contacts-MAX_NUM_FORMS": "1000",
        }
        response = admin.post("/admin/parties/account/add/", data)
        assert response.status_code == 200
        assert "check digits are wrong" in response.content.decode()
        assert Account.objects.count() == 0
        data["tax_id"] = "de812651301"
        response = admin.post("/admin/parties/account/add/", data)
        assert response.status_code == 302, response.content.decode()[:3000]
        assert Account.objects.get().tax_id == "DE812651301"

    def test_every_parties_model_has_an_admin(self, page_as):
        admin = page_as("admin")
        for model in ["legalentity", "account", "contact"]:
            assert admin.get(f"/admin/parties/{model}/").status_code == 200
            assert admin.get(f"/admin/parties/{model}/add/").status_code == 200
        assert "bank_accounts-TOTAL_FORMS" in admin.get("/admin/parties/legalentity/add/").content.decode()
