"""q2c contracts."""
