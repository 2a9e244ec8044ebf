"""The stack end to end: login in Chromium, a real worker runs a task, its message reaches the page."""

from __future__ import annotations

import pytest

from runs.models import Run
from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.e2e


def test_login_page_logs_a_user_in_and_lands_on_flows(page, e2e_user):
    log_in(page, "erin")
    assert page.url.endswith("/flows/")
    screenshot(page, "flows-after-login")


def test_wrong_password_shows_an_error_and_stays_on_login(page, e2e_user):
    page.goto("/login/")
    page.fill("#id_username", "erin")
    page.fill("#id_password", "not-the-password")
    page.click("button[type=submit]")
    assert page.locator("[role=alert]").inner_text().startswith("Your username and password")
    assert "/login/" in page.url


def test_message_from_a_worker_reaches_the_browser_over_websocket(page, e2e_user, live):
    run = Run.objects.create(snapshot={"summary": "t", "value": {"modules": []}}, args={}, created_by=e2e_user)
    log_in(page, "erin")
    page.evaluate(
        """(runId) => new Promise((resolve, reject) => {
            window.__got = [];
            const ws = new WebSocket(`ws://${location.host}/ws/runs/${runId}/`);
            ws.onmessage = (m) => window.__got.push(JSON.parse(m.data));
            ws.onopen = () => resolve(true);
            ws.onerror = () => reject(new Error('websocket failed'));
        })""",
        str(run.pk),
    )
    from runs.tasks import announce

    announce.delay(str(run.pk), "hello from celery")
    page.wait_for_function("() => window.__got.some(m => m.type === 'log' && m.text.includes('hello from celery'))")
    message = page.evaluate("() => window.__got.find(m => m.type === 'log')")
    assert message["run_id"] == str(run.pk)
    assert message["seq"] >= 1
    assert "celery" in message["text"] and "from " in message["text"]


def test_websocket_refuses_a_user_who_cannot_see_the_run(page, e2e_user, django_user_model):
    owner = django_user_model.objects.create_user("owner", "o@example.com", "owner-password-1")
    run = Run.objects.create(snapshot={"summary": "t", "value": {"modules": []}}, args={}, created_by=owner)
    log_in(page, "erin")
    code = page.evaluate(
        """(runId) => new Promise((resolve) => {
            const ws = new WebSocket(`ws://${location.host}/ws/runs/${runId}/`);
            ws.onclose = (e) => resolve(e.code);
        })""",
        str(run.pk),
    )
    assert code == 4403
