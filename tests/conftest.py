"""Shared fixtures. Browser fixtures live in tests/e2e/conftest.py."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

FLOWS_DIR = Path(__file__).parent / "flows"
CHROMIUM = os.environ.get("OPENFLOW_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage"]


@pytest.fixture
def browser():
    """Debian's Chromium through Playwright's sync API, one per test.

    Not session-scoped on purpose: while a sync Playwright is alive it keeps an event loop marked
    running in this thread, which breaks every later asyncio test (WebSocket communicator tests) in
    the same pytest run. Starting it costs ~0.5 s a test.
    """
    if os.environ.get("OPENFLOW_SKIP_BROWSER"):
        pytest.skip("OPENFLOW_SKIP_BROWSER is set")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.com", "alice-password-1")


@pytest.fixture
def other_user(django_user_model):
    return django_user_model.objects.create_user("bob", "bob@example.com", "bob-password-1")


@pytest.fixture
def api(user):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user)
    return client


def load_flow(name: str) -> dict:
    return json.loads((FLOWS_DIR / f"{name}.json").read_text())


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """pytest-django's test database, minus stray sessions at the end.

    Connections opened in helper threads (asgiref's executor for database_sync_to_async, the live
    stack's clients) are never closed by Django; on PostgreSQL they keep the test database from being
    dropped ("is being accessed by other users"), leaving it behind for the next run.
    """
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()")


@pytest.fixture(scope="session")
def live_stack(django_db_setup, django_db_blocker, tmp_path_factory):
    """daphne + a Celery worker on the test database; see tests/live.py."""
    from django.conf import settings
    from django.db import connection

    from tests.live import start_stack

    stack = start_stack(dict(connection.settings_dict), settings.REDIS_URL, tmp_path_factory.mktemp("live"))
    yield stack
    stack.stop()


@pytest.fixture
def live(live_stack, transactional_db):
    """The live stack for one test, with the data the test writes committed and visible to it."""
    return live_stack


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.05, message: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {message}")
