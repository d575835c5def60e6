"""q2c ledger."""
