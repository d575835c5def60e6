"""q2c quotes."""
