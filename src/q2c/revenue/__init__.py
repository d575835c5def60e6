"""q2c revenue."""
