"""The states of opportunities, quotes and approvals, and the moves allowed between them.

Plain enums and transition tables (``q2c.core.statemachine``): a move the table does not list —
including repeating one already made — raises ``InvalidTransition`` (API 409) and changes nothing.

Must not import Django or any q2c package other than ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from q2c.core.statemachine import transition


class Stage(StrEnum):
    """Where an opportunity stands in the pipeline."""

    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"


OPEN_STAGES: tuple[Stage, ...] = (Stage.PROSPECTING, Stage.QUALIFICATION, Stage.PROPOSAL, Stage.NEGOTIATION)
CLOSED_STAGES: frozenset[Stage] = frozenset({Stage.CLOSED_WON, Stage.CLOSED_LOST})

#: Probability (percent) by stage unless the admin changes it (``quotes.StageSetting``).
DEFAULT_PROBABILITY: Mapping[Stage, Decimal] = MappingProxyType(
    {
        Stage.PROSPECTING: Decimal(10),
        Stage.QUALIFICATION: Decimal(20),
        Stage.PROPOSAL: Decimal(50),
        Stage.NEGOTIATION: Decimal(75),
        Stage.CLOSED_WON: Decimal(100),
        Stage.CLOSED_LOST: Decimal(0),
    }
)


def _open_moves(stage: Stage) -> frozenset[Stage]:
    # Deals move back as well as forward (a proposal goes back to qualification when the buyer
    # changes); closing is possible from any open stage. Closed deals stay closed: a lost deal
    # that comes back is a new opportunity, so the pipeline history stays honest.
    return frozenset(s for s in OPEN_STAGES if s is not stage) | CLOSED_STAGES


STAGE_TRANSITIONS: Mapping[Stage, Set[Stage]] = MappingProxyType(
    {
        **{s: _open_moves(s) for s in OPEN_STAGES},
        Stage.CLOSED_WON: frozenset(),
        Stage.CLOSED_LOST: frozenset(),
    }
)


class QuoteStatus(StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SENT = "sent"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


#: draft → in_review → approved → sent → accepted | rejected | expired, plus withdrawn.
#: draft → approved is submitting a quote no approval rule matches. in_review → draft is an
#: approval rejected (or an edit while in review); approved/sent → draft is an edit, which voids
#: the approvals and the sent document.
QUOTE_TRANSITIONS: Mapping[QuoteStatus, Set[QuoteStatus]] = MappingProxyType(
    {
        QuoteStatus.DRAFT: frozenset({QuoteStatus.IN_REVIEW, QuoteStatus.APPROVED, QuoteStatus.WITHDRAWN}),
        QuoteStatus.IN_REVIEW: frozenset({QuoteStatus.APPROVED, QuoteStatus.DRAFT, QuoteStatus.WITHDRAWN}),
        QuoteStatus.APPROVED: frozenset(
            {QuoteStatus.SENT, QuoteStatus.DRAFT, QuoteStatus.EXPIRED, QuoteStatus.WITHDRAWN}
        ),
        QuoteStatus.SENT: frozenset(
            {
                QuoteStatus.ACCEPTED,
                QuoteStatus.REJECTED,
                QuoteStatus.EXPIRED,
                QuoteStatus.DRAFT,
                QuoteStatus.WITHDRAWN,
            }
        ),
        QuoteStatus.ACCEPTED: frozenset(),
        QuoteStatus.REJECTED: frozenset(),
        QuoteStatus.EXPIRED: frozenset(),
        QuoteStatus.WITHDRAWN: frozenset(),
    }
)

#: States in which the quote's content may be changed (an edit of approved/sent goes to draft).
EDITABLE: frozenset[QuoteStatus] = frozenset(
    {QuoteStatus.DRAFT, QuoteStatus.IN_REVIEW, QuoteStatus.APPROVED, QuoteStatus.SENT}
)
#: States a daily run expires once the validity date has passed.
EXPIRABLE: frozenset[QuoteStatus] = frozenset({QuoteStatus.APPROVED, QuoteStatus.SENT})
#: Final states: nothing moves on from them.
FINAL: frozenset[QuoteStatus] = frozenset(
    {QuoteStatus.ACCEPTED, QuoteStatus.REJECTED, QuoteStatus.EXPIRED, QuoteStatus.WITHDRAWN}
)


class RequestStatus(StrEnum):
    """An approval request as a whole."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    VOID = "void"  # the quote was edited or withdrawn while (or after) it was reviewed


REQUEST_TRANSITIONS: Mapping[RequestStatus, Set[RequestStatus]] = MappingProxyType(
    {
        RequestStatus.PENDING: frozenset(
            {RequestStatus.APPROVED, RequestStatus.REJECTED, RequestStatus.VOID}
        ),
        # An approval stops counting once the quote it approved is changed.
        RequestStatus.APPROVED: frozenset({RequestStatus.VOID}),
        RequestStatus.REJECTED: frozenset(),
        RequestStatus.VOID: frozenset(),
    }
)


class StepStatus(StrEnum):
    """One step of an approval request."""

    WAITING = "waiting"  # a sequential step whose earlier steps are not approved yet
    PENDING = "pending"  # open for decisions
    APPROVED = "approved"
    REJECTED = "rejected"
    SKIPPED = "skipped"  # the request ended (rejected or void) before this step was decided


STEP_TRANSITIONS: Mapping[StepStatus, Set[StepStatus]] = MappingProxyType(
    {
        StepStatus.WAITING: frozenset({StepStatus.PENDING, StepStatus.SKIPPED}),
        StepStatus.PENDING: frozenset({StepStatus.APPROVED, StepStatus.REJECTED, StepStatus.SKIPPED}),
        StepStatus.APPROVED: frozenset(),
        StepStatus.REJECTED: frozenset(),
        StepStatus.SKIPPED: frozenset(),
    }
)


class StepMode(StrEnum):
    """How many of a step's approvers must approve."""

    ANY = "any"  # one approval approves the step
    ALL = "all"  # every approver must approve


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


def move_stage(current: Stage, target: Stage) -> Stage:
    return transition(STAGE_TRANSITIONS, current, target, what="opportunity")


def move_quote(current: QuoteStatus, target: QuoteStatus) -> QuoteStatus:
    return transition(QUOTE_TRANSITIONS, current, target, what="quote")


def move_request(current: RequestStatus, target: RequestStatus) -> RequestStatus:
    return transition(REQUEST_TRANSITIONS, current, target, what="approval")


def move_step(current: StepStatus, target: StepStatus) -> StepStatus:
    return transition(STEP_TRANSITIONS, current, target, what="approval_step")
