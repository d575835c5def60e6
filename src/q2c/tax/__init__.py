"""q2c tax."""
