"""The ledger's domain event types (recorded with ``q2c.platform.events.record``).

No ledger event is declared ``moves_money``: the ledger is where money movements are written, it
does not ask anyone to move money. Other apps may subscribe (from ``q2c/wiring.py``).
"""

from __future__ import annotations

BOOK_OPENED = "ledger.book_opened"
ACCOUNT_CREATED = "ledger.account_created"
ENTRY_POSTED = "ledger.entry_posted"
ENTRY_REVERSED = "ledger.entry_reversed"
PERIOD_CLOSED = "ledger.period_closed"
PERIOD_REOPENED = "ledger.period_reopened"

ALL = (BOOK_OPENED, ACCOUNT_CREATED, ENTRY_POSTED, ENTRY_REVERSED, PERIOD_CLOSED, PERIOD_REOPENED)
