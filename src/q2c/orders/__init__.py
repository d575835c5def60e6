"""q2c orders."""
