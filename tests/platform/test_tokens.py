"""API tokens: created with the key shown once, stored hashed, listed with last use, revoked."""

from __future__ import annotations

import hashlib
import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from q2c.platform.auth import ApiToken
from q2c.platform.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann(db):
    return get_user_model().objects.create_user("ann")


@pytest.fixture
def session(ann):
    client = Client()
    client.force_login(ann)
    return client


def create(client, name="billing export"):
    return client.post(
        "/api/v1/platform/tokens", data=json.dumps({"name": name}), content_type="application/json"
    )


class TestTokenApi:
    def test_a_new_token_shows_its_key_once_and_only_its_hash_is_kept(self, session, ann):
        response = create(session)
        assert response.status_code == 201
        body = response.json()
        assert body["key"].startswith("q2c_") and len(body["key"]) > 40
        assert body["prefix"] == body["key"][:10]
        row = ApiToken.objects.get()
        assert row.key_hash == hashlib.sha256(body["key"].encode()).hexdigest()
        assert body["key"] not in json.dumps(list(ApiToken.objects.values()), default=str)
        listed = session.get("/api/v1/platform/tokens").json()
        assert [t["name"] for t in listed] == ["billing export"]
        assert "key" not in listed[0]
        assert Event.objects.filter(type="platform.token.created").count() == 1

    def test_using_a_token_records_when_it_was_last_used(self, session):
        key = create(session).json()["key"]
        assert ApiToken.objects.get().last_used_at is None
        assert (
            Client(headers={"Authorization": f"Bearer {key}"}).get("/api/v1/platform/me").status_code == 200
        )
        assert ApiToken.objects.get().last_used_at is not None
        assert session.get("/api/v1/platform/tokens").json()[0]["last_used_at"] is not None

    def test_a_revoked_token_no_longer_opens_the_api(self, session):
        created = create(session).json()
        bearer = Client(headers={"Authorization": f"Bearer {created['key']}"})
        assert bearer.get("/api/v1/platform/me").status_code == 200
        assert session.delete(f"/api/v1/platform/tokens/{created['id']}").status_code == 204
        response = bearer.get("/api/v1/platform/me")
        assert response.status_code == 401
        assert response.json()["code"] == "auth.token_revoked"
        # Revoking again changes nothing and is not an error.
        assert session.delete(f"/api/v1/platform/tokens/{created['id']}").status_code == 204
        assert Event.objects.filter(type="platform.token.revoked").count() == 1

    def test_nobody_revokes_another_users_token(self, session):
        other = get_user_model().objects.create_user("bob")
        token, _ = ApiToken.issue(other, "bob's")
        assert session.delete(f"/api/v1/platform/tokens/{token.pk}").status_code == 404
        assert ApiToken.objects.get(pk=token.pk).revoked_at is None

    @pytest.mark.parametrize("name", ["", "   ", "x" * 101, "bell\x07"])
    def test_a_token_needs_a_sensible_name(self, session, name):
        response = create(session, name)
        assert response.status_code == 422
        assert ApiToken.objects.count() == 0


class TestTokenPage:
    def test_the_page_creates_a_token_and_shows_the_key_only_in_that_answer(self, session):
        page = session.get("/tokens/")
        assert page.status_code == 200
        assert 'for="id_token_name"' in page.content.decode()
        created = session.post("/tokens/", {"name": "nightly export"})
        assert created.status_code == 201
        assert created["Cache-Control"] == "no-store"
        html = created.content.decode()
        key = html.split('id="new-token-key" class="secret" readonly value="', 1)[1].split('"', 1)[0]
        assert key.startswith("q2c_")
        assert ApiToken.objects.get().key_hash == hashlib.sha256(key.encode()).hexdigest()
        assert key not in session.get("/tokens/").content.decode()

    def test_the_page_revokes_a_token(self, session, ann):
        token, _ = ApiToken.issue(ann, "old")
        response = session.post(f"/tokens/{token.pk}/revoke/")
        assert response.status_code == 302
        assert ApiToken.objects.get().revoked_at is not None
        assert "revoked" in session.get("/tokens/").content.decode()

    def test_an_empty_name_shows_an_error_and_writes_nothing(self, session):
        response = session.post("/tokens/", {"name": " "})
        assert response.status_code == 422
        assert 'aria-invalid="true"' in response.content.decode()
        assert ApiToken.objects.count() == 0

    def test_html_in_a_token_name_is_escaped(self, session):
        session.post("/tokens/", {"name": "<img src=x onerror=alert(1)>"})
        html = session.get("/tokens/").content.decode()
        assert "<img src=x" not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html

    def test_anonymous_visitors_are_sent_to_log_in(self):
        response = Client().get("/tokens/")
        assert response.status_code == 302
        assert response["Location"].startswith("/login/?next=")


def test_an_admin_revokes_any_token_in_the_admin_but_cannot_create_one(ann):
    from django.contrib.auth.models import Group

    admin_user = get_user_model().objects.create_user("boss", is_staff=True, is_superuser=True)
    admin_user.groups.add(Group.objects.get(name="admin"))
    token, _ = ApiToken.issue(ann, "ann's")
    client = Client()
    client.force_login(admin_user)
    assert client.get("/admin/platform/apitoken/").status_code == 200
    assert client.get("/admin/platform/apitoken/add/").status_code == 403
    response = client.post("/admin/platform/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
