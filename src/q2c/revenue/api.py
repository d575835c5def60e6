"""Revenue API (/api/v1/revenue/): the revenue preview and its JSON Schema.

``POST /preview`` takes a contract described in the preview format (docs/revenue-preview.md) and
answers its allocation and full monthly schedule, saving nothing. The body is read as raw JSON by
the engine rather than by a pydantic model so that amounts stay exact (JSON numbers with a
fraction are refused by name) and the errors are the same as the CLI's: 422 problem+json whose
``errors`` name each field. ``GET /preview/schema`` serves the JSON Schema of that format.

Roles: finance and sales managers (who check a deal's revenue before it is booked); admins pass
everywhere. Thin: all the work is in ``q2c.revenue.engine``. Must not import higher apps.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from q2c.platform.auth import api_auth, require
from q2c.platform.roles import Role
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
