"""Revenue categories: each product names one, and the chart of accounts has one revenue account
per category (Revenue — subscriptions, … services, … hardware, … usage, … other)."""

from __future__ import annotations

from enum import StrEnum


class RevenueCategory(StrEnum):
    SUBSCRIPTIONS = "subscriptions"
    SERVICES = "services"
    HARDWARE = "hardware"
    USAGE = "usage"
    OTHER = "other"
