"""Use cases of the quotes app: the only code that writes its tables, one transaction each.

Other apps and the composition root call these; the API and the pages are thin layers over them.

- opportunities: ``create_opportunity``, ``update_opportunity``, ``move`` (stage), ``set_probability``,
  ``save_team``;
- quotes: ``create_quote``, ``update_quote`` (optimistic locking), ``preview``, ``revise_quote``,
  ``make_primary``, ``withdraw_quote``;
- approvals: ``save_rule``, ``delete_rule``, ``submit_quote``, ``decide``, ``recall``;
- sending and acceptance: ``send_quote``, ``preview_pdf``, ``open_link``, ``accept_quote``,
  ``reject_quote``, ``expire_quotes`` (the daily job).

Must not import any q2c app above ``catalog``.
"""

from q2c.quotes.services.acceptance import accept_quote, expire_quotes, open_link, reject_quote
from q2c.quotes.services.approvals import decide, delete_rule, recall, save_rule, submit_quote
from q2c.quotes.services.opportunities import (
    create_opportunity,
    get_opportunity,
    move,
    probabilities,
    save_team,
    set_probability,
    update_opportunity,
)
from q2c.quotes.services.quotes import (
    create_quote,
    get_quote,
    make_primary,
    preview,
    revise_quote,
    update_quote,
    withdraw_quote,
)
from q2c.quotes.services.sending import LINK_PURPOSE, Sent, preview_pdf, send_quote

__all__ = [
    "LINK_PURPOSE",
    "Sent",
    "accept_quote",
    "create_opportunity",
    "create_quote",
    "decide",
    "delete_rule",
    "expire_quotes",
    "get_opportunity",
    "get_quote",
    "make_primary",
    "move",
    "open_link",
    "preview",
    "preview_pdf",
    "probabilities",
    "recall",
    "reject_quote",
    "revise_quote",
    "save_rule",
    "save_team",
    "send_quote",
    "set_probability",
    "submit_quote",
    "update_opportunity",
    "update_quote",
    "withdraw_quote",
]
