"""Read side of cash application: bank accounts with their settings, imported files, lines by
state (the workbench queue), one line with its proposal, alternatives and applications, open
invoices to apply a line to, matching runs.

Must not import any q2c app above ``payments``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Case, F, Q, QuerySet, When

from q2c.core.money import Money
from q2c.invoicing.models import Invoice
from q2c.parties.models import Account
from q2c.parties.models import BankAccount as SellerBankAccount
from q2c.payments.cash import errors
from q2c.payments.cash.models import (
    UNRESOLVED,
    BankLine,
    CashAccount,
    CashApplication,
    LineState,
    MatchRun,
    StatementFile,
)
from q2c.payments.cash.services.matching import OPEN

STATES = [s.value for s in LineState]


def bank_accounts() -> list[dict[str, Any]]:
    settings = {row.bank_account_id: row for row in CashAccount.objects.all()}
    out = []
    for account in SellerBankAccount.objects.order_by("entity_id", "id"):
        row = settings.get(account.pk)
        out.append(
            {
                "bank_account_id": account.pk,
                "entity_id": account.entity_id,
                "iban": account.iban,
                "label": account.label or account.bank_name,
                "currency": account.currency,
                "fee_tolerance": str(row.fee_tolerance.amount)
                if row
                else str(Money(0, account.currency).round().amount),
                "auto_threshold": row.auto_threshold if row else 90,
                "csv_mapping": (row.csv_mapping or None) if row else None,
            }
        )
    return out


def files() -> QuerySet[StatementFile]:
    return StatementFile.objects.order_by("-id")


def runs() -> QuerySet[MatchRun]:
    return MatchRun.objects.order_by("-id")


def lines(state: str | None = None, *, search: str = "") -> QuerySet[BankLine]:
    """Lines in ``state`` (``open``: proposed, unidentified and new — the workbench queue)."""
    query = BankLine.objects.all()
    if state == "open":
        query = query.filter(state__in=[s.value for s in UNRESOLVED])
    elif state:
        if state not in STATES:
            raise errors.CashInvalid(f"state is open or one of {', '.join(STATES)}", field="state")
        query = query.filter(state=state)
    if search:
        query = query.filter(
            Q(remittance__icontains=search)
            | Q(payer_name__icontains=search)
            | Q(payer_iban__icontains=search.replace(" ", ""))
        )
    return query.order_by("-booking_date", "-id")


def line(line_id: int) -> BankLine:
    found = BankLine.objects.filter(pk=line_id).first()
    if found is None:
        raise errors.CashNotFound(f"no bank line {line_id}", field="line_id")
    return found


def applications(line_id: int) -> list[CashApplication]:
    return list(CashApplication.objects.filter(line_id=line_id).order_by("id"))


def money_text(minor: int, currency: str) -> str:
    return str(Money.from_minor(int(minor), currency).amount)


def proposal_out(data: dict[str, Any] | None) -> dict[str, Any] | None:
    """A stored proposal with decimal amounts for people and clients."""
    if not data:
        return None
    currency = data["currency"]
    customer_id = data.get("customer_id")
    name = Account.objects.filter(pk=customer_id or 0).values_list("name", flat=True).first() or ""
    return {
        "customer_id": customer_id,
        "customer": name,
        "confidence": data["confidence"],
        "currency": currency,
        "fee": money_text(data["fee_minor"], currency),
        "unapplied": money_text(data["unapplied_minor"], currency),
        "applications": [
            {
                "invoice_id": a["invoice_id"],
                "number": a["number"],
                "amount": money_text(a["amount_minor"], currency),
                "fee": money_text(a["fee_minor"], currency),
            }
            for a in data["applications"]
        ],
        "reasons": data["reasons"],
    }


def line_out(row: BankLine, *, detail: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.pk,
        "bank_account_id": row.bank_account_id,
        "statement_id": row.statement_id,
        "state": row.state,
        "currency": row.currency,
        "amount": str(row.amount.amount),
        "booking_date": row.booking_date,
        "value_date": row.value_date,
        "booking_status": row.booking_status,
        "reversal": row.reversal,
        "remittance": row.remittance,
        "references": list(row.references or []),
        "payer_name": row.payer_name,
        "payer_iban": row.payer_iban,
        "end_to_end_id": row.end_to_end_id,
        "bank_reference": row.bank_reference,
        "confidence": row.confidence,
        "reasons": list(row.reasons or []),
        "customer_id": row.customer_id,
        "unapplied": str(row.unapplied.amount),
        "resolved_by": row.resolved_by,
        "resolved_at": row.resolved_at,
    }
    if detail:
        out["proposal"] = proposal_out(row.proposal)
        out["alternatives"] = [proposal_out(p) for p in row.alternatives or []]
        out["applications"] = [
            {
                "invoice_id": a.invoice_id,
                "number": a.invoice_number,
                "amount": str(a.amount.amount),
                "fee": str(a.fee.amount),
                "how": a.how,
                "confidence": a.confidence,
                "reasons": a.reasons,
                "payment_id": a.payment_id,
                "created_by": a.created_by,
            }
            for a in applications(row.pk)
        ]
    return out


def open_invoices(
    line_row: BankLine, *, search: str = "", customer_id: int | None = None, limit: int = 25
) -> list[dict[str, Any]]:
    """Open invoices in the line's currency to apply it to (by number or customer name), those
    whose open amount equals the line's first, then by due date."""
    entity_id = (
        SellerBankAccount.objects.filter(pk=line_row.bank_account_id)
        .values_list("entity_id", flat=True)
        .first()
    )
    query = Invoice.objects.filter(entity_id=entity_id, status__in=OPEN, currency=line_row.currency)
    if customer_id is not None:
        query = query.filter(account_id=customer_id)
    if search:
        accounts = Account.objects.filter(entity_id=entity_id, name__icontains=search).values("id")
        query = query.filter(Q(number__icontains=search) | Q(account_id__in=accounts))
    # Invoices whose open amount is exactly the line's come first: the likeliest suggestion.
    open_minor = F("total_minor") - F("paid_minor") - F("credited_minor") - F("written_off_minor")
    exact = Case(When(open_amount=int(line_row.amount_minor), then=0), default=1)  # type: ignore[attr-defined]
    rows = query.annotate(open_amount=open_minor, exact=exact).order_by("exact", "due_date", "id").values_list(
        "id",
        "number",
        "account_id",
        "due_date",
        "total_minor",
        "paid_minor",
        "credited_minor",
        "written_off_minor",
        "currency",
    )[:limit]
    names = dict(Account.objects.filter(pk__in={r[2] for r in rows}).values_list("id", "name"))
    return [
        {
            "invoice_id": pk,
            "number": number,
            "customer_id": account_id,
            "customer": names.get(account_id, ""),
            "due_date": due,
            "open": money_text(total - paid - credited - written_off, currency),
            "currency": currency,
        }
        for pk, number, account_id, due, total, paid, credited, written_off, currency in rows
    ]
