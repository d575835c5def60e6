"""A URLconf for the API-convention tests: a second API with endpoints that count their calls,
block until released, fail, or accept large bodies (``@pytest.mark.urls(__name__)``)."""

from __future__ import annotations

import threading
from typing import Any

from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from ninja import Body, Router
from ninja.responses import Status

from q2c.core.errors import Conflict
from q2c.platform.api import body_limit, build_api
from q2c.platform.auth import api_auth

CALLS: dict[str, int] = {"echo": 0, "slow": 0, "fail": 0, "conflict": 0}
#: /slow waits for this gate; tests open it.
GATE = threading.Event()
#: set by /slow once it is inside the endpoint.
ENTERED = threading.Event()

router = Router(auth=api_auth)


@router.post("/echo", response={201: dict[str, Any]}, operation_id="test_echo")
def echo(request: HttpRequest, payload: Body[dict[str, Any]]) -> Status[dict[str, Any]]:
    CALLS["echo"] += 1
    return Status(201, {"call": CALLS["echo"], "payload": payload})


@router.post("/slow", response={201: dict[str, Any]}, operation_id="test_slow")
def slow(request: HttpRequest, payload: Body[dict[str, Any]]) -> Status[dict[str, Any]]:
    CALLS["slow"] += 1
    ENTERED.set()
    GATE.wait(timeout=30)
    group = Group.objects.create(name=f"idem-{payload.get('name', 'x')}-{CALLS['slow']}")
    return Status(201, {"group": group.name})


@router.post("/fail", operation_id="test_fail")
def fail(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    CALLS["fail"] += 1
    raise RuntimeError("the endpoint broke")


@router.post("/conflict", operation_id="test_conflict")
def conflict(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    CALLS["conflict"] += 1
    raise Conflict("not now", code="test.busy")


@router.post("/small", operation_id="test_small")
@body_limit(100)
def small(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    return {"size": len(request.body)}


@router.post("/batch", operation_id="test_batch")
@body_limit(8 * 1024 * 1024)
def batch(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    return {"size": len(request.body), "items": len(payload.get("items", []))}


@router.post("/default", operation_id="test_default")
def default(request: HttpRequest, payload: Body[dict[str, Any]]) -> dict[str, Any]:
    return {"size": len(request.body)}


api = build_api(routers=[("/t/", router)], urls_namespace="conventions_test_api")


@csrf_exempt
@body_limit(8 * 1024 * 1024)
def upload(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(len(request.body)), content_type="text/plain")


@csrf_exempt
def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(str(len(request.POST.get("text", ""))), content_type="text/plain")


urlpatterns = [
    path("api/v1/", api.urls),
    path("upload/", upload),
    path("form/", form),
]
