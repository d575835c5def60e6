"""The whole quote flow in Chromium: a rep builds a quote in the builder (live waterfall and an
approval flag for a 15 % discount above her 10 % limit), submits it, her manager approves it in
the approval inbox, she sends it, and the customer accepts it from the public link — with the
keyboard where a person would use it. Screenshots go to test-artifacts/.

Figures are Northwind's (/work/shared/scenarios/northwind.md, step 1): 50 SEAT at 15 % off
30.00 → 1,275.00 per month.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "browser-test-password"


@pytest.fixture
def sales_world(transactional_db, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    from q2c.catalog import services as catalog
    from tests.quotes import builders

    catalog.clear_cache()
    # Transactional tests empty the tables the migrations seeded: units, limits, the default rule.
    builders.reseed()
    builders.seller()
    account = builders.customer()
    builders.northwind_catalog()
    return {"account": account}


def log_in(page, name: str) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(re.compile(r".*/$"))


def log_out(page) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/login/")


def test_build_approve_send_and_accept_a_quote_in_the_browser(
    page, login_as, screenshot, sales_world, browser, live_server
):
    from django.contrib.auth.models import Group

    from q2c.quotes import services as quotes
    from q2c.quotes.models import Acceptance, Opportunity, Quote
    from tests.quotes import builders

    rita = login_as("sales_rep", "rita")
    max_ = builders.user("max", password=PASSWORD)
    max_.groups.add(Group.objects.get_or_create(name="sales_manager")[0])
    quotes.save_team(name="DACH", manager_id=max_.pk, member_ids=[rita.pk], actor="test")

    # An opportunity, from the Sales section.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Sales").click()
    page.get_by_role("link", name="New opportunity").click()
    page.get_by_label(re.compile(r"^Customer account")).select_option(label="Northwind Handels GmbH")
    page.get_by_label(re.compile(r"^Name")).fill("Northwind platform")
    page.get_by_role("button", name="Create opportunity").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/quotes/opportunities/*/")

    # A quote for it, then its lines in the builder.
    page.get_by_label("Start date").fill("2030-02-01")
    page.get_by_role("button", name="New quote").click()
    page.wait_for_url(re.compile(r".*/quotes/\d+/$"))
    page.get_by_label("Product of line L1").focus()
    page.keyboard.type("SEAT")
    page.keyboard.press("Tab")
    page.keyboard.type("50")  # quantity
    page.keyboard.press("Tab")
    page.keyboard.type("15")  # discount %
    first = page.locator("tbody.line").nth(0)
    # The live preview prices the line without saving: 50 × 30.00 × 85 % = 1,275.00 a month.
    first.locator(".net-cell").filter(has_text="1275.00").wait_for()
    expect(first.get_by_text("needs approval")).to_be_visible()
    assert (
        "SEAT: discount 15 % is above the owner's limit of 10 %"
        in page.locator("#approval-flags").inner_text()
    )
    page.get_by_label("Product of line L2").fill("ONB")
    page.get_by_label("Quantity of line L2").fill("1")
    page.locator("tbody.line").nth(1).locator(".net-cell").filter(has_text="5000.00").wait_for()
    first.get_by_text("price waterfall").click()
    assert "manual" in first.locator("ol.waterfall").inner_text()
    # A line the engine cannot price says so next to itself.
    page.get_by_role("button", name="Add line").click()
    page.keyboard.type("GHOST")
    page.locator("tbody.line").nth(2).locator(".row-errors").filter(
        has_text="no product with SKU 'GHOST'"
    ).wait_for()
    page.locator("tbody.line").nth(2).get_by_role("button", name=re.compile("Remove line")).click()
    screenshot(page, "quote-builder")
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Save quote").click()
    page.wait_for_url(re.compile(r".*/quotes/\d+/$"))
    expect(page.get_by_text("Quote saved.")).to_be_visible()
    quote = Quote.objects.get()
    assert list(quote.lines.values_list("sku", flat=True)) == ["SEAT", "ONB"]
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Submit for approval").click()
    page.wait_for_url(re.compile(r".*/quotes/\d+/$"))
    assert page.locator("#quote-status").inner_text() == "in review"

    # The manager approves in his inbox.
    log_out(page)
    log_in(page, "max")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Approvals").click()
    page.get_by_label("Comment").fill("Strategic logo, approved.")
    screenshot(page, "approval-inbox")
    page.get_by_role("button", name=f"Approve {quote.number} v1").click()
    page.wait_for_url("**/quotes/approvals/")
    expect(page.get_by_text("Nothing waits for your approval.")).to_be_visible()

    # The rep sends it; the page shows the customer's link.
    log_out(page)
    log_in(page, "rita")
    page.goto(f"/quotes/{quote.pk}/")
    assert page.locator("#quote-status").inner_text() == "approved"
    page.get_by_role("button", name="Send quote").click()
    link = page.locator("#acceptance-link").get_attribute("href")
    assert link and "/quotes/accept/" in link

    # The customer, not logged in anywhere, accepts from the link.
    customer = browser.new_context(base_url=live_server.url, user_agent="CustomerBrowser/1.0")
    public = customer.new_page()
    public.goto(link)
    assert "Northwind Handels GmbH" in public.content()
    expect(public.get_by_text("€1,275.00").first).to_be_visible()
    public.get_by_label(re.compile(r"^Your full name")).fill("Nora North")
    public.get_by_label(re.compile(r"^Your title")).fill("Managing Director")
    public.get_by_label(re.compile(r"I am authorised to sign")).check()
    screenshot(public, "quote-acceptance")
    public.get_by_role("button", name="Accept quote").click()
    public.get_by_text("Accepted by Nora North (Managing Director)").wait_for()
    customer.close()

    acceptance = Acceptance.objects.get()
    assert (acceptance.signer_name, acceptance.user_agent) == ("Nora North", "CustomerBrowser/1.0")
    assert acceptance.document_sha256 == Quote.objects.get().documents.get().sha256
    assert Quote.objects.get().status == "accepted"
    assert Opportunity.objects.get().stage == "closed_won"


def test_html_in_a_customer_name_stays_text_in_the_builder_and_on_the_public_page(
    page, login_as, sales_world, browser, live_server
):
    from q2c.quotes import services as quotes
    from tests.quotes import builders
    from tests.quotes.helpers import send

    hostile = "<img src=x onerror=\"document.title='pwned'\">"
    evil = builders.customer(name=f"{hostile} GmbH", tax_id="")
    rita = login_as("sales_rep", "rita")
    manager = builders.user("max", "sales_manager")
    quotes.save_team(name="DACH", manager_id=manager.pk, member_ids=[rita.pk], actor="test")
    opp = quotes.create_opportunity(actor=rita, account_id=evil.pk, name=hostile)
    quote = quotes.create_quote(
        actor=rita, opportunity_id=opp.pk, title=hostile, lines=[{"sku": "ONB", "quantity": "1"}]
    )
    sent = send(quote, rita, manager)

    page.goto(f"/quotes/{quote.pk}/")
    assert page.title() != "pwned"
    expect(page.get_by_text(f"{hostile} GmbH").first).to_be_visible()
    public = browser.new_context(base_url=live_server.url).new_page()
    public.goto(f"/quotes/accept/{sent.token}/")
    assert public.title() != "pwned"
    expect(public.get_by_text(f"{hostile} GmbH").first).to_be_visible()
    assert public.locator("img").count() == 0
