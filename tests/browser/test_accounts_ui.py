"""A sales rep logs in, creates a customer through the UI with the keyboard, finds it in the
list and the screenshot is kept (test-artifacts/accounts-list.png)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def seller(transactional_db):
    from q2c.parties import services

    return services.create_entity(
        name="Acme Cloud GmbH", country="DE", base_currency="EUR", time_zone="Europe/Berlin"
    )


def test_a_sales_rep_creates_an_account_and_finds_it_in_the_list(page, login_as, screenshot, seller):
    login_as("sales_rep", "rita")
    page.get_by_role("link", name="Accounts").click()
    page.get_by_role("link", name="New account").click()

    page.get_by_label("Name").fill("Northwind Handels GmbH")
    # Keyboard only from here: labels lead to the fields, Tab and type to choose.
    page.get_by_label(re.compile(r"^Country")).focus()
    page.keyboard.type("Germany")
    page.get_by_label("VAT / tax id").fill("DE 812 651 301")
    page.get_by_label("Language of documents").fill("de-DE")
    page.get_by_label("City", exact=True).fill("Hamburg")
    page.get_by_label("Invoice e-mail").fill("ap@northwind.example")
    page.get_by_role("button", name="Create account").focus()
    with page.expect_navigation():  # the page posts to its own address
        page.keyboard.press("Enter")

    page.wait_for_url("**/parties/accounts/*/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Northwind Handels GmbH")
    expect(page.get_by_text("DE812651301")).to_be_visible()

    page.get_by_role("link", name="‹ Accounts").click()
    page.get_by_label("Search").fill("northwind")
    page.get_by_label("Search").press("Enter")
    page.wait_for_url("**q=northwind**")
    row = page.get_by_role("row", name="Northwind Handels GmbH")
    assert row.count() == 1
    assert "Hamburg" in row.inner_text()
    path = screenshot(page, "accounts-list")
    assert path.exists() and path.stat().st_size > 0


def test_html_typed_into_a_name_is_shown_as_text(page, login_as, seller):
    login_as("sales_rep", "rita")
    page.goto("/parties/accounts/new/")
    page.get_by_label("Name").fill("<img src=x onerror=\"document.title='pwned'\">")
    page.get_by_label(re.compile(r"^Country")).select_option("DE")
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/parties/accounts/*/")
    assert page.title() != "pwned"
    assert page.get_by_role("heading", level=1).inner_text().startswith("<img src=x")


def test_the_navigation_offers_a_viewer_only_what_a_viewer_may_open(page, login_as):
    login_as("viewer", "victor")
    nav = page.get_by_role("navigation", name="Main")
    labels = nav.get_by_role("link").all_inner_texts()
    assert "Accounts" in labels and "Ledger" in labels
    assert "Admin" not in labels
