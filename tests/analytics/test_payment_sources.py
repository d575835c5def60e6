"""Cash applied by hand in invoicing, and taken back: a returned payment no longer counts.

Hand-worked: I1 (2027-01-04, 1,000 + 19 % = 1,190.00, due 02-03) paid 1,190.00 on 01-10 by hand;
190.00 of it comes back on 01-15 (returned by the bank). January: cash received 1,000.00,
collection rate 1,000 ÷ (0 + 1,190) = 0.8403 (0.840336…), AR at 01-31 = 190.00, current.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from q2c.core.money import Money
from q2c.invoicing import services as invoicing
from tests.analytics.world import consulting
from tests.billing.world import at, customer, seller

pytestmark = pytest.mark.django_db


def test_a_payment_taken_back_comes_off_the_cash_received():
    sim = at(date(2027, 1, 4))
    entity = seller()
    i1 = consulting(customer(entity), "1")
    sim.set(date(2027, 1, 10))
    invoicing.apply_payment(i1.pk, Money(Decimal("1190.00"), "EUR"), actor="finance", reference="bank 1")
    sim.set(date(2027, 1, 15))
    invoicing.unapply_payment(i1.pk, Money(Decimal("190.00"), "EUR"), reason="returned", reference="bank 1")
    out = StringIO()
    call_command("kpis", "--from", "2027-01-01", "--to", "2027-01-31", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["collection_rate"] == "0.8403"
    assert data["ar_aging"]["current"] == "190.00"
