"""Errors of the quotes app, with stable codes (``quotes.<reason>``).

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from q2c.core.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError

STALE = "quotes.stale"  # optimistic locking: someone saved in between (409)
NOT_EDITABLE = "quotes.not_editable"  # accepted, rejected, expired or withdrawn (409)
OWN_QUOTE = "quotes.own_quote"  # approving one's own quote (403)
NOT_APPROVER = "quotes.not_approver"  # not an approver of this step (403)
CONFIGURATION = "quotes.configuration_errors"  # submitting with configuration errors (422)
ALREADY_DECIDED = "quotes.already_decided"  # second acceptance or rejection (409)
SUPERSEDED = "quotes.superseded"  # a newer version exists (409)
NOT_PRIMARY = "quotes.not_primary"  # only the primary version is sent or accepted (409)
LINK_NOT_CURRENT = "quotes.link_not_current"  # the document behind the link was replaced (409)
PAST_VALIDITY = "quotes.past_validity"  # valid_until before today (422 on send, 409 on accept)
NO_RECIPIENT = "quotes.no_recipient"  # nobody to send the link to (422)
NO_LINES = "quotes.no_lines"


class QuoteNotFound(NotFound):
    default_code = "quotes.not_found"


class QuoteInvalid(ValidationError):
    default_code = "quotes.invalid"


class QuoteConflict(Conflict):
    default_code = "quotes.conflict"


class QuoteForbidden(PermissionDenied):
    default_code = "quotes.forbidden"


class LinkInvalid(NotFound):
    """A customer link that was tampered with, or names nothing (404: nothing is at this link)."""

    default_code = "links.tampered"


class LinkExpired(DomainError):
    """A customer link past its expiry (410 Gone: it worked once, it will not again)."""

    status = 410
    default_code = "links.expired"
