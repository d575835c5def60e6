"""q2c simulation."""
