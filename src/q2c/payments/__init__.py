"""q2c payments."""
