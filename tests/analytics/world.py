"""A small company seeded through the real services for the KPI tests, with every number a test
checks worked out by hand below.

Acme Cloud GmbH (EUR, Berlin, net 30; registered as HRB 123456 B, which its invoices outside the
scope of VAT state) sells to Northwind (EUR) and Contoso (USD); the business
clock stands at 09:00 Berlin on each day named. Stored rates: 1 USD = 0.90 EUR from 2027-02-26,
1 EUR = 1.25 USD from 2026-11-01.

Receivables (invoicing services, and the payments app's payments and disputes; services to
Northwind carry 19 % VAT, to Contoso none; I1 is paid by hand in invoicing):

| invoice | issued | due | total | what happens |
|---|---|---|---|---|
| I5 | 2026-12-01 | 2026-12-31 | 200 + 38 = 238.00 | written off 2027-02-15 |
| I1 | 2027-01-04 | 2027-02-03 | 1,000 + 190 = 1,190.00 | paid in full 2027-01-20 |
| I2 | 2027-02-01 | 2027-03-03 | 2,000 + 380 = 2,380.00 | 1,000.00 paid 2027-03-10 (payments app) |
| I3 | 2027-03-01 | 2027-03-31 | USD 1,000.00 (= 900.00 EUR at 0.90) | open; disputed 2027-03-25 (payments app) |
| I4 | 2027-03-15 | 2027-04-14 | 500 + 95 = 595.00 | credit note 100 + 19 = 119.00 on 2027-03-20 |

Sales (quotes services, the Northwind catalog of northwind.md): O1 "Northwind platform" created
2027-01-10 with quote Q1 (50 SEAT at 15 % off, ONB, 2 EDGE, API; list TCV 27,000.00, TCV
24,300.00), approved 01-11, sent 01-12, accepted 01-20 → won, contract C-1 from 2027-02-01 with
50 SEAT at 25.50 = 1,275.00 MRR. O2 created 01-10, lost 02-05. O3 created 03-01, moved to
proposal (50 %) — its name is a formula with markup (``O3_NAME``) —, quote Q3 with the same lines (TCV 24,300.00), not sent.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from q2c.core.money import Money
from tests.billing.world import CONTOSO, at, draft_lines
from tests.billing.world import seller as billing_seller

#: O3's name tries a spreadsheet formula and markup: exports neutralise it, pages escape it.
O3_NAME = '=HYPERLINK("https://evil.example") <i>expansion</i>'

LINES = [
    {"key": "L1", "sku": "SEAT", "quantity": "50", "discount": {"percent": "15"}},
    {"key": "L2", "sku": "ONB", "quantity": "1"},
    {"key": "L3", "sku": "EDGE", "quantity": "2"},
    {"key": "L4", "sku": "API"},
]


def consulting(account: Any, days: str, day_rate: str = "1000.00") -> Any:
    from q2c.invoicing import services

    draft = services.create_draft(
        account_id=account.pk, lines=draft_lines(("Consulting day", days, day_rate, "service"))
    )
    return services.issue(draft.pk, formats=[])


def build() -> dict[str, Any]:
    """Seed the company of the module docstring; returns its rows by name."""
    from q2c.catalog import services as catalog_services
    from q2c.invoicing import services as invoicing
    from q2c.invoicing.models import InvoiceLine
    from q2c.invoicing.services.credit import CreditLine
    from q2c.parties import services as parties
    from q2c.payments import services as payments
    from q2c.quotes import services as quotes
    from tests.quotes import builders, helpers

    catalog_services.clear_cache()
    sim = at(date(2026, 11, 30))
    entity = billing_seller(registration="HRB 123456 B, Amtsgericht Charlottenburg")
    northwind = builders.customer(currency="EUR")
    contoso = parties.create_account(actor="test", entity_id=entity.pk, **CONTOSO)
    invoicing.set_rate("EUR", "USD", date(2026, 11, 1), "1.25")
    builders.northwind_catalog()
    rita = builders.user("rita", "sales_rep")
    max_ = builders.user("max", "sales_manager")
    quotes.save_team(name="DACH", manager_id=max_.pk, member_ids=[rita.pk], actor="test")

    sim.set(date(2026, 12, 1))
    i5 = consulting(northwind, "1", "200.00")
    sim.set(date(2027, 1, 4))
    i1 = consulting(northwind, "1")

    sim.set(date(2027, 1, 10))
    o1 = quotes.create_opportunity(actor=rita, account_id=northwind.pk, name="Northwind platform")
    o2 = quotes.create_opportunity(actor=rita, account_id=northwind.pk, name="Northwind <b>extra</b>")
    q1 = quotes.create_quote(
        actor=rita, opportunity_id=o1.pk, start_date=date(2027, 2, 1), term_months=12, lines=LINES
    )
    sim.set(date(2027, 1, 11))
    helpers.approve(q1, rita, max_)
    sim.set(date(2027, 1, 12))
    sent = quotes.send_quote(q1.pk, actor=rita, base_url="https://q2c.example")

    sim.set(date(2027, 1, 20))
    quotes.accept_quote(sent.token, signer_name="Nora North", signer_title="CFO", agree=True)
    invoicing.apply_payment(i1.pk, Money(Decimal("1190.00"), "EUR"), actor="finance")

    sim.set(date(2027, 2, 1))
    i2 = consulting(northwind, "2")
    sim.set(date(2027, 2, 5))
    quotes.move(o2.pk, "closed_lost", actor=rita, loss_reason="budget")
    sim.set(date(2027, 2, 15))
    invoicing.write_off(i5.pk, reason="insolvent", actor="finance")
    sim.set(date(2027, 2, 26))
    invoicing.set_rate("USD", "EUR", date(2027, 2, 26), "0.90")

    sim.set(date(2027, 3, 1))
    i3 = consulting(contoso, "1")
    o3 = quotes.create_opportunity(actor=rita, account_id=northwind.pk, name=O3_NAME)
    quotes.move(o3.pk, "proposal", actor=rita)
    quotes.create_quote(
        actor=rita, opportunity_id=o3.pk, start_date=date(2027, 4, 1), term_months=12, lines=LINES
    )
    sim.set(date(2027, 3, 10))
    payments.record_payment(
        northwind.pk,
        Money(Decimal("1000.00"), "EUR"),
        received_on=date(2027, 3, 10),
        reference=i2.number,
        allocations=[payments.Allocation(i2.pk, Money(Decimal("1000.00"), "EUR"))],
        actor="finance",
    )
    sim.set(date(2027, 3, 15))
    i4 = consulting(northwind, "1", "500.00")
    sim.set(date(2027, 3, 20))
    (line,) = InvoiceLine.objects.filter(invoice_id=i4.pk)
    invoicing.credit(
        i4.pk, reason_code="pricing_error", lines=[CreditLine(line.pk, amount=Decimal("100.00"))], formats=[]
    )
    sim.set(date(2027, 3, 25))
    payments.open_dispute(invoice_id=i3.pk, reason="hours not agreed", on=date(2027, 3, 25), actor="finance")
    sim.set(date(2027, 4, 2))
    return {
        "entity": entity, "northwind": northwind, "contoso": contoso, "clock": sim,
        "invoices": {"I1": i1, "I2": i2, "I3": i3, "I4": i4, "I5": i5},
        "opportunities": {"O1": o1, "O2": o2, "O3": o3}, "quote_q1": q1, "rita": rita, "max": max_,
    }  # fmt: skip
