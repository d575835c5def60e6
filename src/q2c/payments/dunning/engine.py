"""Which dunning step an open invoice gets on a business date.

A policy is a list of steps, each at ``offset_days`` after the due date (reminder, second reminder
with a late fee or interest, service suspension, final notice, hand-over to collections). The daily
job calls :func:`due_steps` for every open item with the steps already done and gets back the
steps to carry out now:

- an invoice still open on a step's date gets that step once (a step already done never repeats);
- while a dispute or a promise to pay is open the item is paused and gets nothing; once the
  promise lapses or the dispute closes, the steps that fell due meanwhile are not all sent: only
  the most advanced step due is carried out and the earlier ones are recorded as skipped, so the
  customer never receives a stale first reminder after a final notice;
- catching up missed days in order gives the same result as running every day, because each
  step is taken at most once and only when its date has come.

Statutory interest (:func:`late_interest`) is computed to the day: principal × annual rate ×
days ÷ 365 (actual/365, as German courts apply BGB §288), rounded once to the minor unit, half-up.

Imports only ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise

from q2c.core.errors import ValidationError
from q2c.core.money import Money


class DunningError(ValidationError):
    default_code = "dunning.invalid"


class Action(StrEnum):
    REMINDER = "reminder"
    SECOND_REMINDER = "second_reminder"
    SUSPEND_SERVICE = "suspend_service"
    FINAL_NOTICE = "final_notice"
    COLLECTIONS = "collections"


@dataclass(frozen=True, slots=True)
class Step:
    key: str
    offset_days: int
    action: Action
    fee: Money | None = None
    charge_interest: bool = False
    template: str = ""


@dataclass(frozen=True, slots=True)
class Policy:
    """Steps in strictly increasing order of days after the due date, each key once."""

    name: str
    steps: tuple[Step, ...]
    interest_rate: Decimal = Decimal(0)  # annual, e.g. Decimal("0.1127") for 11.27 %

    def __post_init__(self) -> None:
        if not self.steps:
            raise DunningError("a dunning policy needs at least one step", field="steps")
        keys = [s.key for s in self.steps]
        if len(set(keys)) != len(keys):
            raise DunningError("step keys must be unique", code="dunning.duplicate_step", field="steps")
        offsets = [s.offset_days for s in self.steps]
        if any(o < 0 for o in offsets):
            raise DunningError(
                "steps start on or after the due date", code="dunning.negative_offset", field="steps"
            )
        if any(b <= a for a, b in pairwise(offsets)):
            raise DunningError(
                "steps overlap: each step must come strictly after the previous one",
                code="dunning.overlapping_steps",
                field="steps",
            )
        if self.interest_rate < 0:
            raise DunningError("the interest rate cannot be negative", field="interest_rate")


@dataclass(frozen=True, slots=True)
class OpenItem:
    invoice_id: int
    due_date: date
    open_amount: Money
    done: frozenset[str] = frozenset()  # keys of steps carried out or skipped
    disputed: bool = False
    promise_until: date | None = None  # a promise to pay pauses dunning up to and including this date


@dataclass(frozen=True, slots=True)
class Decision:
    invoice_id: int
    step: Step | None  # the step to carry out now, if any
    skipped: tuple[Step, ...] = ()  # earlier steps that fell due while paused or missed
    paused_by: str | None = None  # "dispute" | "promise" when paused


def due_steps(policy: Policy, item: OpenItem, on: date) -> Decision:
    """The step ``item`` gets on business date ``on`` under ``policy``."""
    if item.open_amount.amount <= 0:
        return Decision(item.invoice_id, None)
    if item.disputed:
        return Decision(item.invoice_id, None, paused_by="dispute")
    if item.promise_until is not None and on <= item.promise_until:
        return Decision(item.invoice_id, None, paused_by="promise")
    overdue = (on - item.due_date).days
    pending = [s for s in policy.steps if s.offset_days <= overdue and s.key not in item.done]
    if not pending:
        return Decision(item.invoice_id, None)
    # Only the most advanced step is taken; earlier ones that fell due meanwhile are skipped.
    return Decision(item.invoice_id, pending[-1], skipped=tuple(pending[:-1]))


def late_interest(principal: Money, annual_rate: Decimal, start: date, end: date) -> Money:
    """Interest on ``principal`` for the days in ``[start, end)``, actual/365, rounded half-up."""
    if end < start:
        raise DunningError(
            "interest period ends before it starts", code="dunning.reversed_period", field="end"
        )
    if annual_rate < 0:
        raise DunningError("the interest rate cannot be negative", field="interest_rate")
    days = (end - start).days
    return (principal * annual_rate * days / 365).round()


def statutory_rate_de(base_rate: Decimal, *, business: bool) -> Decimal:
    """German statutory default interest (BGB §288): base rate + 9 points between businesses,
    + 5 points when a consumer is involved."""
    return base_rate + (Decimal("0.09") if business else Decimal("0.05"))


def plan(policy: Policy, items: Sequence[OpenItem], on: date) -> list[Decision]:
    """Decisions for many items at once (the daily job's bulk call); items with nothing to do are
    left out unless paused."""
    out = []
    for item in items:
        decision = due_steps(policy, item, on)
        if decision.step is not None or decision.paused_by:
            out.append(decision)
    return out
