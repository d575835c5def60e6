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
DAYS_TO_DECIDE = (2, 15)  # the buyer's time between sending and answering
MANAGER_REJECTS = 0.08  # chance a manager refuses a discount that needs approval


@dataclass(frozen=True)
class Rep:
    """How a rep sells: skill (added to the buyer's logit), discounting habit (points added to
    the segment's usual discount) and how many days a new quote waits before it is submitted."""

    skill: float
    habit: int
    days_to_submit: tuple[int, int]


REPS: dict[str, Rep] = {
    "sophie": Rep(skill=0.8, habit=-3, days_to_submit=(0, 1)),
    "priya": Rep(skill=0.4, habit=-2, days_to_submit=(0, 2)),
    "rita": Rep(skill=0.2, habit=0, days_to_submit=(1, 3)),
    "rafael": Rep(skill=-0.3, habit=5, days_to_submit=(1, 4)),
    "tom": Rep(skill=-0.7, habit=4, days_to_submit=(2, 9)),
}
UNKNOWN_REP = Rep(skill=0.0, habit=0, days_to_submit=(1, 3))

# Discounts: the segment's usual line discount (percent) before the rep's habit, and the spread.
SEGMENT_DISCOUNT = {"enterprise": 10, "mid_market": 7, "smb": 4}
DISCOUNT_SPREAD = 4

# The buyer's logit (docs/simulation.md "How buyers behave").
BASE_LOGIT = 1.6
DISCOUNT_SLOPE = 0.12  # per point of the deepest line discount …
DISCOUNT_CURVE = 0.004  # … less this times its square: the effect peaks at 15 %
SIZE_SLOPE = 0.7  # per unit of ln(deal size / 10,000 EUR)
SEGMENT_BIAS = {"enterprise": 0.4, "mid_market": 0.2, "smb": 0.0}
STALE_PER_DAY = 0.15  # per day from the quote's creation to its sending
HARDWARE = -0.8  # a quote with edge appliances needs a capital budget


def rep_of(login: str) -> Rep:
    return REPS.get(login, UNKNOWN_REP)


def discount_percent(rng: random.Random, segment: Segment, rep: str) -> int:
    """The line discount a rep offers on the seats: bigger customers haggle harder, and each rep
    has a habit of giving more or less than usual."""
    mean = SEGMENT_DISCOUNT[segment.name] + rep_of(rep).habit
    return max(0, min(30, round(rng.gauss(mean, DISCOUNT_SPREAD))))


def days_to_submit(rng: random.Random, rep: str) -> int:
    """Days a new quote waits before its rep submits it (some reps let quotes go stale)."""
    return rng.randint(*rep_of(rep).days_to_submit)


def win_probability(
    discount: float,
    deal_size_eur: float,
    rep: str,
    segment: Segment,
    *,
    days_to_send: float,
    hardware: bool,
) -> float:
    """Chance the buyer accepts a new deal: rises with the seats' discount (with diminishing
    returns), falls with the deal's size, with every day the quote waited before it was sent and
    when it holds hardware; depends on the rep's skill and the segment.

    logit p = 1.6 + 0.12·d − 0.004·d² − 0.7·ln(size / 10,000) + skill(rep) + bias(segment)
              − 0.15·days to send − 0.8·[hardware]
    """
    size = max(deal_size_eur, 1.0) / 10_000.0
    logit = BASE_LOGIT + DISCOUNT_SLOPE * discount - DISCOUNT_CURVE * discount * discount
    logit -= SIZE_SLOPE * math.log(size)
    logit += rep_of(rep).skill + SEGMENT_BIAS[segment.name]
    logit -= STALE_PER_DAY * max(days_to_send, 0.0)
    if hardware:
        logit += HARDWARE
    return 1.0 / (1.0 + math.exp(-logit))


def renewal_probability(segment: Segment) -> float:
    """Chance a customer renews at term end: its segment's churn decides, whatever the quote."""
    return 1.0 - segment.churn


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
