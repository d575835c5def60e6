"""Read side of contracts, shared by the pages and the API: lists with filters, one contract with
its versions, amendments, signatures and event timeline, the lines of any version, the redline
between any two versions, and the renewal status.

**Who reads which contract** is the quotes' rule (``q2c.quotes.access``), on the contract's
``owner_id`` (the user who sold it): ``admin``, ``finance`` and ``viewer`` read every contract; a
``sales_rep`` reads the contracts they own; a ``sales_manager`` their own and their teams'. A
contract the caller may not read answers 404, as a quote does (its existence is not revealed).
:func:`search` and :func:`get` take the caller (``user``) and apply it; ``user=None`` is the
system (services, jobs, the public signing link, which is authorised by its signed token).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Q, QuerySet

from q2c.contracts import redline
from q2c.contracts.domain import ContractStatus
from q2c.contracts.errors import ContractInvalid, ContractNotFound
from q2c.contracts.models import (
    Amendment,
    Clause,
    ClauseVersion,
    Contract,
    ContractLine,
    ContractVersion,
    Signature,
)
from q2c.core import clock
from q2c.platform.models import Event
from q2c.platform.roles import roles_of
from q2c.quotes import access as quote_access

SORTS: dict[str, tuple[str, ...]] = {
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
    "end": ("end_date", "id"),
    "-end": ("-end_date", "-id"),
    "number": ("number", "id"),
    "-number": ("-number", "-id"),
}


def visible(user: Any, rows: QuerySet[Contract]) -> QuerySet[Contract]:
    """The contracts of ``rows`` that ``user`` may read (None: the system, all of them)."""
    if user is None:
        return rows
    roles = roles_of(user)
    if roles & quote_access.READ_ALL:
        return rows
    if not roles & quote_access.SELLERS:
        return rows.none()
    owners = {int(user.pk)} | quote_access.team_member_ids(user)
    return rows.filter(owner_id__in=owners)


def search(
    *,
    user: Any,
    q: str = "",
    status: str = "",
    account_id: int | None = None,
    ending_before: date | None = None,
    sort: str = "-created",
) -> QuerySet[Contract]:
    if sort not in SORTS:
        raise ContractInvalid(
            f"sort is one of {', '.join(SORTS)}", code="contracts.invalid_sort", field="sort"
        )
    if status and status not in ContractStatus.__members__.values():
        raise ContractInvalid(
            f"status is one of {', '.join(ContractStatus)}", code="contracts.invalid_choice", field="status"
        )
    rows = visible(user, Contract.objects.select_related("account", "entity"))
    text = " ".join(q.split())
    if text:
        rows = rows.filter(
            Q(number__icontains=text) | Q(account__name__icontains=text) | Q(title__icontains=text)
        )
    if status:
        rows = rows.filter(status=status)
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    if ending_before is not None:
        rows = rows.filter(end_date__lt=ending_before)
    return rows.order_by(*SORTS[sort])


def get(contract_id: int, *, user: Any) -> Contract:
    """One contract the caller may read; 404 ``contracts.not_found`` when it does not exist or
    belongs to someone the caller may not see."""
    rows = visible(user, Contract.objects.select_related("account", "entity", "previous"))
    row = rows.filter(pk=contract_id).first()
    if row is None:
        raise ContractNotFound(f"no contract {contract_id}", code="contracts.not_found", field="contract_id")
    return row


def versions(contract: Contract) -> list[ContractVersion]:
    return list(
        ContractVersion.objects.filter(contract=contract)
        .select_related("amendment")
        .defer("pdf", "document_text")
        .order_by("number")
    )


def version(contract: Contract, number: int) -> ContractVersion:
    row = ContractVersion.objects.select_related("amendment").filter(contract=contract, number=number).first()
    if row is None:
        raise ContractNotFound(
            f"contract {contract.number} has no version {number}",
            code="contracts.no_version",
            field="version",
        )
    return row


def lines(version: ContractVersion) -> list[ContractLine]:
    return list(ContractLine.objects.filter(version=version).order_by("position"))


def amendments(contract: Contract) -> list[Amendment]:
    return list(Amendment.objects.filter(contract=contract).select_related("version").order_by("number"))


def amendment(contract: Contract, number: int) -> Amendment:
    row = Amendment.objects.select_related("version").filter(contract=contract, number=number).first()
    if row is None:
        raise ContractNotFound(
            f"contract {contract.number} has no amendment {number}",
            code="contracts.no_amendment",
            field="amendment",
        )
    return row


def signatures(contract: Contract) -> list[Signature]:
    return list(Signature.objects.filter(contract=contract).select_related("version").order_by("id"))


def events(contract: Contract) -> list[Event]:
    """Everything recorded about this contract, in order (the timeline)."""
    return list(
        Event.objects.filter(aggregate_type="contracts.contract", aggregate_id=str(contract.pk)).order_by(
            "seq"
        )
    )


def next_term(contract: Contract) -> Contract | None:
    return Contract.objects.filter(previous=contract).first()


@dataclass(frozen=True)
class Redline:
    a: ContractVersion
    b: ContractVersion
    chunks: list[redline.Chunk]

    @property
    def html(self) -> str:
        return redline.to_html(self.chunks)

    @property
    def stats(self) -> dict[str, int]:
        return redline.stats(self.chunks)


def compare(contract: Contract, a: int, b: int) -> Redline:
    """The word-level redline from version ``a`` to version ``b`` (any two, either order)."""
    first = ContractVersion.objects.filter(contract=contract, number=a).first()
    second = ContractVersion.objects.filter(contract=contract, number=b).first()
    if first is None:
        raise ContractNotFound(
            f"contract {contract.number} has no version {a}", code="contracts.no_version", field="a"
        )
    if second is None:
        raise ContractNotFound(
            f"contract {contract.number} has no version {b}", code="contracts.no_version", field="b"
        )
    return Redline(first, second, redline.diff(first.document_text, second.document_text))


STATE_LABELS = {
    "renewed": "renewed into the next term",
    "renewal_agreed": "renewal agreed; the next term starts at the end date",
    "cancelled": "cancelled: does not renew",
    "expired": "expired",
    "renewal_quoted": "renewal quote out",
    "auto_renews": "renews automatically at the end date",
    "expires": "expires at the end date",
}


def renewal_status(contract: Contract) -> dict[str, Any]:
    """Where the renewal stands, for people: the notice deadline, the renewal quote, the next term."""
    from datetime import timedelta

    from q2c.contracts.services.common import settings_for

    settings = settings_for(contract.entity_id)
    successor = next_term(contract)
    deadline = contract.end_date - timedelta(days=contract.notice_days)
    quote_due = contract.end_date - timedelta(days=int(settings.renewal_lead_days))
    if successor is not None:
        state = "renewed" if contract.status == ContractStatus.RENEWED else "renewal_agreed"
    elif contract.status == ContractStatus.CANCELLED:
        state = "cancelled"
    elif contract.status == ContractStatus.EXPIRED:
        state = "expired"
    elif contract.renewal_quote_id is not None:
        state = "renewal_quoted"
    elif contract.auto_renew:
        state = "auto_renews"
    else:
        state = "expires"
    today = clock.today(contract.entity.time_zone or None)
    return {
        "state": state,
        "label": STATE_LABELS[state],
        "auto_renew": contract.auto_renew,
        "uplift_percent": contract.renewal_uplift_percent,
        "notice_deadline": deadline,
        "inside_notice_period": contract.status == ContractStatus.ACTIVE and today > deadline,
        "renewal_quote_due": quote_due,
        "renewal_quote_id": contract.renewal_quote_id,
        "renewal_quote_number": contract.renewal_quote_number,
        "next_contract_id": successor.pk if successor else None,
        "next_contract_number": successor.number if successor else "",
    }


def clauses() -> list[tuple[Clause, ClauseVersion | None]]:
    rows = list(Clause.objects.order_by("position", "key"))
    current = {(v.clause_id, v.version): v for v in ClauseVersion.objects.filter(clause__in=rows)}
    return [(c, current.get((c.pk, c.current_version))) for c in rows]


def clause_versions(key: str) -> list[ClauseVersion]:
    clause = Clause.objects.filter(key=key).first()
    if clause is None:
        raise ContractNotFound(f"no clause '{key}'", code="contracts.no_clause", field="key")
    return list(ClauseVersion.objects.filter(clause=clause).order_by("version"))
