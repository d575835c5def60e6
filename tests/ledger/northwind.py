"""The Northwind story's journal (/work/shared/scenarios/northwind.md), written out by hand.

Each entry below is derived from the story's tables, not from q2c code: invoices (net to the
contract's liability, VAT to VAT payable, usage clearing unbilled receivables), payments (with the
15.00 bank fee), and the month-end recognition runs (revenue per the schedule; C-1A's net debit
position of 1.73 at 2027-03-31 shown as a contract asset, as the story's conventions require).
The trial balances the story gives at 2027-03-31 and 2027-04-30 are the expected results.
"""

from __future__ import annotations

from datetime import date

from q2c.core.money import Money
from q2c.ledger import chart, services
from q2c.ledger.domain import DraftLine, EntryDraft, SourceRef

VAT = "DE-S-19"


def _e(amount: str) -> Money:
    return Money(amount, "EUR")


def dr(key: str, amount: str) -> DraftLine:
    return DraftLine.dr(key, _e(amount))


def cr(key: str, amount: str) -> DraftLine:
    return DraftLine.cr(key, _e(amount))


def drafts(entity_id: int, vat_key: str) -> list[EntryDraft]:
    subs, services_, hw, usage = (
        chart.revenue(c) for c in ("subscriptions", "services", "hardware", "usage")
    )
    DEF, CA, AR, UNB, BANK, FEES = (
        chart.DEFERRED_REVENUE,
        chart.CONTRACT_ASSETS,
        chart.AR,
        chart.UNBILLED_RECEIVABLES,
        chart.BANK,
        chart.BANK_FEES,
    )

    def entry(
        day: date, text: str, app: str, kind: str, ref: str, lines: list[DraftLine], purpose: str = "post"
    ):
        return EntryDraft(entity_id, day, text, SourceRef(app, kind, ref), tuple(lines), purpose)

    return [
        entry(date(2027, 2, 1), "INV-2027-000001 Northwind", "invoicing", "invoice", "1",
              [dr(AR, "7467.25"), cr(vat_key, "1192.25"), cr(DEF, "6275.00")]),
        entry(date(2027, 2, 10), "INV-2027-000002 Northwind", "invoicing", "invoice", "2",
              [dr(AR, "4760.00"), cr(vat_key, "760.00"), cr(DEF, "4000.00")]),
        entry(date(2027, 2, 20), "Payment INV-2027-000001", "payments", "payment", "1",
              [dr(BANK, "7467.25"), cr(AR, "7467.25")]),
        entry(date(2027, 2, 28), "Revenue recognition 2027-02", "revenue", "run", "2027-02",
              [dr(DEF, "8767.46"), cr(subs, "1290.54"), cr(services_, "3738.46"), cr(hw, "3738.46")]),
        entry(date(2027, 3, 1), "INV-2027-000003 Northwind", "invoicing", "invoice", "3",
              [dr(AR, "1517.25"), cr(vat_key, "242.25"), cr(DEF, "1275.00")]),
        entry(date(2027, 3, 5), "Payment INV-2027-000002 (15.00 bank fee)", "payments", "payment", "2",
              [dr(BANK, "4745.00"), dr(FEES, "15.00"), cr(AR, "4760.00")]),
        entry(date(2027, 3, 15), "INV-2027-000004 Northwind (amendment C-1A)", "invoicing", "invoice", "4",
              [dr(AR, "166.41"), cr(vat_key, "26.57"), cr(DEF, "139.84")]),
        entry(date(2027, 3, 31), "Revenue recognition 2027-03", "revenue", "run", "2027-03",
              [dr(DEF, "1428.81"), dr(DEF, "139.84"), dr(CA, "1.73"), cr(subs, "1570.38")]),
        entry(date(2027, 3, 31), "Usage recognised 2027-03 (350,000 API calls)", "revenue", "usage", "2027-03",
              [dr(UNB, "500.00"), cr(usage, "500.00")]),
        entry(date(2027, 4, 1), "INV-2027-000005 Northwind", "invoicing", "invoice", "5",
              [dr(AR, "2415.70"), cr(vat_key, "385.70"), cr(DEF, "1275.00"), cr(CA, "1.73"),
               cr(DEF, "253.27"), cr(UNB, "500.00")]),
        entry(date(2027, 4, 20), "Payment INV-2027-000003", "payments", "payment", "3",
              [dr(BANK, "1517.25"), cr(AR, "1517.25")]),
        entry(date(2027, 4, 25), "Payment INV-2027-000004 and INV-2027-000005", "payments", "payment", "4",
              [dr(BANK, "2582.11"), cr(AR, "2582.11")]),
        entry(date(2027, 4, 30), "Revenue recognition 2027-04", "revenue", "run", "2027-04",
              [dr(DEF, "1382.72"), dr(DEF, "249.83"), cr(subs, "1632.55")]),
        entry(date(2027, 4, 30), "Usage recognised 2027-04 (420,000 API calls)", "revenue", "usage", "2027-04",
              [dr(UNB, "640.00"), cr(usage, "640.00")]),
    ]  # fmt: skip


def post_northwind(entity_id: int) -> str:
    """Open the book (if needed) and post the story's journal; returns the VAT account's key."""
    services.open_book(entity_id, "EUR", name="Acme Cloud GmbH")
    vat = services.tax_payable_account(entity_id, VAT)
    assert vat.key is not None
    services.post_many(drafts(entity_id, vat.key))
    return vat.key


#: northwind.md, "Trial balance (EUR)": net balances, debit positive.
TRIAL_BALANCE = {
    date(2027, 3, 31): {
        chart.BANK: "12212.25",
        chart.AR: "1683.66",
        chart.UNBILLED_RECEIVABLES: "500.00",
        chart.CONTRACT_ASSETS: "1.73",
        chart.BANK_FEES: "15.00",
        "vat": "-2221.07",
        chart.DEFERRED_REVENUE: "-1353.73",
        "revenue.subscriptions": "-2860.92",
        "revenue.services": "-3738.46",
        "revenue.hardware": "-3738.46",
        "revenue.usage": "-500.00",
    },
    date(2027, 4, 30): {
        chart.BANK: "16311.61",
        chart.AR: "0.00",
        chart.UNBILLED_RECEIVABLES: "640.00",
        chart.CONTRACT_ASSETS: "0.00",
        chart.BANK_FEES: "15.00",
        "vat": "-2606.77",
        chart.DEFERRED_REVENUE: "-1249.45",
        "revenue.subscriptions": "-4493.47",
        "revenue.services": "-3738.46",
        "revenue.hardware": "-3738.46",
        "revenue.usage": "-1140.00",
    },
}
#: northwind.md: "total debits = total credits".
TOTALS = {date(2027, 3, 31): "14412.64", date(2027, 4, 30): "16966.61"}
