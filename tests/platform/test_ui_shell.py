"""The UI shell: role-aware navigation, placeholder sections, panels, no CDN, login and logout."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.utils.html import format_html

from q2c.platform import ui

pytestmark = pytest.mark.django_db

STAGES = ["Sales", "Contracts", "Orders", "Billing", "Payments", "Revenue", "Ledger", "Analytics", "Admin"]


def client_for(role: str | None) -> Client:
    user = get_user_model().objects.create_user(f"u-{role}-{get_user_model().objects.count()}")
    if role:
        user.groups.add(Group.objects.get(name=role))
    client = Client()
    client.force_login(user)
    return client


def nav_labels(html: str) -> list[str]:
    nav = html.split('<nav class="main"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a href="[^"]*"(?: aria-current="page")?>([^<]+)</a>', nav)


def test_an_admin_sees_every_stage_of_the_business_in_the_navigation():
    labels = nav_labels(client_for("admin").get("/").content.decode())
    assert set(STAGES) <= set(labels)
    assert labels[0] == "Home" and "Accounts" in labels


def test_the_navigation_shows_each_role_only_its_entries():
    viewer = nav_labels(client_for("viewer").get("/").content.decode())
    assert "Admin" not in viewer and "Accounts" in viewer
    rep = nav_labels(client_for("sales_rep").get("/").content.decode())
    assert "Sales" in rep and "Admin" not in rep
    assert nav_labels(client_for(None).get("/").content.decode()) == ["Home"]


def test_the_current_page_is_marked_in_the_navigation():
    html = client_for("viewer").get("/parties/accounts/").content.decode()
    assert '<a href="/parties/accounts/" aria-current="page">Accounts</a>' in html


class TestRegistration:
    @pytest.fixture(autouse=True)
    def _own_nav(self, monkeypatch):
        monkeypatch.setattr(ui, "NAV", [])
        monkeypatch.setattr(ui, "SECTIONS", {})

    def test_a_real_entry_replaces_a_placeholder_whatever_the_order(self):
        ui.add_section("billing", "Billing", {"finance"})
        ui.add_nav("Billing", "/billing/", {"finance", "viewer"})
        ui.add_nav("Revenue", "/revenue/", {"finance"})
        ui.add_section("revenue", "Revenue", {"finance"})
        assert [(i.label, i.url, i.placeholder) for i in ui.NAV] == [
            ("Billing", "/billing/", False),
            ("Revenue", "/revenue/", False),
        ]
        assert ui.NAV[0].roles == frozenset({"finance", "viewer"})

    def test_between_two_real_entries_the_first_wins(self):
        ui.add_nav("Ledger", "/ledger/")
        ui.add_nav("Ledger", "/elsewhere/")
        assert [i.url for i in ui.NAV] == ["/ledger/"]

    def test_admins_see_every_entry_and_others_only_their_roles(self):
        ui.add_nav("Billing", "/billing/", {"finance"})
        request = RequestFactory().get("/")
        request.user = get_user_model().objects.create_user("fin")
        assert ui.nav_for(request) == []
        request.user.groups.add(Group.objects.get(name="finance"))
        assert [i.label for i in ui.nav_for(request)] == ["Billing"]


def test_a_section_placeholder_is_open_only_to_its_roles():
    assert client_for("finance").get("/sections/billing/").status_code == 200
    assert client_for("sales_rep").get("/sections/billing/").status_code == 403
    assert client_for("finance").get("/sections/nonsense/").status_code == 404


def test_a_panel_registered_for_the_home_page_appears_there():
    def hello(request, context):
        return format_html("<p id='hello'>Hello {}</p>", request.user.get_username())

    ui.add_panel("platform.home", hello)
    try:
        html = client_for("viewer").get("/").content.decode()
    finally:
        ui.remove_panel("platform.home", hello)
    assert "<p id='hello'>Hello u-viewer-0</p>" in html


def test_every_asset_of_a_page_is_served_by_q2c_itself():
    html = client_for("admin").get("/parties/accounts/").content.decode()
    assets = re.findall(r'<(?:script|link|img)[^>]+(?:src|href)="([^"]+)"', html)
    assert assets
    assert all(a.startswith("/") and not a.startswith("//") for a in assets), assets


def test_logout_is_a_post_and_ends_the_session():
    client = client_for("viewer")
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/").status_code == 302


def test_the_login_form_has_labels_and_a_csrf_token():
    html = Client().get("/login/").content.decode()
    assert 'label for="id_username"' in html and 'label for="id_password"' in html
    assert "csrfmiddlewaretoken" in html
