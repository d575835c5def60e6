"""The parties API at /api/v1/parties/: CRUD, search and pages, cursors, and problem+json errors."""

from __future__ import annotations

import json

import pytest

from q2c.parties.models import Account, BankAccount, Contact, LegalEntity

from .conftest import ACME, NORTHWIND

pytestmark = pytest.mark.django_db

BASE = "/api/v1/parties"


def post(client, path, body, **extra):
    return client.post(f"{BASE}{path}", data=json.dumps(body), content_type="application/json", **extra)


def patch(client, path, body):
    return client.patch(f"{BASE}{path}", data=json.dumps(body), content_type="application/json")


def assert_problem(response, status, code, field=None):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"] and body["detail"] and body["type"].endswith(code)
    if field is not None:
        assert field in [e["field"] for e in body["errors"]]
    return body


class TestEntities:
    def test_an_admin_creates_the_seller_and_gets_its_address(self, api_as):
        admin = api_as("admin")
        response = post(admin, "/entities", {**ACME, "tax_id": "de 136 457 858"})
        assert response.status_code == 201, response.content
        body = response.json()
        assert response["Location"] == f"{BASE}/entities/{body['id']}"
        assert (body["name"], body["tax_id"], body["invoice_prefix"], body["bank_accounts"]) == (
            "Acme Cloud GmbH",
            "DE136457858",
            "INV",
            [],
        )
        assert admin.get(response["Location"]).json()["id"] == body["id"]

    def test_bank_accounts_are_added_by_finance_and_listed_with_the_entity(self, api_as, acme):
        finance = api_as("finance")
        response = post(
            finance,
            f"/entities/{acme.pk}/bank-accounts",
            {"iban": "DE89370400440532013000", "bic": "COBADEFFXXX"},
        )
        assert response.status_code == 201, response.content
        assert response.json()["is_default"] is True
        listed = finance.get(f"{BASE}/entities/{acme.pk}").json()["bank_accounts"]
        assert [b["iban"] for b in listed] == ["DE89370400440532013000"]
        assert (
            finance.delete(f"{BASE}/entities/{acme.pk}/bank-accounts/{response.json()['id']}").status_code
            == 204
        )
        assert BankAccount.objects.count() == 0

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"iban": "DE89370400440532013001"}, "parties.invalid_iban", "iban"),
            ({"iban": "DE89370400440532013000", "bic": "NOTABIC"}, "parties.invalid_bic", "bic"),
        ],
    )
    def test_an_invalid_iban_or_bic_is_a_422_and_writes_nothing(self, api_as, acme, body, code, field):
        response = post(api_as("finance"), f"/entities/{acme.pk}/bank-accounts", body)
        assert_problem(response, 422, code, field)
        assert BankAccount.objects.count() == 0

    def test_invalid_settings_name_every_field(self, api_as):
        response = post(
            api_as("admin"),
            "/entities",
            {"name": "X", "country": "ZZ", "base_currency": "EUR", "rounding_mode": "up"},
        )
        body = assert_problem(response, 422, "parties.invalid_country")
        assert {e["field"] for e in body["errors"]} == {"country", "rounding_mode"}
        assert LegalEntity.objects.count() == 0


