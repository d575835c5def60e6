"""Login lockout after repeated failures (django-axes, AXES_FAILURE_LIMIT = 5 by default)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    # The lockout is what is tested here, not the password hash: a fast hasher keeps it quick.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def rita(db):
    return get_user_model().objects.create_user("rita", password=PASSWORD)


def login(client: Client, username: str, password: str):
    return client.post("/login/", {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(rita):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for _ in range(4):
        response = login(client, "rita", "wrong")
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
    locked = login(client, "rita", "wrong")
    assert locked.status_code == 429
    assert "Too many failed login attempts" in locked.content.decode()
    again = login(client, "rita", PASSWORD)
    assert again.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302


def test_the_lockout_is_per_username_so_others_can_still_log_in(rita):
    get_user_model().objects.create_user("max", password=PASSWORD)
    client = Client()
    for _ in range(5):
        login(client, "rita", "wrong")
    response = login(client, "max", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_successful_login_resets_the_failure_count(rita):
    client = Client()
    for _ in range(4):
        login(client, "rita", "wrong")
    assert login(client, "rita", PASSWORD).status_code == 302
    client.post("/logout/")
    for _ in range(4):
        assert login(client, "rita", "wrong").status_code == 200
    assert login(client, "rita", PASSWORD).status_code == 302
