"""The signed approval page, opened from its link in a browser that never logged in."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for
from tests.e2e.conftest import screenshot
from tests.e2e.test_run_live import FORM, loop_flow, start_run

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def suspended_run(api, **suspend) -> tuple[str, dict]:
    run_id = start_run(api, loop_flow({"required_events": 1, "timeout": 600, **suspend}), {"n": 2, "delay": 0.05})

    def check():
        body = api.get(f"/api/runs/{run_id}").json()
        return body if body["status"] == "suspended" and body["suspended"] else None

    return run_id, wait_for(check, timeout=30, message="the run to suspend")["suspended"]


def local(url: str) -> str:
    """The API client's absolute URLs name its test host: keep the path for the live server."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
def anonymous(browser, live):
    context = browser.new_context(base_url=live.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


def test_anonymous_approval_with_the_form_resumes_the_run(anonymous, api):
    run_id, susp = suspended_run(api, resume_form={"schema": FORM})
    page = anonymous
    page.goto(local(susp["approval_page_url"]) + "?approver=Dana")
    card = page.get_by_test_id("approval-card")
    expect(card).to_contain_text("Process items then wait for approval")
    expect(card).to_contain_text("Manager sign-off")
    expect(card).to_contain_text("Answering as Dana")
    expect(page.get_by_test_id("approval-progress")).to_contain_text("0 of 1 approval")
    expect(page.get_by_test_id("approval-countdown")).to_contain_text("Times out in")
    page.get_by_text("Run inputs").click()
    expect(page.get_by_test_id("approval-args")).to_contain_text("delay")
    screenshot(page, "approval-pending")

    page.get_by_test_id("approve").click()  # the required field is empty: nothing is sent
    expect(page.get_by_test_id("error-approved_amount")).to_have_text("Required")
    page.fill("#sf-approved_amount", "7")
    page.fill("#sf-comment", "ok from the link")
    page.get_by_test_id("approve").click()
    expect(page.get_by_test_id("approval-done")).to_have_attribute("data-outcome", "approve")
    screenshot(page, "approval-done")

    body = wait_for(lambda: (b := api.get(f"/api/runs/{run_id}").json())["status"] == "success" and b,
                    timeout=30, message="the run to finish")
    assert body["result"] == {"payload": {"approved_amount": 7, "comment": "ok from the link"}, "approvers": ["Dana"]}

    # the same link again: it says clearly that there is nothing left to do
    page.goto(local(susp["approval_page_url"]))
    state = page.get_by_test_id("approval-state")
    expect(state).to_have_attribute("data-state", "finished")
    expect(state).to_contain_text("no longer waiting")
    screenshot(page, "approval-finished")


def test_hide_cancel_hides_the_cancel_button_and_cancel_rejects(anonymous, api):
    _, hidden = suspended_run(api, hide_cancel=True)
    page = anonymous
    page.goto(local(hidden["approval_page_url"]))
    expect(page.get_by_test_id("approve")).to_be_visible()
    expect(page.get_by_test_id("cancel-approval")).to_have_count(0)

    run_id, susp = suspended_run(api)
    page.goto(local(susp["approval_page_url"]))
    page.get_by_test_id("cancel-approval").click()
    page.get_by_test_id("confirm-cancel-approval").click()
    expect(page.get_by_test_id("approval-done")).to_have_attribute("data-outcome", "cancel")
    wait_for(lambda: api.get(f"/api/runs/{run_id}").json()["status"] == "failure", timeout=30,
             message="the rejected run to fail")


def test_a_tampered_link_is_refused_clearly(anonymous, api):
    _, susp = suspended_run(api)
    page = anonymous
    page.goto(local(susp["approval_page_url"]) + "x")
    expect(page.get_by_test_id("approval-state")).to_have_attribute("data-state", "forbidden")
    screenshot(page, "approval-forbidden")
