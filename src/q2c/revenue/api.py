"""Revenue API (/api/v1/revenue/): the revenue preview and its JSON Schema; recognition runs,
period close and reopen; a contract's obligations, progress, milestones, variable consideration
and modification overrides; the reports (JSON, or CSV with ``format=csv``).

``POST /preview`` takes a contract described in the preview format (docs/revenue-preview.md) and
answers its allocation and full monthly schedule, saving nothing. The body is read as raw JSON by
the engine rather than by a pydantic model so that amounts stay exact (JSON numbers with a
fraction are refused by name) and the errors are the same as the CLI's: 422 problem+json whose
``errors`` name each field. ``GET /preview/schema`` serves the JSON Schema of that format.

Roles: the preview — finance and sales managers (who check a deal's revenue before it is booked);
reading runs, contracts and reports — finance and viewers; acting — finance; reopening a period —
admins only (admins pass everywhere). Thin: all the work is in ``q2c.revenue.engine``. Must not import higher apps.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema

from q2c.platform.auth import api_auth, require
from q2c.platform.roles import Role
from q2c.revenue import queries, services
from q2c.revenue import run as revenue_run
from q2c.revenue.engine import preview as engine_preview

router = Router(auth=api_auth, tags=["revenue"])

PREVIEW_ROLES = (Role.FINANCE, Role.SALES_MANAGER)

_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["currency", "start", "obligations"],
                "description": "A contract in the revenue preview format; the full JSON Schema is served at "
                "GET /api/v1/revenue/preview/schema and documented in docs/revenue-preview.md.",
            }
        }
    },
}


@router.post(
    "/preview",
    operation_id="revenue_create_preview",
    summary="Allocate and schedule a contract described as JSON (nothing is saved)",
    openapi_extra={"requestBody": _BODY},
)
def create_preview(request: HttpRequest) -> dict[str, Any]:
    require(request, *PREVIEW_ROLES)
    return engine_preview.preview(request.body)


@router.get(
    "/preview/schema",
    operation_id="revenue_get_preview_schema",
    summary="The JSON Schema of the revenue preview input",
)
def get_preview_schema(request: HttpRequest) -> dict[str, Any]:
    require(request, *PREVIEW_ROLES)
    return engine_preview.schema()


# --- recognition, periods, contracts, reports -----------------------------------------------------
READ_ROLES = (Role.FINANCE, Role.VIEWER)
WRITE_ROLES = (Role.FINANCE,)


def _actor(request: HttpRequest) -> str:
    user = getattr(request, "auth", None) or getattr(request, "user", None)
    return str(user.get_username()) if user is not None else ""


class RevenueRunIn(Schema):
    entity_id: int = Field(..., examples=[1])
    period: str = Field(..., description="YYYY-MM", examples=["2027-03"])


class RevenueReopenIn(RevenueRunIn):
    reason: str = Field("", max_length=500)


class RevenueProgressIn(Schema):
    obligation: str = Field(..., max_length=60, examples=["2"])
    month: str = Field(..., description="YYYY-MM", examples=["2027-03"])
    percent_complete: str = Field(..., description="cumulative percent, 0–100", examples=["40"])


class RevenueMilestoneItem(Schema):
    id: str = Field(..., max_length=60)
    percent: str = Field(..., examples=["50"])


class RevenueMilestonesIn(Schema):
    obligation: str = Field(..., max_length=60, examples=["2"])
    milestones: list[RevenueMilestoneItem]


class RevenueMilestoneReachedIn(Schema):
    obligation: str = Field(..., max_length=60, examples=["2"])
    milestone: str = Field(..., max_length=60, examples=["design"])
    achieved_on: date


class RevenueVariableIn(Schema):
    variable: list[dict[str, Any]] | None = Field(
        None,
        description="variable consideration in the preview format (docs/revenue-preview.md); [] removes it",
    )
    financing: dict[str, Any] | None = Field(
        None,
        description="the financing component in the preview format (rate, transfer_on, payments); {} removes it",
    )
    discount_allocation: list[dict[str, Any]] | None = Field(
        None, description="a discount allocated to some obligations (preview format); [] removes it"
    )


class RevenueOverrideIn(Schema):
    treatment: str = Field(..., examples=["cumulative_catch_up"])
    note: str = Field(..., max_length=1000, examples=["the added seats were discounted to win the renewal"])


@router.post("/runs", operation_id="revenue_create_run", summary="Recognise and post a month (idempotent)")
def create_run(request: HttpRequest, body: RevenueRunIn) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    return revenue_run.recognise(body.entity_id, services.month_of(body.period), actor=_actor(request))


@router.get("/runs", operation_id="revenue_list_runs", summary="Recognition runs, latest first")
def list_runs(request: HttpRequest, entity_id: int | None = None) -> list[dict[str, Any]]:
    require(request, *READ_ROLES)
    return [
        {"id": r.pk, "entity_id": r.entity_id, "period": f"{r.period:%Y-%m}", "attempt": r.attempt,
         "through": r.through.isoformat(), "currency": r.currency,
         "recognised": queries._fmt(r.recognised_minor, r.currency), "usage": queries._fmt(r.usage_minor, r.currency),
         "lines": r.lines, "entry": r.entry_number, "actor": r.actor}
        for r in queries.runs(entity_id)
    ]  # fmt: skip


@router.post("/periods/close", operation_id="revenue_close_period",
             summary="Close a month: recognise, post, check, lock revenue and ledger")  # fmt: skip
def close_period(request: HttpRequest, body: RevenueRunIn) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    return services.close_period(body.entity_id, body.period, actor=_actor(request))


@router.post("/periods/reopen", operation_id="revenue_reopen_period", summary="Reopen a closed month (admin)")
def reopen_period(request: HttpRequest, body: RevenueReopenIn) -> dict[str, Any]:
    user = require(request)
    return services.reopen_period(body.entity_id, body.period, user=user, reason=body.reason)


@router.get("/contracts/{contract_id}", operation_id="revenue_get_contract",
            summary="A contract's obligations, allocation, schedules and modification decisions")  # fmt: skip
def get_contract(request: HttpRequest, contract_id: int) -> dict[str, Any]:
    require(request, *READ_ROLES)
    return queries.contract(contract_id)


@router.post("/contracts/{contract_id}/progress", operation_id="revenue_record_progress",
             summary="Measured progress of an obligation at a month end")  # fmt: skip
def record_progress(request: HttpRequest, contract_id: int, body: RevenueProgressIn) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    services.record_progress(
        contract_id, body.obligation, body.month, body.percent_complete, actor=_actor(request)
    )
    return queries.contract(contract_id)


@router.put("/contracts/{contract_id}/milestones", operation_id="revenue_set_milestones",
            summary="Recognise an obligation by milestones")  # fmt: skip
def set_milestones(request: HttpRequest, contract_id: int, body: RevenueMilestonesIn) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    services.set_milestones(
        contract_id, body.obligation, [m.dict() for m in body.milestones], actor=_actor(request)
    )
    return queries.contract(contract_id)


@router.post("/contracts/{contract_id}/milestones/reached", operation_id="revenue_reach_milestone",
             summary="A milestone was reached")  # fmt: skip
def reach_milestone(
    request: HttpRequest, contract_id: int, body: RevenueMilestoneReachedIn
) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    services.reach_milestone(
        contract_id, body.obligation, body.milestone, body.achieved_on, actor=_actor(request)
    )
    return queries.contract(contract_id)


@router.put("/contracts/{contract_id}/variable", operation_id="revenue_set_variable",
            summary="Transaction-price terms: variable consideration, financing, discount allocation")  # fmt: skip
def set_variable(request: HttpRequest, contract_id: int, body: RevenueVariableIn) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    services.set_terms(
        contract_id, variable=body.variable, financing=body.financing,
        discount_allocation=body.discount_allocation, actor=_actor(request),
    )  # fmt: skip
    return queries.contract(contract_id)


@router.post("/contracts/{contract_id}/modifications/{index}/override", operation_id="revenue_override_modification",
             summary="Force how a modification is accounted for (with a note)")  # fmt: skip
def override_modification(
    request: HttpRequest, contract_id: int, index: int, body: RevenueOverrideIn
) -> dict[str, Any]:
    require(request, *WRITE_ROLES)
    services.override(contract_id, index, body.treatment, body.note, actor=_actor(request))
    return queries.contract(contract_id)


@router.get("/reports/{kind}", operation_id="revenue_get_report",
            summary="waterfall, rollforward, disaggregation, positions or rpo; format=csv for a download")  # fmt: skip
def get_report(
    request: HttpRequest, kind: str, entity_id: int, start: str, months: int = 12, by: str = "contract",
    format: str = "json",
) -> Any:  # fmt: skip
    require(request, *READ_ROLES)
    result = queries.report(kind, entity_id, services.month_of(start), months, by)
    if format == "csv":
        response = HttpResponse(result.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="revenue-{kind}-{start}.csv"'
        return response
    return result.as_dict()
