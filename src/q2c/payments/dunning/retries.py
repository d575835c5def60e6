"""Which retries a failed card or direct-debit payment gets, by failure reason.

A rule maps ``(method, reason)`` to an action: ``retry`` at each of ``retry_days`` days after the
failure (insufficient funds → 3 and 7 days), ``ask_new_method`` (card expired, mandate revoked:
retrying cannot succeed, so the customer is asked for a new payment method at once), or
``none`` (hand the invoice to dunning). An unknown reason falls back to the method's ``*`` rule,
then to :data:`FALLBACK` (one retry after 3 days).

Pure Python: imports only ``q2c.core``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from itertools import pairwise

from q2c.core.errors import ValidationError

METHODS = ("card", "direct_debit")
MAX_RETRIES = 5
MAX_DAYS = 60


class RetryError(ValidationError):
    default_code = "dunning.invalid_retry_rule"


class RetryAction(StrEnum):
    RETRY = "retry"
    ASK_NEW_METHOD = "ask_new_method"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class RetryRule:
    method: str
    reason: str  # a failure reason, or "*" for any other
    action: RetryAction
    retry_days: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise RetryError(f"the method is one of {', '.join(METHODS)}", field="method")
        if not self.reason or len(self.reason) > 40:
            raise RetryError("a failure reason of 1 to 40 characters", field="reason")
        days = self.retry_days
        if self.action == RetryAction.RETRY:
            if not days or len(days) > MAX_RETRIES:
                raise RetryError(f"a retry rule needs 1 to {MAX_RETRIES} retry days", field="retry_days")
            if any(not isinstance(d, int) or isinstance(d, bool) or d < 1 or d > MAX_DAYS for d in days):
                raise RetryError(f"retry days are whole days from 1 to {MAX_DAYS}", field="retry_days")
            if any(b <= a for a, b in pairwise(days)):
                raise RetryError("retry days must be strictly increasing", field="retry_days")
        elif days:
            raise RetryError("only a retry rule has retry days", field="retry_days")


@dataclass(frozen=True, slots=True)
class PlannedRetry:
    attempt: int  # 1, 2, … (an ``ask_new_method`` request is attempt 1)
    action: RetryAction
    due_on: date


FALLBACK = RetryRule("card", "*", RetryAction.RETRY, (3,))

#: The payments app's methods as retry rules name them.
METHOD_OF = {"card": "card", "sepa_dd": "direct_debit"}

#: SEPA R-transaction reason codes (EPC SDD Rulebook, ISO 20022 ExternalStatusReason1Code) → reasons.
SEPA_REASONS = {
    "AM04": "insufficient_funds",  # insufficient funds
    "MS03": "insufficient_funds",  # reason not specified (retried like insufficient funds)
    "MD01": "mandate_revoked",  # no valid mandate
    "MD07": "account_closed",  # debtor deceased
    "AC04": "account_closed",  # account closed
    "AC06": "account_closed",  # account blocked
    "MS02": "refused_by_payer",  # refused by the debtor
    "MD06": "refused_by_payer",  # refund request by the debtor
}


def reason_of(method: str, code: str) -> str:
    """A failure reason from a payment's failure code (SEPA codes mapped, card codes as given)."""
    code = (code or "").strip()
    if method == "direct_debit" and code.upper() in SEPA_REASONS:
        return SEPA_REASONS[code.upper()]
    return code.lower()[:40] or "*"


#: The rules a seller starts with (each may be replaced per segment).
DEFAULT_RULES: tuple[RetryRule, ...] = (
    RetryRule("card", "insufficient_funds", RetryAction.RETRY, (3, 7)),
    RetryRule("card", "card_expired", RetryAction.ASK_NEW_METHOD),
    RetryRule("card", "card_declined", RetryAction.RETRY, (1, 4)),
    RetryRule("card", "processing_error", RetryAction.RETRY, (1,)),
    RetryRule("card", "stolen_card", RetryAction.ASK_NEW_METHOD),
    RetryRule("direct_debit", "insufficient_funds", RetryAction.RETRY, (3, 7)),
    RetryRule("direct_debit", "mandate_revoked", RetryAction.ASK_NEW_METHOD),
    RetryRule("direct_debit", "account_closed", RetryAction.ASK_NEW_METHOD),
    RetryRule("direct_debit", "refused_by_payer", RetryAction.NONE),
)


def rule_for(rules: Iterable[RetryRule], method: str, reason: str) -> RetryRule:
    """The rule for a failure: the exact reason, else the method's ``*`` rule, else :data:`FALLBACK`."""
    by_key: Mapping[tuple[str, str], RetryRule] = {(r.method, r.reason): r for r in rules}
    return by_key.get((method, reason)) or by_key.get((method, "*")) or FALLBACK


def plan_retries(rules: Iterable[RetryRule], method: str, reason: str, failed_on: date) -> list[PlannedRetry]:
    """What to do after a payment by ``method`` failed on ``failed_on`` for ``reason``."""
    rule = rule_for(rules, method, reason)
    if rule.action == RetryAction.RETRY:
        return [
            PlannedRetry(i, RetryAction.RETRY, failed_on + timedelta(days=d))
            for i, d in enumerate(rule.retry_days, start=1)
        ]
    if rule.action == RetryAction.ASK_NEW_METHOD:
        return [PlannedRetry(1, RetryAction.ASK_NEW_METHOD, failed_on)]
    return []
