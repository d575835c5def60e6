"""q2c — open-source quote-to-cash.

The package is laid out by stage of the business (see docs/architecture.md).
"""

__version__ = "0.1.0"
