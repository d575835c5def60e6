"""q2c invoicing."""
