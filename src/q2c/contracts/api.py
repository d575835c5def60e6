"""The contracts API (mounted at ``/api/v1/contracts/``): contracts, versions and their documents,
redlines, negotiation and approval, signature, amendments, cancellation, renewal quotes, the
clause library and the contracts settings. Thin: checks the role, calls ``services``/``queries``,
shapes the answer. Who may call what is written in docs/permissions.md (section contracts).

Must not import any q2c app above ``invoicing``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router
from ninja.responses import Status

from q2c.contracts import clauses as clause_text
from q2c.contracts import present, queries, services
from q2c.contracts.models import ContractSettings, ProductPolicy
from q2c.contracts.schemas import (
    AmendmentIn,
    AmendmentOut,
    CancelIn,
    ClauseIn,
    ClauseVersionOut,
    ContractIn,
    ContractOut,
    ContractRebaseIn,
    ContractSummary,
    DecisionIn,
    EventOut,
    LibraryClauseOut,
    PolicyIn,
    PolicyOut,
    RedlineOut,
    RevisionIn,
    SendIn,
    SentOut,
    SettingsOut,
    SettingsPatch,
    SignatureOut,
    SignIn,
    VersionOut,
    VersionSummary,
)
from q2c.contracts.services import NewContract, NewContractLine
from q2c.contracts.services.common import settings_for
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role

router = Router(auth=api_auth, tags=["contracts"])

#: Everyone who works with customers reads contracts.
READERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
#: Who negotiates, sends for signature, amends and asks for renewal quotes.
SELLERS = (Role.SALES_REP, Role.SALES_MANAGER)
#: Who records a cancellation (the override inside the notice period needs sales_manager).
CANCELLERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE)
#: Who approves departures from the clause library and maintains it.
LEGAL = (Role.SALES_MANAGER,)


def _actor(request: HttpRequest) -> Any:
    return getattr(request, "auth", None) or request.user


def _sign_path(token: str) -> str:
    return f"/contracts/sign/{token}/"


class ListFilter(PageParams):
    q: str = ""
    status: str = ""
    account_id: int | None = None
    sort: str = "-created"


@router.get(
    "/contracts", response=Page[ContractSummary], operation_id="contracts_list_contracts", summary="Contracts"
)
def list_contracts(request: HttpRequest, filters: Query[ListFilter]) -> dict[str, Any]:
    require(request, *READERS)
    rows = queries.search(
        user=_actor(request),
        q=filters.q[:200],
        status=filters.status,
        account_id=filters.account_id,
        sort=filters.sort,
    )
    page = paginate(rows, filters)
    page["items"] = [present.summary(c) for c in page["items"]]
    return page


@router.post(
    "/contracts",
    response={201: ContractOut},
    operation_id="contracts_create_contract",
    summary="Create a contract without a quote",
)
def create_contract(
    request: HttpRequest, payload: ContractIn, response: HttpResponse
) -> Status[dict[str, Any]]:
    require(request, *LEGAL)
    data = payload.dict()
    lines = [NewContractLine(**line) for line in data.pop("lines")]
    # The caller owns what they record, so the owner/team read rule lets them see it.
    owner_id = getattr(_actor(request), "pk", None)
    contract = services.create_contract(
        NewContract(lines=lines, owner_id=owner_id, **data), actor=_actor(request)
    )
    response["Location"] = f"{request.path}/{contract.pk}"
    return Status(201, present.contract_out(queries.get(contract.pk, user=_actor(request))))


@router.get(
    "/contracts/{contract_id}",
    response=ContractOut,
    operation_id="contracts_get_contract",
    summary="A contract",
)
def get_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    require(request, *READERS)
    return present.contract_out(queries.get(contract_id, user=_actor(request)))


@router.get(
    "/contracts/{contract_id}/versions",
    response=list[VersionSummary],
    operation_id="contracts_list_versions",
    summary="Versions of a contract",
)
def list_versions(request: HttpRequest, contract_id: int) -> list[dict[str, Any]]:
    require(request, *READERS)
    return [
        present.version_summary(v) for v in queries.versions(queries.get(contract_id, user=_actor(request)))
    ]


@router.post(
    "/contracts/{contract_id}/versions",
    response={201: VersionOut},
    operation_id="contracts_revise_document",
    summary="A new negotiation version with changed clause texts",
)
def revise(request: HttpRequest, contract_id: int, payload: RevisionIn) -> Status[dict[str, Any]]:
    require(request, *SELLERS)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    version = services.revise_document(
        contract_id,
        actor=_actor(request),
        lock_version=payload.lock_version,
        clause_texts=payload.clauses,
        note=payload.note,
    )
    return Status(
        201,
        present.version_out(queries.version(queries.get(contract_id, user=_actor(request)), version.number)),
    )


@router.get(
    "/contracts/{contract_id}/versions/{number}",
    response=VersionOut,
    operation_id="contracts_get_version",
    summary="One version with its lines and document",
)
def get_version(request: HttpRequest, contract_id: int, number: int) -> dict[str, Any]:
    require(request, *READERS)
    return present.version_out(queries.version(queries.get(contract_id, user=_actor(request)), number))


@router.get(
    "/contracts/{contract_id}/versions/{number}/pdf",
    response={200: None},
    operation_id="contracts_version_pdf",
    summary="The version's document as PDF (as sent for signature, or rendered now)",
)
def version_pdf(request: HttpRequest, contract_id: int, number: int) -> HttpResponse:
    require(request, *READERS)
    contract = queries.get(contract_id, user=_actor(request))
    version = queries.version(contract, number)
    from q2c.core import clock

    content = (
        bytes(version.pdf)
        if version.pdf
        else services.render_version_pdf(contract, version, created=version.created_at or clock.now())
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{contract.number}-v{number}.pdf"'
    return response


@router.post(
    "/contracts/{contract_id}/versions/{number}/decision",
    response=VersionSummary,
    operation_id="contracts_decide_version",
    summary="Approve or reject a version departing from the clause library",
)
def decide(request: HttpRequest, contract_id: int, number: int, payload: DecisionIn) -> dict[str, Any]:
    require(request, *LEGAL)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    services.decide_version(
        contract_id, number, actor=_actor(request), approve=payload.approve, comment=payload.comment
    )
    return present.version_summary(queries.version(queries.get(contract_id, user=_actor(request)), number))


@router.get(
    "/contracts/{contract_id}/redline",
    response=RedlineOut,
    operation_id="contracts_redline",
    summary="Word-level redline between two versions",
)
def redline(request: HttpRequest, contract_id: int, a: int, b: int) -> dict[str, Any]:
    require(request, *READERS)
    red = queries.compare(queries.get(contract_id, user=_actor(request)), a, b)
    stats = red.stats
    return {
        "a": a,
        "b": b,
        "chunks": [{"op": c.op, "text": c.text} for c in red.chunks],
        "html": red.html,
        "inserted_words": stats["inserted"],
        "deleted_words": stats["deleted"],
    }


@router.post(
    "/contracts/{contract_id}/send-for-signature",
    response=SentOut,
    operation_id="contracts_send_for_signature",
    summary="Send the current version for signature",
)
def send(request: HttpRequest, contract_id: int, payload: SendIn) -> dict[str, Any]:
    require(request, *SELLERS)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    contract, token = services.send_for_signature(
        contract_id, actor=_actor(request), lock_version=payload.lock_version, email=payload.email
    )
    version = queries.version(contract, contract.current_version)
    return {
        "contract_id": contract.pk,
        "status": contract.status,
        "version": version.number,
        "document_sha256": version.pdf_sha256,
        "token": token,
        "url": _sign_path(token),
        "lock_version": contract.lock_version,
    }


@router.post(
    "/signatures/{token}",
    auth=None,
    response=SignatureOut,
    operation_id="contracts_sign",
    summary="The customer signs (public, by signed link)",
)
def sign(request: HttpRequest, token: str, payload: SignIn) -> dict[str, Any]:
    signature = services.sign(
        token,
        signer_name=payload.signer_name,
        signer_title=payload.signer_title,
        signer_email=payload.signer_email,
        ip_address=request.META.get("REMOTE_ADDR"),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        agreed=payload.agree,
    )
    contract = queries.get(signature.contract_id, user=None)
    return {
        "contract_id": contract.pk,
        "number": contract.number,
        "status": contract.status,
        "version": signature.version.number,
        "signer_name": signature.signer_name,
        "signed_at": signature.signed_at,
        "document_sha256": signature.document_sha256,
    }


@router.get(
    "/contracts/{contract_id}/amendments",
    response=list[AmendmentOut],
    operation_id="contracts_list_amendments",
    summary="Amendments of a contract",
)
def list_amendments(request: HttpRequest, contract_id: int) -> list[dict[str, Any]]:
    require(request, *READERS)
    contract = queries.get(contract_id, user=_actor(request))
    return [present.amendment_out(a, contract) for a in queries.amendments(contract)]


@router.post(
    "/contracts/{contract_id}/amendments",
    response={201: AmendmentOut},
    operation_id="contracts_amend",
    summary="Amend an active contract",
)
def amend(
    request: HttpRequest, contract_id: int, payload: AmendmentIn, response: HttpResponse
) -> Status[dict[str, Any]]:
    require(request, *SELLERS)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    amendment = services.amend(
        contract_id,
        actor=_actor(request),
        lock_version=payload.lock_version,
        kind=payload.kind,
        effective_date=payload.effective_date,
        line_key=payload.line_key,
        sku=payload.sku,
        quantity=payload.quantity,
        unit_price=payload.unit_price,
        new_end_date=payload.new_end_date,
        reason=payload.reason,
    )
    contract = queries.get(contract_id, user=_actor(request))
    response["Location"] = f"{request.path}/{amendment.number}"
    return Status(201, present.amendment_out(amendment, contract))


@router.get(
    "/contracts/{contract_id}/amendments/{number}",
    response=AmendmentOut,
    operation_id="contracts_get_amendment",
    summary="One amendment with its delta lines",
)
def get_amendment(request: HttpRequest, contract_id: int, number: int) -> dict[str, Any]:
    require(request, *READERS)
    contract = queries.get(contract_id, user=_actor(request))
    return present.amendment_out(queries.amendment(contract, number), contract)


@router.post(
    "/contracts/{contract_id}/amendments/{number}/withdraw",
    response=AmendmentOut,
    operation_id="contracts_withdraw_amendment",
    summary="Drop an amendment still waiting for its quote",
)
def withdraw(request: HttpRequest, contract_id: int, number: int) -> dict[str, Any]:
    require(request, *SELLERS)
    contract = queries.get(contract_id, user=_actor(request))
    amendment = services.withdraw_amendment(queries.amendment(contract, number).pk, actor=_actor(request))
    return present.amendment_out(amendment, queries.get(contract_id, user=_actor(request)))


@router.post(
    "/contracts/{contract_id}/amendments/{number}/rebase",
    response=AmendmentOut,
    operation_id="contracts_rebase_amendment",
    summary="Base a proposed amendment on the current version, with a new quote",
)
def rebase(request: HttpRequest, contract_id: int, number: int, payload: ContractRebaseIn) -> dict[str, Any]:
    require(request, *SELLERS)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    amendment = services.rebase_amendment(
        contract_id, number, actor=_actor(request), lock_version=payload.lock_version
    )
    return present.amendment_out(amendment, queries.get(contract_id, user=_actor(request)))


@router.post(
    "/contracts/{contract_id}/cancel",
    response=AmendmentOut,
    operation_id="contracts_cancel",
    summary="Cancel a contract",
)
def cancel(request: HttpRequest, contract_id: int, payload: CancelIn) -> dict[str, Any]:
    require(request, *CANCELLERS)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    amendment = services.cancel(
        contract_id,
        actor=_actor(request),
        lock_version=payload.lock_version,
        effective_date=payload.effective_date,
        reason=payload.reason,
        override=payload.override,
    )
    return present.amendment_out(amendment, queries.get(contract_id, user=_actor(request)))


@router.post(
    "/contracts/{contract_id}/renewal-quote",
    response=ContractOut,
    operation_id="contracts_create_renewal_quote",
    summary="Make the renewal quote now",
)
def renewal_quote(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    require(request, *SELLERS)
    queries.get(contract_id, user=_actor(request))  # 404 unless the caller may read it
    services.create_renewal_quote(contract_id, actor=_actor(request))
    return present.contract_out(queries.get(contract_id, user=_actor(request)))


@router.get(
    "/contracts/{contract_id}/events",
    response=list[EventOut],
    operation_id="contracts_list_events",
    summary="The contract's event timeline",
)
def list_events(request: HttpRequest, contract_id: int) -> list[dict[str, Any]]:
    require(request, *READERS)
    return [
        {"seq": e.seq, "type": e.type, "actor": e.actor, "occurred_at": e.occurred_at, "payload": e.payload}
        for e in queries.events(queries.get(contract_id, user=_actor(request)))
    ]


# --------------------------------------------------------------------------- clause library


def _clause_out(clause: Any, version: Any) -> dict[str, Any]:
    body = version.body if version is not None else ""
    return {
        "key": clause.key,
        "title": clause.title,
        "position": clause.position,
        "is_active": clause.is_active,
        "current_version": clause.current_version,
        "body": body,
        "variables": clause_text.variables_in(body),
    }


@router.get(
    "/clauses",
    response=list[LibraryClauseOut],
    operation_id="contracts_list_clauses",
    summary="The clause library",
)
def list_clauses(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, *READERS)
    return [_clause_out(c, v) for c, v in queries.clauses()]


@router.post(
    "/clauses",
    response={201: LibraryClauseOut},
    operation_id="contracts_save_clause",
    summary="Add a clause or a new version of one",
)
def save_clause(request: HttpRequest, payload: ClauseIn) -> Status[dict[str, Any]]:
    require(request, *LEGAL)
    version = services.save_clause(
        payload.key,
        actor=_actor(request),
        title=payload.title,
        body=payload.body,
        position=payload.position,
        is_active=payload.is_active,
        note=payload.note,
    )
    return Status(201, _clause_out(version.clause, version))


@router.get(
    "/clauses/{key}/versions",
    response=list[ClauseVersionOut],
    operation_id="contracts_list_clause_versions",
    summary="Every version of a clause",
)
def clause_versions(request: HttpRequest, key: str) -> list[Any]:
    require(request, *READERS)
    return queries.clause_versions(key)


# --------------------------------------------------------------------------- settings


def _settings_out(row: ContractSettings) -> dict[str, Any]:
    return {
        "entity_id": row.entity_id,
        "signature_on_acceptance": row.signature_on_acceptance,
        "renewal_lead_days": row.renewal_lead_days,
        "notice_days": row.notice_days,
        "renewal_uplift_percent": str(row.renewal_uplift_percent),
        "governing_law": row.governing_law,
        "non_cancellable": row.non_cancellable,
        "signature_link_days": row.signature_link_days,
    }


@router.get(
    "/settings/{entity_id}",
    response=SettingsOut,
    operation_id="contracts_get_settings",
    summary="Contract settings of a legal entity",
)
def get_settings(request: HttpRequest, entity_id: int) -> dict[str, Any]:
    require(request, Role.SALES_MANAGER, Role.FINANCE)
    return _settings_out(settings_for(entity_id))


@router.patch(
    "/settings/{entity_id}",
    response=SettingsOut,
    operation_id="contracts_update_settings",
    summary="Change contract settings",
)
def update_settings(request: HttpRequest, entity_id: int, payload: SettingsPatch) -> dict[str, Any]:
    require(request, Role.ADMIN)
    return _settings_out(
        services.save_settings(entity_id, payload.dict(exclude_unset=True), actor=_actor(request))
    )


@router.get(
    "/product-policies",
    response=list[PolicyOut],
    operation_id="contracts_list_policies",
    summary="Reduction policy per product",
)
def list_policies(request: HttpRequest) -> list[Any]:
    require(request, *READERS)
    return list(ProductPolicy.objects.order_by("sku"))


@router.put(
    "/product-policies/{product_id}",
    response=PolicyOut,
    operation_id="contracts_set_policy",
    summary="Set a product's reduction policy",
)
def set_policy(request: HttpRequest, product_id: int, payload: PolicyIn) -> Any:
    require(request, Role.ADMIN)
    return services.set_product_policy(product_id, reduction=payload.reduction, actor=_actor(request))
