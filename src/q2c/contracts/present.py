"""Contracts as plain dicts for the API (and the pages' JSON bits): one shape per record, amounts
as ``{"amount", "currency"}`` strings.

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from typing import Any

from q2c.contracts import queries
from q2c.contracts.models import Amendment, Contract, ContractLine, ContractVersion
from q2c.contracts.schemas import money


def _s(value: Any) -> str | None:
    return None if value is None else str(value)


def line_out(line: ContractLine) -> dict[str, Any]:
    return {
        "key": line.key,
        "product_id": line.product_id,
        "sku": line.sku,
        "name": line.name,
        "charge_id": line.charge_id,
        "charge": line.charge,
        "charge_kind": line.charge_kind,
        "quantity": str(line.quantity),
        "unit": line.unit,
        "net_unit_price": _s(line.net_unit_price),
        "period_months": line.period_months,
        "billing_period": line.billing_period,
        "timing": line.timing,
        "billing_frequency": line.billing_frequency,
        "service_start": line.service_start,
        "service_end": line.service_end,
        "revenue_rule": line.revenue_rule,
        "revenue_category": line.revenue_category,
        "tax_category": line.tax_category,
        "ssp_unit": _s(line.ssp_unit),
        "sale_context": line.sale_context,
        "usage_metric": line.usage_metric,
        "rate_card": list(line.rate_card or []),
        "adjusts": line.adjusts,
        "at_renewal": line.at_renewal,
        "credit": line.credit,
        "value": money(line.value),
        "quote_id": line.quote_id,
        "quote_line_key": line.quote_line_key,
        "document_sha256": line.document_sha256,
        "amendment_number": line.amendment_number,
    }


def summary(contract: Contract) -> dict[str, Any]:
    return {
        "id": contract.pk,
        "number": contract.number,
        "status": contract.status,
        "account_id": contract.account_id,
        "account_name": contract.account.name,
        "entity_id": contract.entity_id,
        "currency": contract.currency,
        "start_date": contract.start_date,
        "end_date": contract.end_date,
        "term_months": contract.term_months,
        "auto_renew": contract.auto_renew,
        "sale_context": contract.sale_context,
        "current_version": contract.current_version,
        "lock_version": contract.lock_version,
        "one_time": money(contract.one_time),
        "mrr": money(contract.mrr),
        "value": money(contract.value),
    }


def contract_out(contract: Contract) -> dict[str, Any]:
    renewal = queries.renewal_status(contract)
    renewal["uplift_percent"] = str(renewal["uplift_percent"])
    current = queries.version(contract, contract.current_version)
    return {
        **summary(contract),
        "title": contract.title,
        "renewal_uplift_percent": str(contract.renewal_uplift_percent),
        "notice_days": contract.notice_days,
        "payment_terms_days": contract.payment_terms_days,
        "billing_frequency": contract.billing_frequency,
        "billing_day": contract.billing_day,
        "billing_settings": dict(contract.billing_settings or {}),
        "non_cancellable": contract.non_cancellable,
        "governing_law": contract.governing_law,
        "source_quote_id": contract.source_quote_id,
        "source_quote_number": contract.source_quote_number,
        "source_quote_version": contract.source_quote_version,
        "opportunity_id": contract.opportunity_id,
        "owner_id": contract.owner_id,
        "accepted_document_sha256": contract.accepted_document_sha256,
        "previous_contract_id": contract.previous_id,
        "created_at": contract.created_at,
        "signed_at": contract.signed_at,
        "activated_at": contract.activated_at,
        "ended_on": contract.ended_on,
        "cancel_effective_date": contract.cancel_effective_date,
        "cancel_reason": contract.cancel_reason,
        "renewal": renewal,
        "lines": [line_out(x) for x in queries.lines(current)],
    }


def version_summary(version: ContractVersion) -> dict[str, Any]:
    return {
        "number": version.number,
        "kind": version.kind,
        "amendment_number": version.amendment.number if version.amendment is not None else None,
        "effective_date": version.effective_date,
        "start_date": version.start_date,
        "end_date": version.end_date,
        "deviates": version.deviates,
        "approval": version.approval,
        "approved_by": version.approved_by,
        "document_sha256": version.document_sha256,
        "pdf_sha256": version.pdf_sha256,
        "sent_at": version.sent_at,
        "created_at": version.created_at,
        "created_by": version.created_by,
        "superseded_at": version.superseded_at,
        "one_time": money(version.one_time),
        "mrr": money(version.mrr),
        "value": money(version.value),
    }


def version_out(version: ContractVersion) -> dict[str, Any]:
    return {
        **version_summary(version),
        "header": dict(version.header),
        "note": version.note,
        "clauses": [
            {
                "key": c["key"],
                "title": c["title"],
                "library_version": c["library_version"],
                "text": c["text"],
                "library_text": c["library_text"],
                "deviates": c["deviates"],
            }
            for c in version.clauses
        ],
        "document_text": version.document_text,
        "lines": [line_out(x) for x in queries.lines(version)],
    }


def amendment_out(amendment: Amendment, contract: Contract) -> dict[str, Any]:
    version = ContractVersion.objects.filter(amendment=amendment).first()
    delta: list[ContractLine] = []
    if version is not None:
        delta = [x for x in queries.lines(version) if x.amendment_number == amendment.number]
    return {
        "id": amendment.pk,
        "number": amendment.number,
        "label": f"{contract.number}/A{amendment.number}",
        "kind": amendment.kind,
        "status": amendment.status,
        "effective_date": amendment.effective_date,
        "sale_context": amendment.sale_context,
        "request": dict(amendment.request),
        "reason": amendment.reason,
        "quote_id": amendment.quote_id,
        "quote_number": amendment.quote_number,
        "based_on_version": amendment.based_on_version,
        # Proposed on a version an amendment applied since has replaced (see services.amendments).
        "stale": amendment.status == "proposed" and amendment.based_on_version != contract.current_version,
        "version": version.number if version is not None else None,
        "delta_value": money(amendment.delta_value),
        "created_at": amendment.created_at,
        "created_by": amendment.created_by,
        "applied_at": amendment.applied_at,
        "delta_lines": [line_out(x) for x in delta],
        "contract_lock_version": contract.lock_version,
    }
