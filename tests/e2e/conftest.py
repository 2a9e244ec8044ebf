"""Browser fixtures: Playwright driving Debian's Chromium against the live stack (tests/live.py).

Use ``page`` (a fresh context per test) and ``logged_in(page, user)`` to log in through the real
login form. Screenshots for humans go to ``OPENFLOW_SCREENSHOTS`` when that is set.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API runs a loop in this thread

from tests.conftest import ARGS, CHROMIUM  # noqa: E402,F401 - the browser fixture lives in tests/conftest.py

PASSWORD = "e2e-password-123"

pytestmark = pytest.mark.e2e


@pytest.fixture
def page(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def e2e_user(django_user_model):
    return django_user_model.objects.create_user("erin", "erin@example.com", PASSWORD)


def log_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def screenshot(page, name: str) -> None:
    folder = os.environ.get("OPENFLOW_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
