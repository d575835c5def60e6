"""q2c parties."""
