"""API conventions every router gets: problem+json errors, 401 for missing/revoked credentials,
400 for a body that is not JSON, 413 above the endpoint's body limit, OpenAPI and docs served
without a CDN."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from q2c.platform.auth import ApiToken

from . import conventions_urls

pytestmark = pytest.mark.django_db

DEFAULT_LIMIT = settings.DATA_UPLOAD_MAX_MEMORY_SIZE  # 2.5 MB (Django's default, kept by q2c)


@pytest.fixture
def token_client(db):
    user = get_user_model().objects.create_user("api-user")
    _, raw = ApiToken.issue(user, "tests")
    client = Client(headers={"Authorization": f"Bearer {raw}"})
    client.raw_token = raw
    return client


def body_of_size(size: int) -> str:
    """A JSON object whose serialised form is exactly ``size`` bytes."""
    frame = len(json.dumps({"pad": ""}))
    return json.dumps({"pad": "x" * (size - frame)})


def problem(response, status, code):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == code and body["status"] == status
    return body


class TestCredentials:
    def test_no_credentials_is_a_401_problem_naming_the_bearer_scheme(self):
        response = Client().get("/api/v1/platform/me")
        problem(response, 401, "auth.unauthenticated")
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_an_unknown_token_is_a_401_with_its_own_code(self):
        response = Client(headers={"Authorization": "Bearer q2c_nonsense"}).get("/api/v1/platform/me")
        problem(response, 401, "auth.invalid_token")

    def test_a_revoked_token_is_refused_even_with_a_session_at_hand(self, token_client):
        user = get_user_model().objects.get(username="api-user")
        ApiToken.objects.get(user=user).revoke()
        token_client.force_login(user)
        response = token_client.get("/api/v1/platform/me")
        problem(response, 401, "auth.token_revoked")

    def test_a_token_of_a_deactivated_user_is_refused(self, token_client):
        get_user_model().objects.filter(username="api-user").update(is_active=False)
        problem(token_client.get("/api/v1/platform/me"), 401, "auth.invalid_token")

    def test_a_valid_token_says_who_is_calling(self, token_client):
        assert token_client.get("/api/v1/platform/me").json() == {
            "id": get_user_model().objects.get().pk,
            "username": "api-user",
            "roles": [],
        }


class TestMalformedInput:
    def test_a_body_that_is_not_json_is_a_400_problem(self, token_client):
        response = token_client.post(
            "/api/v1/platform/tokens", data="{name: 'x'", content_type="application/json"
        )
        problem(response, 400, "request.malformed_json")
        assert ApiToken.objects.count() == 1

    def test_a_wrong_type_is_a_422_naming_the_field(self, token_client):
        response = token_client.post(
            "/api/v1/platform/tokens", data=json.dumps({"name": ["x"]}), content_type="application/json"
        )
        body = problem(response, 422, "validation")
        assert body["errors"][0]["field"] == "name"

    def test_an_unknown_api_route_is_a_404(self, token_client):
        assert token_client.get("/api/v1/no-such-thing").status_code == 404


@pytest.mark.urls(conventions_urls.__name__)
class TestBodyLimits:
    def test_a_body_at_the_default_limit_passes_and_one_byte_more_is_413(self, token_client):
        ok = token_client.post(
            "/api/v1/t/default", data=body_of_size(DEFAULT_LIMIT), content_type="application/json"
        )
        assert ok.status_code == 200, ok.content[:200]
        assert ok.json()["size"] == DEFAULT_LIMIT
        too_big = token_client.post(
            "/api/v1/t/default", data=body_of_size(DEFAULT_LIMIT + 1), content_type="application/json"
        )
        body = problem(too_big, 413, "request.too_large")
        assert body["limit"] == DEFAULT_LIMIT

    def test_an_endpoint_may_lower_its_limit(self, token_client):
        assert (
            token_client.post(
                "/api/v1/t/small", data=body_of_size(100), content_type="application/json"
            ).status_code
            == 200
        )
        problem(
            token_client.post("/api/v1/t/small", data=body_of_size(101), content_type="application/json"),
            413,
            "request.too_large",
        )

    def test_a_batch_endpoint_may_raise_its_limit_above_djangos(self, token_client):
        payload = json.dumps({"items": [{"n": i, "pad": "y" * 40} for i in range(60_000)]})
        assert DEFAULT_LIMIT < len(payload) < 8 * 1024 * 1024
        response = token_client.post("/api/v1/t/batch", data=payload, content_type="application/json")
        assert response.status_code == 200, response.content[:200]
        assert response.json() == {"size": len(payload), "items": 60_000}
        # The same body to an endpoint with the default limit is refused.
        problem(
            token_client.post("/api/v1/t/default", data=payload, content_type="application/json"),
            413,
            "request.too_large",
        )

    def test_the_limit_applies_before_authentication_is_even_looked_at(self):
        response = Client().post("/api/v1/t/small", data=body_of_size(500), content_type="application/json")
        problem(response, 413, "request.too_large")

    def test_pages_get_a_plain_413_and_may_raise_their_limit_too(self):
        big = "z" * (DEFAULT_LIMIT + 10)
        response = Client().post("/form/", data={"text": big})
        assert response.status_code == 413
        assert response["Content-Type"].startswith("text/plain")
        uploaded = Client().post("/upload/", data=big, content_type="application/octet-stream")
        assert uploaded.status_code == 200
        assert uploaded.content == str(len(big)).encode()


class TestSchemaAndDocs:
    def test_the_openapi_schema_is_served_and_every_operation_has_a_stable_id(self):
        schema = Client().get("/api/v1/openapi.json").json()
        operations = [op for path in schema["paths"].values() for op in path.values()]
        assert operations
        for op in operations:
            # django-ninja's generated ids start with the module path (q2c_parties_api_…); an
            # explicit one reads "<app>_<verb>_<noun>".
            assert not op["operationId"].startswith("q2c_"), (
                f"{op['operationId']} has no explicit operation_id"
            )
            assert "_" in op["operationId"] and op["operationId"].isidentifier(), op["operationId"]
        ids = [op["operationId"] for op in operations]
        assert len(ids) == len(set(ids))

    def test_no_two_schema_classes_share_a_name_in_the_openapi_components(self):
        # django-ninja names components by class name only: two different ``LineIn`` classes
        # overwrite each other and the schema documents the wrong body for one of them.
        from q2c.api import api

        seen: dict[str, set[str]] = {}
        for model in _schema_models(api):
            seen.setdefault(model.__name__, set()).add(f"{model.__module__}.{model.__qualname__}")
        clashes = {name: sorted(where) for name, where in seen.items() if len(where) > 1}
        assert not clashes, f"rename one of each: {clashes}"

    def test_the_interactive_docs_load_their_assets_from_q2c_itself(self):
        html = Client().get("/api/v1/docs").content.decode()
        assert "swagger" in html.lower()
        assert "cdn" not in html.lower() and "https://" not in html.replace("https://swagger.io", "")
        assert "/static/ninja/" in html


def _schema_models(api) -> set[type]:
    """Every pydantic model an operation of ``api`` takes or returns, nested ones included."""
    from typing import get_args

    from pydantic import BaseModel

    found: set[type] = set()

    def walk(annotation) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation in found:
                return
            if not annotation.__module__.startswith("ninja"):
                found.add(annotation)
            for field in annotation.model_fields.values():
                walk(field.annotation)
            return
        for arg in get_args(annotation):
            walk(arg)

    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                for model in operation.models:
                    walk(model)
                for model in (operation.response_models or {}).values():
                    walk(model)
    return found
