"""The customer portal's link and read side: a signed, expiring link per customer account (no
login), the customer statement (open items, payments) and its PDF.

Must not import any q2c app above payments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.template.loader import render_to_string

from q2c.core import clock
from q2c.core.errors import NotFound
from q2c.core.money import Money
from q2c.parties.models import Account
from q2c.payments import queries
from q2c.platform import links

PURPOSE = "payments.portal"
DAYS = 30


def link_token(account_id: int, *, days: int = DAYS) -> str:
    """A portal token for a customer account, valid ``days`` days."""
    return links.make_token(PURPOSE, account_id, clock.now() + timedelta(days=days))


def open_link(token: str) -> Account:
    """The account a token opens: ``links.tampered`` (403) / ``links.expired`` (403) otherwise."""
    claims = links.read_token(token, PURPOSE)
    account = Account.objects.select_related("entity").filter(pk=int(claims.object_id)).first()
    if account is None:
        raise NotFound("this link is not valid", code="links.tampered", field="token")
    return account


@dataclass(frozen=True)
class Statement:
    account: Account
    on: date
    items: list[queries.OpenItem]
    open_total: dict[str, Money]
    payments: list[Any]
    credit: dict[str, Money]


def statement(account: Account, on: date | None = None) -> Statement:
    day = on or clock.today(account.entity.time_zone or None)
    items = queries.open_receivables(account_id=account.pk, on=day)
    totals: dict[str, Money] = {}
    for item in items:
        totals[item.currency] = totals.get(item.currency, Money.zero(item.currency)) + item.open
    payments = list(queries.payments(account_id=account.pk)[:50])
    return Statement(account, day, items, totals, payments, queries.customer_credit(account.pk))


def statement_pdf(account: Account, on: date | None = None) -> bytes:
    from q2c.platform.pdf import render_pdf

    st = statement(account, on)
    html = render_to_string("payments/statement_pdf.html", {"st": st})
    return render_pdf(html, key=f"statement:{account.pk}:{st.on}", created=st.on, title=f"Statement {account.name}")
