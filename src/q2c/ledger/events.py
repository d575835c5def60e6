"""The ledger's domain event types (recorded with ``q2c.platform.events.record``).

No ledger event is declared ``moves_money``: the ledger is where money movements are written, it
does not ask anyone to move money. Other apps may subscribe (from ``q2c/wiring.py``).
"""

from __future__ import annotations

BOOK_OPENED = "ledger.book_opened"
ACCOUNT_CREATED = "ledger.account_created"
#: One entry posted (calls posting up to ``services.PER_ENTRY_EVENTS`` entries).
ENTRY_POSTED = "ledger.entry_posted"
#: A block of consecutive entry numbers posted by one batch (``first_seq`` … ``last_seq`` of an
#: entity and year): bulk runs record one per block instead of one per entry.
ENTRIES_POSTED = "ledger.entries_posted"
ENTRY_REVERSED = "ledger.entry_reversed"
PERIOD_CLOSED = "ledger.period_closed"
PERIOD_REOPENED = "ledger.period_reopened"

ALL = (
    BOOK_OPENED,
    ACCOUNT_CREATED,
    ENTRY_POSTED,
    ENTRIES_POSTED,
    ENTRY_REVERSED,
    PERIOD_CLOSED,
    PERIOD_REOPENED,
)
