"""The quotes API (``/api/v1/quotes/…``): opportunities and the pipeline, quotes and their
versions, the builder's preview and product search, approvals (inbox, decisions, rules, teams),
sending, and the customer's public acceptance endpoints (no login: the signed link is the key).

Thin: the role check first (``require``; docs/permissions.md, section quotes), then a service
or query; which rows a caller sees and changes is decided by ``q2c.quotes.access``.

Must not import any q2c app above ``catalog``.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Router, Status

from q2c.core import clock
from q2c.platform.auth import api_auth, require
from q2c.platform.pagination import Page, PageParams, paginate
from q2c.platform.roles import Role
from q2c.quotes import present, queries, services
from q2c.quotes.errors import QuoteNotFound
from q2c.quotes.models import ApprovalRule, SalesTeam
from q2c.quotes.schemas import (
    ApprovalDecisionIn,
    ApprovalRequestOut,
    ApprovalRuleIn,
    ApprovalRuleOut,
    ApprovalStepOut,
    OpportunityIn,
    OpportunityOut,
    OpportunityPipelineColumn,
    OpportunityStageChangeOut,
    OpportunityStageIn,
    OpportunityUpdate,
    PublicQuoteOut,
    QuoteAcceptIn,
    QuoteCreate,
    QuoteDecisionOut,
    QuoteEventOut,
    QuoteLockIn,
    QuoteOut,
    QuotePreviewIn,
    QuotePreviewOut,
    QuoteProductOut,
    QuoteRejectIn,
    QuoteSendIn,
    QuoteSentOut,
    QuotesStageSettingIn,
    QuotesStageSettingOut,
    QuoteSummary,
    QuoteUpdate,
    QuoteWithdrawIn,
    SalesTeamIn,
    SalesTeamOut,
)

router = Router(auth=api_auth, tags=["quotes"])

READERS = (Role.SALES_REP, Role.SALES_MANAGER, Role.FINANCE, Role.VIEWER)
SELLERS = (Role.SALES_REP, Role.SALES_MANAGER)
APPROVERS = (Role.SALES_MANAGER, Role.FINANCE)


def _base(request: HttpRequest) -> str:
    return request.build_absolute_uri("/").rstrip("/")


def _lines(items: list[Any] | None) -> list[dict[str, Any]] | None:
    if items is None:
        return None
    return [i.model_dump(exclude_none=True) for i in items]


def _reload(quote_id: int, user: Any) -> dict[str, Any]:
    return present.quote_out(services.get_quote(quote_id, user))


# --------------------------------------------------------------------------- opportunities


@router.get("/opportunities", response=Page[OpportunityOut], operation_id="quotes_list_opportunities")
def list_opportunities(
    request: HttpRequest, paging: Query[PageParams], stage: str = "", q: str = ""
) -> dict[str, Any]:
    user = require(request, *READERS)
    page = paginate(queries.opportunities_for(user, stage=stage, q=q[:200]), paging)
    page["items"] = [present.opportunity_out(o) for o in page["items"]]
    return page


@router.post("/opportunities", response={201: OpportunityOut}, operation_id="quotes_create_opportunity")
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Status:
    user = require(request, *SELLERS)
    opp = services.create_opportunity(actor=user, **payload.model_dump())
    return Status(201, present.opportunity_out(services.get_opportunity(opp.pk, user)))


@router.get("/opportunities/{opportunity_id}", response=OpportunityOut, operation_id="quotes_get_opportunity")
def get_opportunity(request: HttpRequest, opportunity_id: int) -> dict[str, Any]:
    user = require(request, *READERS)
    return present.opportunity_out(services.get_opportunity(opportunity_id, user))


@router.patch(
    "/opportunities/{opportunity_id}", response=OpportunityOut, operation_id="quotes_update_opportunity"
)
def update_opportunity(
    request: HttpRequest, opportunity_id: int, payload: OpportunityUpdate
) -> dict[str, Any]:
    user = require(request, *SELLERS)
    changes = payload.model_dump(exclude_unset=True)
    lock = changes.pop("lock_version")
    services.update_opportunity(opportunity_id, changes, actor=user, lock_version=lock)
    return present.opportunity_out(services.get_opportunity(opportunity_id, user))


@router.post(
    "/opportunities/{opportunity_id}/stage", response=OpportunityOut, operation_id="quotes_move_opportunity"
)
def move_opportunity(
    request: HttpRequest, opportunity_id: int, payload: OpportunityStageIn
) -> dict[str, Any]:
    user = require(request, *SELLERS)
    services.move(
        opportunity_id,
        payload.stage,
        actor=user,
        loss_reason=payload.loss_reason,
        note=payload.note,
        lock_version=payload.lock_version,
    )
    return present.opportunity_out(services.get_opportunity(opportunity_id, user))


@router.get(
    "/opportunities/{opportunity_id}/history",
    response=list[OpportunityStageChangeOut],
    operation_id="quotes_list_stage_changes",
)
def stage_history(request: HttpRequest, opportunity_id: int) -> list[dict[str, Any]]:
    user = require(request, *READERS)
    opp = services.get_opportunity(opportunity_id, user)
    return [present.stage_change_out(c) for c in opp.stage_changes.order_by("id")]


@router.get("/pipeline", response=list[OpportunityPipelineColumn], operation_id="quotes_get_pipeline")
def pipeline(request: HttpRequest) -> list[dict[str, Any]]:
    user = require(request, *READERS)
    board = queries.pipeline(user)
    for column in board:
        column["opportunities"] = [present.opportunity_out(o) for o in column["opportunities"]]
        column["totals"] = [{"amount": str(m.amount), "currency": m.currency} for m in column["totals"]]
        column["weighted"] = [{"amount": str(m.amount), "currency": m.currency} for m in column["weighted"]]
    return board


@router.get("/stages", response=list[QuotesStageSettingOut], operation_id="quotes_list_stages")
def list_stages(request: HttpRequest) -> list[dict[str, str]]:
    require(request, *READERS)
    return [{"stage": str(s), "probability": str(p)} for s, p in services.probabilities().items()]


@router.put("/stages/{stage}", response=QuotesStageSettingOut, operation_id="quotes_set_stage_probability")
def set_stage(request: HttpRequest, stage: str, payload: QuotesStageSettingIn) -> dict[str, str]:
    user = require(request, Role.ADMIN)
    row = services.set_probability(stage, payload.probability, actor=user)
    return {"stage": row.stage, "probability": str(row.probability)}


# --------------------------------------------------------------------------- quotes


@router.get("/quotes", response=Page[QuoteSummary], operation_id="quotes_list_quotes")
def list_quotes(
    request: HttpRequest,
    paging: Query[PageParams],
    status: str = "",
    q: str = "",
    opportunity_id: int | None = None,
) -> dict[str, Any]:
    user = require(request, *READERS)
    page = paginate(queries.quotes_for(user, status=status, q=q[:200], opportunity_id=opportunity_id), paging)
    page["items"] = [present.quote_summary(x) for x in page["items"]]
    return page


@router.post("/quotes", response={201: QuoteOut}, operation_id="quotes_create_quote")
def create_quote(request: HttpRequest, payload: QuoteCreate) -> Status:
    user = require(request, *SELLERS)
    quote = services.create_quote(
        actor=user,
        opportunity_id=payload.opportunity_id,
        primary=payload.primary,
        lines=_lines(payload.lines) or [],
        **payload.header(),
    )
    return Status(201, _reload(quote.pk, user))


@router.get("/quotes/{quote_id}", response=QuoteOut, operation_id="quotes_get_quote")
def get_quote(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    user = require(request, *READERS)
    return _reload(quote_id, user)


@router.patch("/quotes/{quote_id}", response=QuoteOut, operation_id="quotes_update_quote")
def update_quote(request: HttpRequest, quote_id: int, payload: QuoteUpdate) -> dict[str, Any]:
    user = require(request, *SELLERS)
    services.update_quote(
        quote_id,
        actor=user,
        lock_version=payload.lock_version,
        changes=payload.header(),
        lines=_lines(payload.lines),
    )
    return _reload(quote_id, user)


@router.post("/quotes/{quote_id}/preview", response=QuotePreviewOut, operation_id="quotes_preview_quote")
def preview_quote(request: HttpRequest, quote_id: int, payload: QuotePreviewIn) -> dict[str, Any]:
    user = require(request, *SELLERS)
    return services.preview(
        actor=user, quote_id=quote_id, changes=payload.header(), lines=_lines(payload.lines) or []
    )


@router.post("/quotes/{quote_id}/submit", response=QuoteOut, operation_id="quotes_submit_quote")
def submit_quote(request: HttpRequest, quote_id: int, payload: QuoteLockIn) -> dict[str, Any]:
    user = require(request, *SELLERS)
    services.submit_quote(quote_id, actor=user, lock_version=payload.lock_version, base_url=_base(request))
    return _reload(quote_id, user)


@router.post("/quotes/{quote_id}/recall", response=QuoteOut, operation_id="quotes_recall_quote")
def recall_quote(request: HttpRequest, quote_id: int, payload: QuoteLockIn) -> dict[str, Any]:
    user = require(request, *SELLERS)
    services.recall(quote_id, actor=user, lock_version=payload.lock_version)
    return _reload(quote_id, user)


@router.post("/quotes/{quote_id}/revise", response={201: QuoteOut}, operation_id="quotes_revise_quote")
def revise_quote(request: HttpRequest, quote_id: int) -> Status:
    user = require(request, *SELLERS)
    clone = services.revise_quote(quote_id, actor=user)
    return Status(201, _reload(clone.pk, user))


@router.post("/quotes/{quote_id}/primary", response=QuoteOut, operation_id="quotes_make_primary")
def make_primary(request: HttpRequest, quote_id: int) -> dict[str, Any]:
    user = require(request, *SELLERS)
    services.make_primary(quote_id, actor=user)
    return _reload(quote_id, user)


@router.post("/quotes/{quote_id}/withdraw", response=QuoteOut, operation_id="quotes_withdraw_quote")
def withdraw_quote(request: HttpRequest, quote_id: int, payload: QuoteWithdrawIn) -> dict[str, Any]:
    user = require(request, *SELLERS)
    services.withdraw_quote(quote_id, actor=user, reason=payload.reason, lock_version=payload.lock_version)
    return _reload(quote_id, user)


@router.post("/quotes/{quote_id}/send", response=QuoteSentOut, operation_id="quotes_send_quote")
def send_quote(request: HttpRequest, quote_id: int, payload: QuoteSendIn) -> dict[str, Any]:
    user = require(request, *SELLERS)
    sent = services.send_quote(
        quote_id,
        actor=user,
        to=payload.to,
        message=payload.message,
        lock_version=payload.lock_version,
        base_url=_base(request),
    )
    return {
        "quote": _reload(quote_id, user),
        "document_id": sent.document.pk,
        "sha256": sent.document.sha256,
        "acceptance_url": sent.url,
        "link_expires_at": sent.document.link_expires_at,
    }


def _pdf(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@router.get("/quotes/{quote_id}/document", operation_id="quotes_get_document", response={200: None})
def quote_document(request: HttpRequest, quote_id: int) -> HttpResponse:
    """The PDF last sent to the customer (404 when the quote was never sent)."""
    user = require(request, *READERS)
    quote = services.get_quote(quote_id, user)
    document = quote.documents.order_by("-id").first()
    if document is None:
        raise QuoteNotFound(
            f"quote {quote.label} has not been sent", code="quotes.not_sent", field="quote_id"
        )
    response = _pdf(bytes(document.pdf), document.filename)
    response["X-Content-SHA256"] = document.sha256
    return response


@router.get("/quotes/{quote_id}/preview.pdf", operation_id="quotes_preview_pdf", response={200: None})
def quote_preview_pdf(request: HttpRequest, quote_id: int) -> HttpResponse:
    user = require(request, *READERS)
    quote = services.get_quote(quote_id, user)
    return _pdf(services.preview_pdf(quote_id, actor=user), f"{quote.number}-v{quote.version}-preview.pdf")


@router.get(
    "/quotes/{quote_id}/approvals", response=list[ApprovalRequestOut], operation_id="quotes_list_approvals"
)
def quote_approvals(request: HttpRequest, quote_id: int) -> list[dict[str, Any]]:
    user = require(request, *READERS)
    quote = services.get_quote(quote_id, user)
    return [present.request_out(r) for r in queries.approval_history(quote)]


@router.get("/quotes/{quote_id}/events", response=list[QuoteEventOut], operation_id="quotes_list_events")
def quote_events(request: HttpRequest, quote_id: int) -> list[Any]:
    user = require(request, *READERS)
    return queries.quote_events(services.get_quote(quote_id, user))


@router.get("/products", response=list[QuoteProductOut], operation_id="quotes_search_products")
def search_products(
    request: HttpRequest, q: str = "", currency: str = "EUR", price_book: str = ""
) -> list[dict[str, Any]]:
    require(request, *SELLERS)
    return present.search_products(
        q[:100], currency=currency[:3], price_book=price_book[:40], as_of=clock.today()
    )


# --------------------------------------------------------------------------- approvals


@router.get("/approvals/inbox", response=list[ApprovalStepOut], operation_id="quotes_approval_inbox")
def approval_inbox(request: HttpRequest) -> list[dict[str, Any]]:
    user = require(request, *APPROVERS)
    return [
        present.step_out(s) for s in queries.inbox(user).prefetch_related("approvers", "decisions__approver")
    ]


@router.post(
    "/approvals/steps/{step_id}/decision", response=ApprovalStepOut, operation_id="quotes_decide_step"
)
def decide_step(request: HttpRequest, step_id: int, payload: ApprovalDecisionIn) -> dict[str, Any]:
    user = require(request, *APPROVERS)
    step = services.decide(
        step_id, actor=user, decision=payload.decision, comment=payload.comment, base_url=_base(request)
    )
    step.refresh_from_db()
    return present.step_out(step)


def _rule_out(rule: ApprovalRule) -> dict[str, Any]:
    return {
        "id": rule.pk,
        "name": rule.name,
        "kind": rule.kind,
        "threshold": None if rule.threshold is None else str(rule.threshold),
        "currency": rule.currency,
        "is_active": rule.is_active,
        "description": rule.description,
        "steps": [
            {"sequence": s.sequence, "role": s.role or None, "user_id": s.user_id, "mode": s.mode}
            for s in rule.steps.all()
        ],
    }


@router.get("/approval-rules", response=list[ApprovalRuleOut], operation_id="quotes_list_rules")
def list_rules(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, Role.SALES_MANAGER, Role.FINANCE)
    return [_rule_out(r) for r in ApprovalRule.objects.prefetch_related("steps").order_by("id")]


@router.post("/approval-rules", response={201: ApprovalRuleOut}, operation_id="quotes_create_rule")
def create_rule(request: HttpRequest, payload: ApprovalRuleIn) -> Status:
    user = require(request, Role.ADMIN)
    data = payload.model_dump()
    rule = services.save_rule(actor=user, **data)
    return Status(201, _rule_out(rule))


@router.put("/approval-rules/{rule_id}", response=ApprovalRuleOut, operation_id="quotes_update_rule")
def update_rule(request: HttpRequest, rule_id: int, payload: ApprovalRuleIn) -> dict[str, Any]:
    user = require(request, Role.ADMIN)
    rule = services.save_rule(actor=user, rule_id=rule_id, **payload.model_dump())
    return _rule_out(rule)


@router.delete("/approval-rules/{rule_id}", response={204: None}, operation_id="quotes_delete_rule")
def delete_rule(request: HttpRequest, rule_id: int) -> Status:
    user = require(request, Role.ADMIN)
    services.delete_rule(rule_id, actor=user)
    return Status(204, None)


def _team_out(team: SalesTeam) -> dict[str, Any]:
    return {
        "id": team.pk,
        "name": team.name,
        "manager_id": team.manager_id,
        "member_ids": sorted(u.pk for u in team.members.all()),
    }


@router.get("/teams", response=list[SalesTeamOut], operation_id="quotes_list_teams")
def list_teams(request: HttpRequest) -> list[dict[str, Any]]:
    require(request, Role.SALES_MANAGER)
    return [_team_out(t) for t in SalesTeam.objects.prefetch_related("members").order_by("name")]


@router.post("/teams", response={201: SalesTeamOut}, operation_id="quotes_create_team")
def create_team(request: HttpRequest, payload: SalesTeamIn) -> Status:
    user = require(request, Role.ADMIN)
    team = services.save_team(actor=user, **payload.model_dump())
    return Status(201, _team_out(team))


@router.put("/teams/{team_id}", response=SalesTeamOut, operation_id="quotes_update_team")
def update_team(request: HttpRequest, team_id: int, payload: SalesTeamIn) -> dict[str, Any]:
    user = require(request, Role.ADMIN)
    team = services.save_team(actor=user, team_id=team_id, **payload.model_dump())
    return _team_out(team)


# --------------------------------------------------------------------------- public (the signed link)


def _client_ip(request: HttpRequest) -> str | None:
    # REMOTE_ADDR only: X-Forwarded-For is whatever the client wrote unless a trusted proxy sets
    # it, and evidence must not be forgeable by the signer.
    return request.META.get("REMOTE_ADDR")


def _decision_out(acceptance: Any) -> dict[str, Any]:
    return {
        "outcome": acceptance.outcome,
        "signer_name": acceptance.signer_name,
        "signer_title": acceptance.signer_title,
        "reason": acceptance.reason,
        "decided_at": acceptance.decided_at,
        "document_sha256": acceptance.document_sha256,
    }


@router.get("/public/{token}", auth=None, response=PublicQuoteOut, operation_id="quotes_public_get")
def public_get(request: HttpRequest, token: str) -> dict[str, Any]:
    opened = services.open_link(token)
    return {
        "label": opened.quote.label,
        "status": opened.quote.status,
        "open_for_decision": opened.open_for_decision,
        "document_sha256": opened.document.sha256,
        "link_expires_at": opened.document.link_expires_at,
        "document": opened.document.data,
        "decision": _decision_out(opened.acceptance) if opened.acceptance else None,
    }


@router.get("/public/{token}/pdf", auth=None, operation_id="quotes_public_pdf", response={200: None})
def public_pdf(request: HttpRequest, token: str) -> HttpResponse:
    opened = services.open_link(token)
    response = _pdf(bytes(opened.document.pdf), opened.document.filename)
    response["X-Content-SHA256"] = opened.document.sha256
    return response


@router.post(
    "/public/{token}/accept", auth=None, response=QuoteDecisionOut, operation_id="quotes_public_accept"
)
def public_accept(request: HttpRequest, token: str, payload: QuoteAcceptIn) -> dict[str, Any]:
    acceptance = services.accept_quote(
        token,
        signer_name=payload.signer_name,
        signer_title=payload.signer_title,
        agree=payload.agree,
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return _decision_out(acceptance)


@router.post(
    "/public/{token}/reject", auth=None, response=QuoteDecisionOut, operation_id="quotes_public_reject"
)
def public_reject(request: HttpRequest, token: str, payload: QuoteRejectIn) -> dict[str, Any]:
    acceptance = services.reject_quote(
        token,
        reason=payload.reason,
        signer_name=payload.signer_name,
        ip=_client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    return _decision_out(acceptance)
