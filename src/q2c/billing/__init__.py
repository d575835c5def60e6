"""q2c billing."""
