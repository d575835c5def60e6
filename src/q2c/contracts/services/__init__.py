"""Use cases of contracts: the only code that writes its tables, one transaction each.

- creation: ``create_contract(NewContract, actor=…)`` (the QuoteAccepted handler calls it);
- documents: ``save_clause``, ``revise_document``, ``decide_version``, ``send_for_signature``,
  ``sign``, ``version_for_token``, ``render_version_pdf``;
- amendments: ``amend``, ``apply_quoted_amendment``, ``rebase_amendment``, ``withdraw_amendment``;
- lifecycle: ``cancel``, ``create_renewal_quote``, ``end_term``, ``run_daily`` (the daily job);
- settings: ``save_settings``, ``set_product_policy``.

Must not import any q2c app above ``invoicing``.
"""

from q2c.contracts.services.amendments import (
    amend,
    apply_quoted_amendment,
    delta_lines,
    rebase_amendment,
    withdraw_amendment,
)
from q2c.contracts.services.creation import NewContract, NewContractLine, SignatureEvidence, create_contract
from q2c.contracts.services.documents import (
    SIGN_PURPOSE,
    decide_version,
    render_version_pdf,
    revise_document,
    save_clause,
    send_for_signature,
    sign,
    version_for_token,
)
from q2c.contracts.services.lifecycle import cancel, create_renewal_quote, end_term, renewal_plan, run_daily
from q2c.contracts.services.settings import save_settings, set_product_policy

__all__ = [
    "SIGN_PURPOSE",
    "NewContract",
    "NewContractLine",
    "SignatureEvidence",
    "amend",
    "apply_quoted_amendment",
    "cancel",
    "create_contract",
    "create_renewal_quote",
    "decide_version",
    "delta_lines",
    "end_term",
    "rebase_amendment",
    "render_version_pdf",
    "renewal_plan",
    "revise_document",
    "run_daily",
    "save_clause",
    "save_settings",
    "send_for_signature",
    "set_product_policy",
    "sign",
    "version_for_token",
    "withdraw_amendment",
]