class TestAccounts:
    def test_a_sales_rep_creates_reads_changes_and_a_manager_deletes_an_account(self, api_as, acme):
        rita = api_as("sales_rep", "rita")
        created = post(rita, "/accounts", NORTHWIND)
        assert created.status_code == 201, created.content
        account = created.json()
        assert (account["entity_id"], account["currency"], account["tax_id"]) == (
            acme.pk,
            "EUR",
            "DE812651301",
        )
        assert rita.get(created["Location"]).json()["name"] == "Northwind Handels GmbH"

        changed = patch(rita, f"/accounts/{account['id']}", {"billing_city": "Bremen"})
        assert changed.status_code == 200
        assert (changed.json()["billing_city"], changed.json()["name"]) == (
            "Bremen",
            "Northwind Handels GmbH",
        )

        assert_problem(rita.delete(f"{BASE}/accounts/{account['id']}"), 403, "auth.forbidden")
        assert api_as("sales_manager", "max").delete(f"{BASE}/accounts/{account['id']}").status_code == 204
        assert Account.objects.count() == 0

    def test_the_list_searches_filters_sorts_and_pages(self, api_as, acme):
        for name, country, kind in [
            ("Northwind Handels GmbH", "DE", "business"),
            ("Fabrikam SARL", "FR", "business"),
            ("Contoso AG", "DE", "business"),
            ("Erika Mustermann", "DE", "consumer"),
        ]:
            post(
                api_as("sales_rep", f"u{len(name)}{country}"),
                "/accounts",
                {"name": name, "country": country, "kind": kind},
            )
        viewer = api_as("viewer")

        page = viewer.get(f"{BASE}/accounts", {"page_size": 2}).json()
        assert ([a["name"] for a in page["items"]], page["total"], page["pages"]) == (
            ["Contoso AG", "Erika Mustermann"],
            4,
            2,
        )
        second = viewer.get(f"{BASE}/accounts", {"page_size": 2, "page": 2}).json()
        assert [a["name"] for a in second["items"]] == ["Fabrikam SARL", "Northwind Handels GmbH"]
        assert viewer.get(f"{BASE}/accounts", {"page": 9}).json()["items"] == []

        names = lambda **q: [a["name"] for a in viewer.get(f"{BASE}/accounts", q).json()["items"]]  # noqa: E731
        assert names(q="wind") == ["Northwind Handels GmbH"]
        assert names(country="de", kind="business") == ["Contoso AG", "Northwind Handels GmbH"]
        assert names(sort="-name")[0] == "Northwind Handels GmbH"
        assert names(sort="country")[-1] == "Fabrikam SARL"

    def test_bad_list_parameters_are_422(self, api_as):
        viewer = api_as("viewer")
        assert_problem(
            viewer.get(f"{BASE}/accounts", {"sort": "password"}), 422, "parties.invalid_sort", "sort"
        )
        assert_problem(viewer.get(f"{BASE}/accounts", {"page": 0}), 422, "validation", "page")
        assert_problem(viewer.get(f"{BASE}/accounts", {"page_size": 10_000}), 422, "validation", "page_size")

    @pytest.mark.parametrize(
        ("change", "code", "field"),
        [
            ({"tax_id": "DE812651300"}, "parties.invalid_tax_id", "tax_id"),
            ({"country": "XX"}, "parties.invalid_country", "country"),
            ({"country": "Germany"}, "validation", "country"),  # longer than the schema allows
            ({"currency": "EURO"}, "validation", "currency"),
            ({"invoice_email": "ap@"}, "parties.invalid_email", "invoice_email"),
            ({"name": None}, "validation", "name"),
        ],
    )
    def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(self, api_as, acme, change, code, field):
        response = post(api_as("sales_rep"), "/accounts", {**NORTHWIND, **change})
        assert_problem(response, 422, code, field)
        assert Account.objects.count() == 0

    def test_malformed_json_is_a_400_and_writes_nothing(self, api_as, acme):
        response = api_as("sales_rep").post(
            f"{BASE}/accounts", data='{"name": "Northwind", ', content_type="application/json"
        )
        assert_problem(response, 400, "request.malformed_json")
        assert Account.objects.count() == 0

    def test_html_in_a_name_comes_back_as_the_same_text_in_json(self, api_as, acme):
        name = '<img src=x onerror="alert(1)">'
        response = post(api_as("sales_rep"), "/accounts", {"name": name, "country": "DE"})
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["name"] == name

    def test_a_missing_account_is_a_404_problem(self, api_as):
        assert_problem(api_as("viewer").get(f"{BASE}/accounts/999999"), 404, "parties.not_found")

    def test_deleting_a_parent_account_is_a_409(self, api_as, northwind):
        rep = api_as("sales_rep")
        post(rep, "/accounts", {"name": "Northwind Bremen", "country": "DE", "parent_id": northwind.pk})
        assert_problem(
            api_as("sales_manager").delete(f"{BASE}/accounts/{northwind.pk}"), 409, "parties.in_use"
        )


class TestContacts:
    def test_contacts_are_listed_by_cursor_without_gaps_or_repeats(self, api_as, northwind):
        rep = api_as("sales_rep")
        for name in ["Carla", "Anna", "Bert"]:
            assert post(rep, f"/accounts/{northwind.pk}/contacts", {"name": name}).status_code == 201
        first = rep.get(f"{BASE}/accounts/{northwind.pk}/contacts", {"limit": 2}).json()
        assert [c["name"] for c in first["items"]] == ["Anna", "Bert"]
        # A contact added between the pages, sorting before the cursor, is not repeated or skipped.
        post(rep, f"/accounts/{northwind.pk}/contacts", {"name": "Aaron"})
        second = rep.get(
            f"{BASE}/accounts/{northwind.pk}/contacts", {"limit": 2, "cursor": first["next_cursor"]}
        ).json()
        assert ([c["name"] for c in second["items"]], second["next_cursor"]) == (["Carla"], None)

    def test_a_tampered_cursor_is_a_422(self, api_as, northwind):
        response = api_as("viewer").get(
            f"{BASE}/accounts/{northwind.pk}/contacts", {"cursor": "eyJpZCI6MX0:forged"}
        )
        assert_problem(response, 422, "pagination.invalid_cursor", "cursor")

    def test_a_contact_is_changed_and_deleted(self, api_as, northwind):
        rep = api_as("sales_rep")
        created = post(
            rep, f"/accounts/{northwind.pk}/contacts", {"name": "Nora", "email": "nora@northwind.example"}
        )
        assert created["Location"] == f"{BASE}/contacts/{created.json()['id']}"
        assert patch(rep, f"/contacts/{created.json()['id']}", {"title": "CFO"}).json()["title"] == "CFO"
        assert rep.delete(f"{BASE}/contacts/{created.json()['id']}").status_code == 204
        assert Contact.objects.count() == 0
