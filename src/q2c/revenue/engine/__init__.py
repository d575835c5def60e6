"""The pure revenue-recognition engine (ASC 606 / IFRS 15).

Owns: the transaction price (fixed, discounts, variable consideration with its constraint and
re-estimates, the financing component), stand-alone selling prices, allocation by relative SSP
(largest remainder), recognition patterns (point in time, ratable by the cumulative day method,
measured progress, milestones, usage), contract modifications (separate contract, termination and
new contract, cumulative catch-up — decided by ASC 606-10-25-12/13, overridable) and the monthly
schedule. Also the JSON preview format (:mod:`q2c.revenue.engine.preview`).

Entry points:

* :func:`compute` — a :class:`ContractSpec` in, a :class:`RevenueResult` out.
* :mod:`q2c.revenue.engine.ratable` — the fast path for bulk runs over plain ints and dates:
  :func:`ratable_to_date`, :func:`ratable_between`, :func:`ratable_schedule`,
  :func:`point_in_time_to_date`.
* :mod:`q2c.revenue.engine.bulk` — whole contracts of the common kind (fixed price, ratable and
  point-in-time obligations) over plain ints: :func:`~q2c.revenue.engine.bulk.schedule_simple`,
  :func:`~q2c.revenue.engine.bulk.allocate_simple`, :func:`~q2c.revenue.engine.bulk.recognised_between`.
* :func:`allocate_by_ssp` — relative-SSP allocation of minor units.

Must not import Django, nor any q2c package other than ``q2c.core`` (plain Python over plain data).
"""

from q2c.revenue.engine.allocation import Group, Target, allocate_by_ssp
from q2c.revenue.engine.compute import compute
from q2c.revenue.engine.errors import RevenueInputError
from q2c.revenue.engine.ratable import (
    point_in_time_to_date,
    ratable_between,
    ratable_schedule,
    ratable_schedule_minor,
    ratable_to_date,
    ratable_to_date_ord,
    round_div,
)
from q2c.revenue.engine.types import (
    SSP,
    Constraint,
    ContractSpec,
    Delivery,
    DiscountAllocation,
    Estimate,
    Financing,
    MeasuredProgress,
    Milestone,
    Milestones,
    Modification,
    Obligation,
    ObligationChange,
    Payment,
    PointInTime,
    ProgressPoint,
    Ratable,
    RevenueResult,
    Scenario,
    Usage,
    UsageAmount,
    VariableConsideration,
)

__all__ = [
    "SSP",
    "Constraint",
    "ContractSpec",
    "Delivery",
    "DiscountAllocation",
    "Estimate",
    "Financing",
    "Group",
    "MeasuredProgress",
    "Milestone",
    "Milestones",
    "Modification",
    "Obligation",
    "ObligationChange",
    "Payment",
    "PointInTime",
    "ProgressPoint",
    "Ratable",
    "RevenueInputError",
    "RevenueResult",
    "Scenario",
    "Target",
    "Usage",
    "UsageAmount",
    "VariableConsideration",
    "allocate_by_ssp",
    "compute",
    "point_in_time_to_date",
    "ratable_between",
    "ratable_schedule",
    "ratable_schedule_minor",
    "ratable_to_date",
    "ratable_to_date_ord",
    "round_div",
]
