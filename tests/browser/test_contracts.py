"""A sales rep finds contract C-1 through the Contracts entry, adds ten seats co-termed to the
contract end with the amendment form (northwind.md step 6), and sees the new version, its delta
line and the redline between the versions; the screenshot is kept
(test-artifacts/contract-amended.png)."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


@pytest.fixture
def make_c1(transactional_db):
    """``make_c1(owner_id)``: C-1, active, owned by the sales rep who sells it (a rep sees only
    the contracts they own)."""
    from q2c.core import clock
    from tests.contracts import builders

    def make(owner_id: int):
        # Set up on 2027-01-20 in this thread; the live server keeps its own clock (amendments are
        # dated by their effective date, which the form gives).
        with clock.use(clock.SimulationClock(date(2027, 1, 20), default_tz="Europe/Berlin")):
            entity = builders.seller()
            account = builders.customer()
            return builders.active_contract(entity, account, owner_id=owner_id)

    return make


def test_a_sales_rep_adds_seats_to_a_contract_and_sees_the_new_version(page, login_as, screenshot, make_c1):
    rita = login_as("sales_rep", "rita")
    c1 = make_c1(rita.pk)
    page.get_by_role("link", name="Contracts").click()
    page.get_by_role("link", name=c1.number).click()
    page.wait_for_url(f"**/contracts/{c1.pk}/")
    assert page.locator("#mrr").inner_text() == "1275.00 EUR"

    form = page.locator("#amend-form")
    form.get_by_label("Change").select_option("add_quantity")
    form.get_by_label("Effective date").fill("2027-03-15")
    form.get_by_label("Product (SKU)").fill("SEAT")
    form.get_by_label("Quantity").fill("10")
    form.get_by_label("Reason").fill("ten more seats for the Hamburg team")
    with page.expect_navigation():  # the page posts to its own address
        form.get_by_role("button", name="Apply amendment").click()

    page.wait_for_url(f"**/contracts/{c1.pk}/")
    expect(page.get_by_text("Amendment A1 applied")).to_be_visible()
    # 60 seats × 25.50 run from 2027-03-15 on.
    assert page.locator("#mrr").inner_text() == "1530.00 EUR"
    delta = page.locator('tr[data-line="A1.1"]')
    assert "2027-03-15 – 2028-02-01" in delta.inner_text()
    assert "add_on" in delta.inner_text()
    assert page.locator('tr[data-amendment="1"]').inner_text().startswith("A1")

    page.get_by_label("From").select_option("1")
    page.get_by_label("To").select_option("2")
    page.get_by_role("button", name="Compare").click()
    assert "<ins>" in page.locator("#redline").inner_html()
    path = screenshot(page, "contract-amended")
    assert path.exists() and path.stat().st_size > 0

    # The earlier version stays readable as it was.
    page.get_by_label("Version", exact=True).select_option("1")
    page.get_by_role("button", name="Show").click()
    assert page.locator('tr[data-line="A1.1"]').count() == 0
