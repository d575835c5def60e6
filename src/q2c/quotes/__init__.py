"""q2c quotes: opportunities, quotes and their versions, approvals, quote documents and customer
acceptance (layer 5).

May import ``q2c.core``, ``q2c.platform``, ``q2c.ledger``, ``q2c.parties``, ``q2c.tax`` and
``q2c.catalog``; never ``q2c.invoicing`` (a sibling) or any app above (contracts react to
``quotes.quote.accepted`` through a handler registered in ``q2c.wiring``).
"""
