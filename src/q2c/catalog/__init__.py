"""q2c catalog."""
