"""Use cases of invoicing: the only code that writes its tables, one transaction each.

- drafts: ``create_draft``, ``replace_lines``, ``discard_draft``;
- issue: ``issue`` (one draft: number, tax, rate, due date, documents, posting) and
  ``issue_bulk`` (a bill run's batch of priced invoices), ``legal_problems``, ``tax_context``;
- settle: ``void``, ``write_off``, ``apply_payment``, ``unapply_payment``;
- credit: ``credit`` (full or partial credit notes with a reason code), ``reissue``;
- rates: ``set_rate``, ``import_rates``; settings: ``save_settings``, ``save_account_settings``.

Must not import any q2c app above ``invoicing``.
"""

from q2c.invoicing.services.credit import CreditLine, credit, reissue
from q2c.invoicing.services.drafts import create_draft, discard_draft, replace_lines
from q2c.invoicing.services.issue import (
    BulkInvoice,
    Issued,
    Prepared,
    base_amounts,
    issue,
    issue_bulk,
    legal_problems,
    prepare_bulk,
    render_and_store,
    tax_context,
    write_lines,
    write_prepared,
)
from q2c.invoicing.services.rates import import_rates, set_rate
from q2c.invoicing.services.settings import save_account_settings, save_settings
from q2c.invoicing.services.settle import apply_payment, unapply_payment, void, write_off

__all__ = [
    "BulkInvoice",
    "CreditLine",
    "Issued",
    "Prepared",
    "apply_payment",
    "base_amounts",
    "create_draft",
    "credit",
    "discard_draft",
    "import_rates",
    "issue",
    "issue_bulk",
    "legal_problems",
    "prepare_bulk",
    "reissue",
    "render_and_store",
    "replace_lines",
    "save_account_settings",
    "save_settings",
    "set_rate",
    "tax_context",
    "unapply_payment",
    "void",
    "write_lines",
    "write_off",
    "write_prepared",
]
