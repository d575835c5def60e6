"""Clause texts with variables, and the plain-text contract document assembled from them.

A clause body names variables as ``{{ name }}`` (``{{ payment_terms_days }}``, ``{{ governing_law }}``
…, see :data:`VARIABLES`). Rendering substitutes each with the contract's value as plain text —
no template language runs, so a clause cannot execute anything, and HTML escaping happens where
the text is shown. An unknown variable is refused when the clause is saved (:func:`check_body`),
so a document never shows a blank where a term should be.

:func:`assemble` builds the document text of one contract version from its header, its lines and
its clauses, in a fixed layout: the same inputs give the same text (its SHA-256 is the version's
document hash before a PDF exists), and the redline compares these texts.

Must not import Django or any q2c package other than ``q2c.core`` (and the plain error classes of
``q2c.contracts.errors``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from q2c.contracts.errors import ContractInvalid

_VARIABLE = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")

#: The variables a clause may use, with what each stands for.
VARIABLES: Mapping[str, str] = {
    "seller_name": "the selling legal entity",
    "customer_name": "the customer",
    "contract_number": "the contract number",
    "start_date": "first day of the term (YYYY-MM-DD)",
    "end_date": "last day of the term (the day before the exclusive end)",
    "term_months": "length of the term in months",
    "payment_terms_days": "days to pay an invoice",
    "billing_frequency": "how often recurring charges are invoiced",
    "currency": "contract currency",
    "governing_law": "the law that governs the contract",
    "notice_days": "days of notice for cancellation or non-renewal",
    "renewal_uplift_percent": "price increase on renewal, in percent",
    "auto_renew": "'renews automatically' or 'does not renew automatically'",
    "cancellable": "'may not be cancelled' or 'may be cancelled' during the term",
}


class ClauseInvalid(ContractInvalid):
    default_code = "contracts.clause_invalid"


def variables_in(body: str) -> list[str]:
    """The variable names a body uses, in order of first use."""
    return list(dict.fromkeys(_VARIABLE.findall(body)))


def check_body(body: str, *, field: str = "body") -> str:
    """Normalise a clause body (line ends, outer blank space) and refuse unknown variables."""
    if not isinstance(body, str):
        raise ClauseInvalid("a clause body is text", code="contracts.clause_invalid", field=field)
    text = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not text:
        raise ClauseInvalid("a clause body is required", code="contracts.required", field=field)
    if len(text) > 20000:
        raise ClauseInvalid(
            "a clause body has at most 20,000 characters", code="contracts.clause_too_long", field=field
        )
    if any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise ClauseInvalid(
            "the clause contains control characters", code="contracts.clause_invalid", field=field
        )
    unknown = [name for name in variables_in(text) if name not in VARIABLES]
    if unknown:
        raise ClauseInvalid(
            f"unknown variable '{unknown[0]}' (known: {', '.join(VARIABLES)})",
            code="contracts.unknown_variable",
            field=field,
        )
    return text


def render(body: str, values: Mapping[str, Any]) -> str:
    """``body`` with each ``{{ name }}`` replaced by ``values[name]`` as text."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ClauseInvalid(
                f"no value for variable '{name}'", code="contracts.unknown_variable", field="body"
            )
        return str(values[name])

    return _VARIABLE.sub(value, body)


@dataclass(frozen=True, slots=True)
class DocumentClause:
    key: str
    title: str
    text: str  # rendered, as negotiated


@dataclass(frozen=True, slots=True)
class DocumentLine:
    description: str
    quantity: str
    unit_price: str
    period: str
    service: str


def assemble(
    *,
    title: str,
    parties: Sequence[str],
    facts: Sequence[tuple[str, str]],
    lines: Sequence[DocumentLine],
    clauses: Sequence[DocumentClause],
) -> str:
    """The document text: title, parties, key terms, the schedule of lines, numbered clauses."""
    out = [title, "", "Between " + " and ".join(parties) + ".", "", "Key terms"]
    out += [f"- {label}: {value}" for label, value in facts]
    out += ["", "Schedule of products and services"]
    if not lines:
        out.append("- (none)")
    for line in lines:
        price = f" at {line.unit_price}" if line.unit_price else ""
        period = f" {line.period}" if line.period else ""
        out.append(f"- {line.quantity} × {line.description}{price}{period}; service {line.service}")
    for i, clause in enumerate(clauses, start=1):
        out += ["", f"{i}. {clause.title}", clause.text]
    return "\n".join(out) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
