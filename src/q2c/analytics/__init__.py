"""q2c analytics."""
