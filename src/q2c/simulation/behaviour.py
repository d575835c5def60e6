"""How the simulated buyers behave — pure functions of a ``random.Random`` and plain numbers.

Documented in docs/simulation.md; the numbers here are the model's parameters. Probabilities are
floats (they are chances, not money); every amount the simulation books goes through the apps'
services as ``Decimal``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Segment:
    name: str
    share: int  # weight among new customers
    seats: tuple[int, int]  # seats bought on a first deal (uniform)
    pro_share: float  # chance the deal is for Professional seats
    support: float  # chance of yearly premium support
    appliances: tuple[int, int]  # edge appliances on a first deal (0 = none)
    usage_calls: tuple[int, int]  # monthly API calls (uniform)
    pays_late: float  # chance an invoice is paid after its due date
    late_days: tuple[int, int]  # days late when late
    early_days: tuple[int, int]  # days before the due date when on time
    short_pays: float  # chance a transfer arrives short by a bank fee
    disputes: float  # chance an invoice is disputed
    never_pays: float  # chance an invoice is never paid (goes to collections)
    methods: tuple[tuple[str, int], ...]  # how invoices are paid (weights)
    upsell: float  # monthly chance of an add-on deal
    downgrade: float  # monthly chance of removing seats
    churn: float  # chance of not renewing at term end


SEGMENTS: dict[str, Segment] = {
    "enterprise": Segment(
        "enterprise", 15, (80, 300), 0.6, 0.8, (2, 6), (400_000, 3_000_000),
        pays_late=0.45, late_days=(5, 40), early_days=(0, 3), short_pays=0.02, disputes=0.02,
        never_pays=0.0, methods=(("transfer", 90), ("direct_debit", 10)),
        upsell=0.06, downgrade=0.01, churn=0.08,
    ),
    "mid_market": Segment(
        "mid_market", 35, (20, 80), 0.35, 0.4, (0, 2), (80_000, 600_000),
        pays_late=0.25, late_days=(3, 25), early_days=(0, 10), short_pays=0.05, disputes=0.01,
        never_pays=0.005, methods=(("transfer", 60), ("direct_debit", 25), ("card", 15)),
        upsell=0.04, downgrade=0.02, churn=0.15,
    ),
    "smb": Segment(
        "smb", 50, (3, 20), 0.15, 0.1, (0, 1), (5_000, 150_000),
        pays_late=0.2, late_days=(2, 45), early_days=(0, 5), short_pays=0.03, disputes=0.01,
        never_pays=0.02, methods=(("card", 55), ("direct_debit", 25), ("transfer", 20)),
        upsell=0.03, downgrade=0.03, churn=0.25,
    ),
}  # fmt: skip

# Sales: leads per working day per 100 customers in the market, and how deals move.
LEADS_PER_DAY_PER_100 = 0.9
DAYS_TO_SUBMIT = (0, 2)
DAYS_TO_DECIDE = (2, 15)  # the buyer's time between sending and answering
REP_SKILL = {"rita": 0.2, "rafael": 0.0, "sophie": 0.35, "tom": -0.1, "priya": 0.25}
MANAGER_REJECTS = 0.08  # chance a manager refuses a discount that needs approval


def discount_percent(rng: random.Random, segment: Segment) -> int:
    """The line discount a rep offers: bigger customers haggle harder."""
    base = {"enterprise": 14, "mid_market": 8, "smb": 4}[segment.name]
    return max(0, min(30, round(rng.gauss(base, 5))))


def win_probability(discount: float, deal_size_eur: float, rep: str, segment: Segment) -> float:
    """Chance the buyer accepts: rises with the discount (with diminishing returns), falls with
    the deal's size, and depends on the rep's skill and the segment.

    logit p = 0.3 + 0.09·d − 0.0018·d² − 0.35·ln(size / 10,000) + skill(rep) + bias(segment)
    """
    bias = {"enterprise": -0.2, "mid_market": 0.0, "smb": 0.25}[segment.name]
    size = max(deal_size_eur, 1.0) / 10_000.0
    logit = 0.3 + 0.09 * discount - 0.0018 * discount * discount - 0.35 * math.log(size)
    logit += REP_SKILL.get(rep, 0.0) + bias
    return 1.0 / (1.0 + math.exp(-logit))


def payment_day_offset(rng: random.Random, segment: Segment) -> int | None:
    """Days after the due date a customer pays (negative: early); ``None``: never."""
    if rng.random() < segment.never_pays:
        return None
    if rng.random() < segment.pays_late:
        return rng.randint(*segment.late_days)
    return -rng.randint(*segment.early_days)


def payment_method(rng: random.Random, segment: Segment) -> str:
    methods, weights = zip(*segment.methods, strict=True)
    return rng.choices(methods, weights)[0]


def reference_quality(rng: random.Random) -> str:
    """What the payer writes on a transfer: the invoice number (most), the RF creditor reference,
    the number mistyped, or nothing at all."""
    return rng.choices(("number", "rf", "typo", "none"), (70, 15, 8, 7))[0]
