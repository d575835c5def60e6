"""Errors of the contracts app, with stable codes (``contracts.<reason>``).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, NotFound, PermissionDenied, ValidationError

STALE = "contracts.stale"  # optimistic locking: someone changed the contract in between (409)
NOT_ACTIVE = "contracts.not_active"  # amending or cancelling a contract that is not active (409)
SUPERSEDED = "contracts.version_superseded"  # signing or approving a version that is not current (409)
NOTICE_PERIOD = "contracts.notice_period"  # cancelling inside the notice period without override
NON_CANCELLABLE = "contracts.non_cancellable"  # cancelling a non-cancellable contract mid-term
OVERRIDE_ROLE = "contracts.override_role"  # override asked by someone without the role (403)
NEEDS_APPROVAL = "contracts.needs_approval"  # sending a deviating version not approved (409)
NOT_NEGOTIABLE = "contracts.not_negotiable"  # changing the document after signature (409)
LINK_NOT_CURRENT = "contracts.link_not_current"  # the document behind the link was replaced (409)
AMENDMENT_PENDING = "contracts.amendment_pending"  # (no longer raised: several may wait at once)
AMENDMENT_STALE = "contracts.amendment_stale"  # its base version was changed where it applies (409)
NEXT_TERM_EXISTS = "contracts.next_term_exists"  # extending a term whose renewal is made (409)
NOT_PROPOSED = "contracts.not_proposed"  # re-basing an amendment that no longer waits (409)


class ContractNotFound(NotFound):
    default_code = "contracts.not_found"


class ContractInvalid(ValidationError):
    default_code = "contracts.invalid"


class ContractConflict(Conflict):
    default_code = "contracts.conflict"


class ContractForbidden(PermissionDenied):
    default_code = "contracts.forbidden"
