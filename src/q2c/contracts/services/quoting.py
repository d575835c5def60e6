"""Where contracts meet quotes (a lower layer): reading an accepted quote into a
:class:`~q2c.contracts.services.creation.NewContract`, and creating the quotes that carry
renewals and price-setting amendments through approval and acceptance (quotes' own services,
sale context ``renewal`` or ``add_on``).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from q2c.contracts import domain
from q2c.contracts.errors import ContractInvalid
from q2c.contracts.models import Contract
from q2c.contracts.services.creation import NewContract, NewContractLine, SignatureEvidence


def _decimal(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    return Decimal(str(value))


def new_contract_from_quote(payload: Mapping[str, Any], *, signature_on_acceptance: bool) -> NewContract:
    """The contract an accepted quote makes: its header, every priced line linked to its quote
    line and the accepted document's hash. ``payload`` is ``quotes.quote.accepted``'s payload
    (``q2c.quotes.queries.contract_payload``)."""
    acceptance = payload.get("acceptance") or {}
    sha = str(acceptance.get("document_sha256") or "")
    lines = []
    for line in payload.get("lines") or []:
        kind = str(line.get("charge_kind") or "one_time")
        lines.append(
            NewContractLine(
                key="",
                sku=str(line.get("sku") or ""),
                charge=str(line.get("charge") or ""),
                charge_kind=kind,
                quantity=_decimal(line.get("quantity")) or Decimal(0),
                unit_price=None if kind == "usage" else _decimal(line.get("net_unit_price")),
                period_months=int(line.get("period_months") or 0),
                name=str(line.get("name") or ""),
                product_id=line.get("product_id"),
                charge_id=line.get("charge_id"),
                unit=str(line.get("unit") or ""),
                billing_period=str(line.get("billing_period") or ""),
                timing=str(line.get("timing") or ""),
                revenue_rule=str(line.get("revenue_rule") or ""),
                revenue_category=str(line.get("revenue_category") or ""),
                tax_category=str(line.get("tax_category") or ""),
                ssp_unit=_decimal(line.get("ssp_unit")),
                usage_metric=str(line.get("usage_metric") or ""),
                rate_card=tuple(line.get("rate_card") or ()),
                parent_key=str(line.get("parent_key") or ""),
                quote_line_key=str(line.get("key") or ""),
            )
        )
    # A quote line can price as several charges: contract keys are their positions.
    lines = [NewContractLine(**{**line.__dict__, "key": str(i + 1)}) for i, line in enumerate(lines)]
    signature = None
    if signature_on_acceptance:
        signed_at = acceptance.get("accepted_at")
        if isinstance(signed_at, str):
            signed_at = datetime.fromisoformat(signed_at)
        if not isinstance(signed_at, datetime):
            raise ContractInvalid(
                "the acceptance has no time", code="contracts.invalid_acceptance", field="acceptance"
            )
        signature = SignatureEvidence(
            signer_name=str(acceptance.get("signer_name") or ""),
            signer_title=str(acceptance.get("signer_title") or ""),
            signed_at=signed_at,
            document_sha256=sha,
            ip_address=payload.get("ip_address") or None,
            user_agent=str(payload.get("user_agent") or ""),
        )
    start = payload["start_date"]
    return NewContract(
        entity_id=int(payload["entity_id"]),
        account_id=int(payload["account_id"]),
        currency=str(payload["currency"]),
        start_date=date.fromisoformat(start) if isinstance(start, str) else start,
        term_months=int(payload["term_months"]),
        lines=lines,
        auto_renew=bool(payload.get("auto_renew")),
        payment_terms_days=int(payload["payment_terms_days"])
        if payload.get("payment_terms_days") is not None
        else None,
        billing_frequency=str(payload.get("billing_frequency") or "month"),
        sale_context=str(payload.get("sale_context") or "new"),
        source_quote_id=int(payload["quote_id"]),
        source_quote_number=str(payload.get("number") or ""),
        source_quote_version=int(payload["version"]) if payload.get("version") is not None else None,
        opportunity_id=payload.get("opportunity_id"),
        owner_id=payload.get("owner_id"),
        accepted_document_sha256=sha,
        signature=signature,
    )


def owner_of(contract: Contract) -> Any:
    """The user who sells for this contract (renewal quotes are made in their name), or None."""
    from django.contrib.auth import get_user_model

    if contract.owner_id is None:
        return None
    return get_user_model().objects.filter(pk=contract.owner_id, is_active=True).first()


def create_quote_for(
    contract: Contract,
    *,
    actor: Any,
    name: str,
    start_date: date,
    end_date: date,
    sale_context: str,
    lines: Sequence[Mapping[str, Any]],
    term_months: int | None = None,
) -> dict[str, Any]:
    """An opportunity and a draft quote for the contract's customer, in the quotes app, owned by
    ``actor``. Returns ``{"id", "number", "opportunity_id"}``."""
    from q2c.quotes import services as quotes

    months = term_months
    if months is None:
        months = (end_date.year - start_date.year) * 12 + end_date.month - start_date.month
        if domain.term_end(start_date, months) < end_date:
            months += 1  # a co-termed part month is quoted as a month; the contract keeps the days
        months = max(1, months)
    opportunity = quotes.create_opportunity(
        actor=actor, account_id=contract.account_id, name=name[:200], currency=contract.currency
    )
    quote = quotes.create_quote(
        actor=actor,
        opportunity_id=opportunity.pk,
        lines=list(lines),
        title=name[:200],
        currency=contract.currency,
        sale_context=sale_context,
        start_date=start_date,
        term_months=months,
        billing_frequency=contract.billing_frequency,
        payment_terms_days=contract.payment_terms_days,
        auto_renew=contract.auto_renew,
    )
    return {"id": quote.pk, "number": quote.number, "opportunity_id": opportunity.pk}


def withdraw_quote(quote_id: int, *, actor: Any, reason: str) -> bool:
    """Withdraw an open quote the contract no longer needs; False when it is final already."""
    from q2c.core.errors import Conflict
    from q2c.quotes import services as quotes

    try:
        quotes.withdraw_quote(quote_id, actor=actor, reason=reason)
    except Conflict:
        return False
    return True


def open_quote_lines(quote_id: int) -> tuple[str, list[dict[str, Any]]] | None:
    """An open quote's status and lines in the builder's form (``discount`` as ``{kind: value}``);
    None when it is final (accepted, rejected, expired, withdrawn) or gone."""
    from q2c.quotes.domain import FINAL
    from q2c.quotes.models import Quote

    quote = Quote.objects.filter(pk=quote_id).first()
    if quote is None or quote.status in FINAL:
        return None
    lines = []
    for line in quote.lines.all().order_by("position"):
        item: dict[str, Any] = {"key": line.key, "sku": line.sku}
        if line.quantity is not None:
            item["quantity"] = str(line.quantity)
        if line.parent_key:
            item["parent_key"] = line.parent_key
        if line.discount_kind and line.discount_value is not None:
            item["discount"] = {line.discount_kind: str(line.discount_value)}
        if line.estimated_quantity is not None:
            item["estimated_quantity"] = str(line.estimated_quantity)
        if line.description:
            item["description"] = line.description
        lines.append(item)
    return str(quote.status), lines


def replace_quote_lines(quote_id: int, *, actor: Any, lines: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Replace an open quote's lines and reprice it (quotes' ``update_quote``: a quote in review,
    approved or sent goes back to draft). Returns ``{"id", "number", "status"}``."""
    from q2c.quotes import services as quotes

    quote = quotes.update_quote(quote_id, actor=actor, lock_version=None, lines=list(lines))
    return {"id": quote.pk, "number": quote.number, "status": str(quote.status)}
