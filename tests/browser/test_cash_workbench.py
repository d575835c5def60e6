"""Finance applies a day's bank statement on the Cash pages: the upload applies what is sure (the
Northwind EDGE payment, 4,745.00 + 15.00 bank fee, northwind.md step 8), and the workbench resolves
the rest — a partial payment accepted as proposed, a payment with no reference split by hand over
INV-3 (1,517.25) and INV-4 (166.41), a tax refund set aside as not ours — until the queue is
empty. A viewer reads the pages without the actions. Screenshot: test-artifacts/cash-workbench.png.
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def entry(amount: str, text: str, name: str = "") -> str:
    debtor = f"<Dbtr><Nm>{name}</Nm></Dbtr>" if name else ""
    return (
        f'<Ntry><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>'
        "<BookgDt><Dt>2027-04-26</Dt></BookgDt><ValDt><Dt>2027-04-26</Dt></ValDt>"
        f'<NtryDtls><TxDtls><Amt Ccy="EUR">{amount}</Amt><RltdPties>{debtor}</RltdPties>'
        f"<RmtInf><Ustrd>{text}</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"
    )


@pytest.fixture
def statement(transactional_db, tmp_path):
    from q2c.tax.services import load_shipped
    from tests.billing.world import at
    from tests.payments.cash_world import acme_with_cash_settings, northwind_invoices
    from tests.payments.support import camt

    # A live-server test starts from a flushed database: the shipped tax rates must be loaded again.
    load_shipped()
    at(date(2027, 2, 1))
    entity = acme_with_cash_settings("20.00")
    northwind_invoices(entity)
    path = tmp_path / "camt053-2027-04-26.xml"
    path.write_bytes(
        camt(
            entry("4745.00", "NORTHWIND INV 2027 0000O2", "NORTHWIND HANDELS GMBH")
            + entry("2000.00", "INV-2027-000005 Teilzahlung")
            + entry("1683.66", "Zahlung April")
            + entry("312.40", "Finanzamt Erstattung")
        )
    )
    return path


def open_line(page, amount: str) -> None:
    page.get_by_role("link", name=f"{amount} EUR").click()
    page.wait_for_url("**/cash/lines/*/")


def test_finance_uploads_a_statement_and_resolves_the_workbench(page, login_as, screenshot, statement):
    login_as("finance", "fiona")
    page.get_by_role("link", name="Cash").click()
    page.wait_for_url("**/cash/")
    page.get_by_label("Bank file (camt.053/054, MT940, BAI2, CSV)").set_input_files(str(statement))
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Import").click()
    page.wait_for_url("**/cash/")
    assert "4 new lines" in page.locator("ul.messages").inner_text()
    assert "1 applied" in page.locator("ul.messages").inner_text()
    expect(page.get_by_role("heading", level=2, name="Waiting for a person (3)")).to_be_visible()
    screenshot(page, "cash-workbench")

    # The partial payment of INV-5: the proposal, accepted.
    open_line(page, "2000.00")
    proposal = page.get_by_role("region", name="proposal")
    assert "INV-2027-000005: 2000.00 EUR" in proposal.inner_text()
    with page.expect_navigation():  # the page posts to its own address
        proposal.get_by_role("button", name="Accept").click()
    page.wait_for_url("**/cash/lines/*/")
    assert page.get_by_test_id("line-state").inner_text() == "applied"

    # No reference, no name: split by hand over INV-3 and INV-4.
    page.get_by_role("link", name="Workbench").click()
    open_line(page, "1683.66")
    page.get_by_label("invoice 1").select_option(label="INV-2027-000003 · Northwind Handels GmbH · open 1517.25")
    page.get_by_label("cash 1").fill("1517.25")
    page.get_by_label("invoice 2").select_option(label="INV-2027-000004 · Northwind Handels GmbH · open 166.41")
    page.get_by_label("cash 2").fill("166.41")
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Apply", exact=True).click()
    page.wait_for_url("**/cash/lines/*/")
    assert page.get_by_test_id("line-state").inner_text() == "applied"
    applied = page.get_by_role("table").inner_text()
    assert "INV-2027-000003" in applied and "INV-2027-000004" in applied

    # The tax refund is not ours.
    page.get_by_role("link", name="Workbench").click()
    open_line(page, "312.40")
    page.get_by_label("What is it?").fill("VAT refund from the tax office")
    with page.expect_navigation():  # the page posts to its own address
        page.get_by_role("button", name="Mark as not ours").click()
    page.wait_for_url("**/cash/lines/*/")
    assert page.get_by_test_id("line-state").inner_text() == "not_ours"

    page.get_by_role("link", name="Workbench").click()
    expect(page.get_by_role("heading", level=2, name="Waiting for a person (0)")).to_be_visible()

    from q2c.invoicing.models import Invoice

    assert dict(Invoice.objects.values_list("number", "status")) == {
        "INV-2027-000001": "issued",
        "INV-2027-000002": "paid",
        "INV-2027-000003": "paid",
        "INV-2027-000004": "paid",
        "INV-2027-000005": "partially_paid",
    }


def test_a_viewer_reads_the_workbench_without_the_actions(page, login_as, statement):
    from q2c.payments.cash.services import importing

    importing.import_file(statement.read_bytes(), actor="test")
    login_as("viewer", "vera")
    page.goto("/cash/")
    expect(page.get_by_role("heading", level=2, name="Waiting for a person (4)")).to_be_visible()
    assert page.get_by_role("button", name="Import").count() == 0
    open_line(page, "1683.66")
    assert page.get_by_role("button", name="Apply", exact=True).count() == 0
