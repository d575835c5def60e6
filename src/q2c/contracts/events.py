"""Event types the contracts app records (``platform.events``), each stamped with the business
clock's ``now()``. Payloads are documented in docs/contracts.md.

Four of them are what later stages react to (handlers registered in ``q2c.wiring``):

- ``contracts.contract.activated`` (ContractActivated): the contract is signed and in force —
  orders ship goods and provision services, billing creates schedules, revenue identifies
  obligations. Carries every line with amounts and service dates.
- ``contracts.contract.amended`` (ContractAmended): an amendment was applied; carries the delta
  lines (positive: added; negative: reduced, with ``credit`` or ``at_renewal``) and the sale context.
- ``contracts.contract.renewed`` (ContractRenewed): a next-term contract took over; the new
  contract's own ``activated`` event follows in the same transaction.
- ``contracts.contract.cancelled`` (ContractCancelled): terminated from an effective date; carries
  the negative lines for what no longer runs.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

CONTRACT_CREATED = "contracts.contract.created"
VERSION_CREATED = "contracts.contract.version_created"
VERSION_DECIDED = "contracts.contract.version_decided"
SENT_FOR_SIGNATURE = "contracts.contract.sent_for_signature"
SIGNED = "contracts.contract.signed"
CONTRACT_ACTIVATED = "contracts.contract.activated"
AMENDMENT_PROPOSED = "contracts.amendment.proposed"
AMENDMENT_WITHDRAWN = "contracts.amendment.withdrawn"
AMENDMENT_REBASED = "contracts.amendment.rebased"
CONTRACT_AMENDED = "contracts.contract.amended"
RENEWAL_QUOTED = "contracts.contract.renewal_quoted"
RENEWAL_QUOTE_REFRESHED = "contracts.contract.renewal_quote_refreshed"
CONTRACT_RENEWED = "contracts.contract.renewed"
CONTRACT_EXPIRED = "contracts.contract.expired"
CONTRACT_CANCELLED = "contracts.contract.cancelled"
CLAUSE_SAVED = "contracts.clause.saved"
SETTINGS_CHANGED = "contracts.settings.changed"
POLICY_CHANGED = "contracts.product_policy.changed"

#: The events orders, billing and revenue consume.
LIFECYCLE = (CONTRACT_ACTIVATED, CONTRACT_AMENDED, CONTRACT_RENEWED, CONTRACT_CANCELLED)

ALL = (
    CONTRACT_CREATED,
    VERSION_CREATED,
    VERSION_DECIDED,
    SENT_FOR_SIGNATURE,
    SIGNED,
    CONTRACT_ACTIVATED,
    AMENDMENT_PROPOSED,
    AMENDMENT_WITHDRAWN,
    AMENDMENT_REBASED,
    CONTRACT_AMENDED,
    RENEWAL_QUOTED,
    RENEWAL_QUOTE_REFRESHED,
    CONTRACT_RENEWED,
    CONTRACT_EXPIRED,
    CONTRACT_CANCELLED,
    CLAUSE_SAVED,
    SETTINGS_CHANGED,
    POLICY_CHANGED,
)
