"""Browser tests: Playwright driving Debian's Chromium against pytest-django's live server.

Fixtures for every app's browser tests:

- ``browser`` (session): headless Chromium at /usr/bin/chromium (``--no-sandbox`` and the flags
  that keep it from calling home). Without Chromium the tests are skipped — and under CI=true
  tests/conftest.py turns that skip into a failure.
- ``page``: a fresh browser context and page whose relative URLs go to the live server
  (``page.goto("/parties/accounts/")``); the database is transactional, as the server thread
  needs committed rows.
- ``login_as(role, username=None)``: creates a user holding ``role`` and logs in through the real
  login form; returns the user.
- ``screenshot(page, name)``: saves ``test-artifacts/<name>.png`` and returns its path.

Mark browser tests ``@pytest.mark.browser``. The sync Playwright API runs an event loop in the
test thread, so Django's guard against ORM calls from async code is switched off for this test
process (``DJANGO_ALLOW_ASYNC_UNSAFE``), as pytest-django's live server needs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path(os.environ.get("Q2C_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "browser-test-password"


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        pytest.skip("playwright is not installed")
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
    finally:
        playwright.stop()


@pytest.fixture
def page(browser: Any, live_server: Any, transactional_db: Any, settings: Any) -> Iterator[Any]:
    # A fast hasher: the tests are about pages, and logging in several users should not take seconds.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    context = browser.new_context(base_url=live_server.url, locale="en-GB", timezone_id="Europe/Berlin")
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


@pytest.fixture
def login_as(page: Any) -> Callable[..., Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    def login(role: str, username: str | None = None) -> Any:
        name = username or f"{role}-user"
        user = get_user_model().objects.create_user(name, password=PASSWORD)
        if role == "admin":
            user.is_staff = user.is_superuser = True
            user.save(update_fields=["is_staff", "is_superuser"])
        # Transactional tests empty the tables between tests, seeded role groups included.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        page.goto("/login/")
        page.get_by_label("Username").fill(name)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(re.compile(r".*/$"))
        return user

    return login


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path]:
    def save(page: Any, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
