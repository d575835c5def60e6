"""Event types the quotes app records (``platform.events``), each stamped with the business
clock's ``now()``: analytics derives pipeline movement and quote turnaround from them.

``quotes.quote.accepted`` is the one later apps react to: the contracts app registers a handler
for it in ``q2c.wiring`` and finds in the payload (or through
:func:`q2c.quotes.queries.accepted_quote`) everything a contract needs.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

OPPORTUNITY_CREATED = "quotes.opportunity.created"
OPPORTUNITY_UPDATED = "quotes.opportunity.updated"
OPPORTUNITY_STAGE_CHANGED = "quotes.opportunity.stage_changed"

QUOTE_CREATED = "quotes.quote.created"
QUOTE_UPDATED = "quotes.quote.updated"
QUOTE_REVISED = "quotes.quote.revised"
QUOTE_PRIMARY_CHANGED = "quotes.quote.primary_changed"
QUOTE_SUBMITTED = "quotes.quote.submitted"
QUOTE_APPROVED = "quotes.quote.approved"
QUOTE_RETURNED_TO_DRAFT = "quotes.quote.returned_to_draft"
QUOTE_SENT = "quotes.quote.sent"
QUOTE_ACCEPTED = "quotes.quote.accepted"
QUOTE_REJECTED = "quotes.quote.rejected"
QUOTE_EXPIRED = "quotes.quote.expired"
QUOTE_WITHDRAWN = "quotes.quote.withdrawn"

APPROVAL_REQUESTED = "quotes.approval.requested"
APPROVAL_DECIDED = "quotes.approval.decided"  # one approver's decision on one step
APPROVAL_STEP_COMPLETED = "quotes.approval.step_completed"
APPROVAL_COMPLETED = "quotes.approval.completed"  # the request approved, rejected or voided

RULE_SAVED = "quotes.approval_rule.saved"
RULE_DELETED = "quotes.approval_rule.deleted"
TEAM_SAVED = "quotes.team.saved"
STAGE_SETTING_CHANGED = "quotes.stage_setting.changed"

ALL = (
    OPPORTUNITY_CREATED,
    OPPORTUNITY_UPDATED,
    OPPORTUNITY_STAGE_CHANGED,
    QUOTE_CREATED,
    QUOTE_UPDATED,
    QUOTE_REVISED,
    QUOTE_PRIMARY_CHANGED,
    QUOTE_SUBMITTED,
    QUOTE_APPROVED,
    QUOTE_RETURNED_TO_DRAFT,
    QUOTE_SENT,
    QUOTE_ACCEPTED,
    QUOTE_REJECTED,
    QUOTE_EXPIRED,
    QUOTE_WITHDRAWN,
    APPROVAL_REQUESTED,
    APPROVAL_DECIDED,
    APPROVAL_STEP_COMPLETED,
    APPROVAL_COMPLETED,
    RULE_SAVED,
    RULE_DELETED,
    TEAM_SAVED,
    STAGE_SETTING_CHANGED,
)
