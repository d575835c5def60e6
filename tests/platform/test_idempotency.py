"""Idempotency-Key on POST under /api/v1 (docs/api.md): replay, key reuse, in-flight requests,
expiry, and — on PostgreSQL — racing requests with one key run the endpoint exactly once."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connections
from django.test import Client
from django.utils import timezone

from q2c.parties.models import Account
from q2c.platform.auth import ApiToken
from q2c.platform.idempotency import IdempotencyRecord, purge_expired

from . import conventions_urls
from .conventions_urls import CALLS

KEY = "HTTP_IDEMPOTENCY_KEY"


def make_client(username: str, **kwargs) -> Client:
    user = get_user_model().objects.create_user(username)
    _, raw = ApiToken.issue(user, "tests")
    return Client(headers={"Authorization": f"Bearer {raw}"}, **kwargs)


def post(client: Client, path: str, body, key: str | None = "key-1", **extra):
    headers = {KEY: key} if key is not None else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data=data, content_type="application/json", **headers, **extra)


@pytest.fixture(autouse=True)
def _reset_counters():
    for name in CALLS:
        CALLS[name] = 0
    conventions_urls.GATE.clear()
    conventions_urls.ENTERED.clear()
    yield
    conventions_urls.GATE.set()


@pytest.mark.django_db
@pytest.mark.urls(conventions_urls.__name__)
class TestReplay:
    def test_the_same_key_and_body_replays_the_first_response_without_running_again(self):
        client = make_client("ann")
        first = post(client, "/api/v1/t/echo", {"a": 1, "b": [1, 2]})
        again = post(client, "/api/v1/t/echo", '{ "b": [1, 2],  "a": 1 }')  # same JSON, other spelling
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json() == {"call": 1, "payload": {"a": 1, "b": [1, 2]}}
        assert again["Idempotent-Replayed"] == "true"
        assert not first.has_header("Idempotent-Replayed")
        assert again["Content-Type"] == first["Content-Type"]
        assert CALLS["echo"] == 1

    def test_the_same_key_with_another_body_is_a_422_and_does_not_run(self):
        client = make_client("ann")
        post(client, "/api/v1/t/echo", {"a": 1})
        response = post(client, "/api/v1/t/echo", {"a": 2})
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency.key_reused"
        assert CALLS["echo"] == 1

    def test_keys_are_scoped_to_the_user_and_the_route(self):
        ann, bob = make_client("ann"), make_client("bob")
        assert post(ann, "/api/v1/t/echo", {"a": 1}).json()["call"] == 1
        assert post(bob, "/api/v1/t/echo", {"a": 1}).json()["call"] == 2  # another user: runs
        assert post(ann, "/api/v1/t/default", {"a": 1}).status_code == 200  # another route: runs
        assert CALLS["echo"] == 2

    def test_without_a_key_every_post_runs(self):
        client = make_client("ann")
        post(client, "/api/v1/t/echo", {"a": 1}, key=None)
        post(client, "/api/v1/t/echo", {"a": 1}, key=None)
        assert CALLS["echo"] == 2
        assert IdempotencyRecord.objects.count() == 0

    def test_a_request_still_running_answers_409_with_retry_after(self):
        client = make_client("ann")
        user = get_user_model().objects.get(username="ann")
        now = timezone.now()
        # The first request's claim, as its worker holds it while the endpoint runs.
        IdempotencyRecord.objects.create(
            user_id=user.pk,
            route="POST /api/v1/t/echo",
            key="key-1",
            fingerprint=_fingerprint_of(client, {"a": 1}),
            locked_until=now + timedelta(minutes=5),
            expires_at=now + timedelta(hours=24),
        )
        response = post(client, "/api/v1/t/echo", {"a": 1})
        assert response.status_code == 409
        assert response.json()["code"] == "idempotency.in_progress"
        assert response["Retry-After"] == "1"
        assert CALLS["echo"] == 0

    def test_an_abandoned_claim_is_taken_over_after_its_lease(self):
        client = make_client("ann")
        user = get_user_model().objects.get(username="ann")
        past = timezone.now() - timedelta(minutes=6)
        IdempotencyRecord.objects.create(
            user_id=user.pk,
            route="POST /api/v1/t/echo",
            key="key-1",
            fingerprint=_fingerprint_of(client, {"a": 1}),
            locked_until=past,
            expires_at=past + timedelta(hours=24),
        )
        assert post(client, "/api/v1/t/echo", {"a": 1}).status_code == 201
        assert CALLS["echo"] == 1

    def test_after_24_hours_the_key_runs_again(self):
        client = make_client("ann")
        post(client, "/api/v1/t/echo", {"a": 1})
        IdempotencyRecord.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        assert post(client, "/api/v1/t/echo", {"a": 1}).json()["call"] == 2
        assert IdempotencyRecord.objects.count() == 1

    def test_the_daily_purge_removes_expired_records_only(self):
        client = make_client("ann")
        post(client, "/api/v1/t/echo", {"a": 1}, key="old")
        post(client, "/api/v1/t/echo", {"a": 1}, key="new")
        IdempotencyRecord.objects.filter(key="old").update(expires_at=timezone.now() - timedelta(hours=1))
        assert purge_expired() == {"deleted": 1}
        assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]

    def test_server_errors_and_conflicts_are_not_stored_so_a_retry_runs_again(self):
        client = make_client("ann", raise_request_exception=False)
        assert post(client, "/api/v1/t/fail", {"a": 1}).status_code == 500
        assert post(client, "/api/v1/t/fail", {"a": 1}).status_code == 500
        assert CALLS["fail"] == 2
        assert post(client, "/api/v1/t/conflict", {"a": 1}, key="k2").status_code == 409
        assert post(client, "/api/v1/t/conflict", {"a": 1}, key="k2").status_code == 409
        assert CALLS["conflict"] == 2
        assert IdempotencyRecord.objects.count() == 0

    def test_validation_errors_are_final_and_replayed(self):
        client = make_client("ann")
        first = post(client, "/api/v1/t/echo", "not json")
        again = post(client, "/api/v1/t/echo", "not json")
        assert (first.status_code, again.status_code) == (400, 400)
        assert again["Idempotent-Replayed"] == "true"

    @pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
    def test_a_malformed_key_is_a_422(self, key):
        client = make_client("ann")
        response = post(client, "/api/v1/t/echo", {"a": 1}, key=key)
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency.invalid_key"
        assert CALLS["echo"] == 0

    def test_without_credentials_the_key_is_ignored_and_the_answer_is_401(self):
        response = post(Client(), "/api/v1/t/echo", {"a": 1})
        assert response.status_code == 401
        assert IdempotencyRecord.objects.count() == 0

    def test_only_post_is_idempotent_by_key(self):
        client = make_client("ann")
        client.get("/api/v1/platform/me", **{KEY: "key-1"})
        assert IdempotencyRecord.objects.count() == 0


@pytest.mark.django_db
def test_a_retried_account_creation_gives_one_account_and_the_same_answer(db):
    from q2c.parties import services

    services.create_entity(name="Acme Cloud GmbH", country="DE", base_currency="EUR")
    client = make_client("rita")
    get_user_model().objects.get(username="rita").groups.add(Group.objects.get(name="sales_rep"))
    body = {"name": "Northwind Handels GmbH", "country": "DE"}
    first = post(client, "/api/v1/parties/accounts", body, key="create-northwind")
    again = post(client, "/api/v1/parties/accounts", body, key="create-northwind")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again["Location"] == first["Location"]
    assert Account.objects.count() == 1


def _fingerprint_of(client: Client, body) -> str:
    """The fingerprint a request with this body to /api/v1/t/echo gets (from the module's rule)."""
    from django.test import RequestFactory

    from q2c.platform.idempotency import fingerprint

    request = RequestFactory().post("/api/v1/t/echo", data=json.dumps(body), content_type="application/json")
    return fingerprint(request)


# --------------------------------------------------------------------------- real concurrency


def _in_thread(results: list, index: int, func) -> threading.Thread:
    def run() -> None:
        try:
            results[index] = func()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.urls(conventions_urls.__name__)
class TestUnderConcurrency:
    def test_while_the_first_request_runs_a_retry_is_409_and_another_body_is_422(self):
        client = make_client("ann")
        results: list = [None]
        first = _in_thread(results, 0, lambda: post(client, "/api/v1/t/slow", {"name": "a"}))
        assert conventions_urls.ENTERED.wait(timeout=20)
        retry = post(client, "/api/v1/t/slow", {"name": "a"})
        other = post(client, "/api/v1/t/slow", {"name": "b"})
        conventions_urls.GATE.set()
        first.join(timeout=30)
        assert retry.status_code == 409 and retry.json()["code"] == "idempotency.in_progress"
        assert other.status_code == 422 and other.json()["code"] == "idempotency.key_reused"
        assert results[0].status_code == 201
        replay = post(client, "/api/v1/t/slow", {"name": "a"})
        assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
        assert replay.json() == results[0].json()
        assert CALLS["slow"] == 1
        assert Group.objects.filter(name__startswith="idem-").count() == 1

    def test_eight_racing_requests_with_one_key_run_the_endpoint_once(self):
        conventions_urls.GATE.set()
        user = get_user_model().objects.create_user("ann")
        _, raw = ApiToken.issue(user, "tests")
        barrier = threading.Barrier(8)
        results: list = [None] * 8

        def attempt():
            client = Client(headers={"Authorization": f"Bearer {raw}"})  # one client per thread
            barrier.wait(timeout=20)
            return post(client, "/api/v1/t/slow", {"name": "race"}, key="race-key")

        threads = [_in_thread(results, i, attempt) for i in range(8)]
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(r.status_code for r in results)
        originals = [r for r in results if r.status_code == 201 and not r.has_header("Idempotent-Replayed")]
        assert len(originals) == 1, statuses
        assert set(statuses) <= {201, 409}
        assert CALLS["slow"] == 1
        assert Group.objects.filter(name__startswith="idem-race").count() == 1
