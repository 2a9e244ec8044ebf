"""Runs list (filters, re-run with the same args, cancel) and restart from a step picked on the graph."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for
from tests.e2e.conftest import log_in, screenshot
from tests.e2e.test_run_live import ALICE_PASSWORD, py

pytestmark = [pytest.mark.e2e, pytest.mark.worker]


def two_steps(summary: str, second: str) -> dict:
    return {"summary": summary, "value": {"modules": [
        py("a", "Prepare", "def main(n: int):\n    return n + 1\n", {"n": {"type": "javascript", "expr": "flow_input.n"}}),
        py("b", "Finish", second, {"x": {"type": "javascript", "expr": "results.a"}}),
    ]}, "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}


OK = "def main(x: int):\n    return x * 10\n"
BOOM = "def main(x: int):\n    raise ValueError(f'boom {x}')\n"
SLOW = "import time\n\ndef main(x: int):\n    time.sleep(60)\n    return x\n"


def save_and_run(api, path: str, flow: dict, args: dict) -> str:
    assert api.post("/api/flows/", {**flow, "path": path}, format="json").status_code == 201
    response = api.post(f"/api/flows/{path}/runs", {"args": args}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def final(api, run_id: str) -> dict:
    return wait_for(lambda: (b := api.get(f"/api/runs/{run_id}").json())["status"] in ("success", "failure", "canceled") and b,
                    timeout=30, message="the run to end")


def rows(page):
    return page.get_by_test_id("run-row")


def test_filters_rerun_and_cancel_from_the_runs_list(page, live, api, user):
    good = save_and_run(api, "f/e2e/good", two_steps("Good flow", OK), {"n": 1})
    bad = save_and_run(api, "f/e2e/bad", two_steps("Bad flow", BOOM), {"n": 2})
    final(api, good), final(api, bad)
    log_in(page, "alice", ALICE_PASSWORD)

    page.goto("/runs/")
    expect(rows(page)).to_have_count(2)
    page.select_option("#f-status", "failure")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-run-id", bad)
    assert "status=failure" in page.url
    page.select_option("#f-status", "")
    page.fill("#f-flow", "f/e2e/good")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_attribute("data-run-id", good)
    tomorrow = (dt.date.today() + dt.timedelta(days=2)).isoformat()
    page.fill("#f-from", tomorrow)
    expect(page.get_by_text("No run matches these filters")).to_be_visible()
    page.get_by_text("Clear filters").click()
    expect(rows(page)).to_have_count(2)
    screenshot(page, "runs-list")

    # re-run with the same args: a new run of the same flow opens
    page.locator(f'[data-run-id="{bad}"] [data-testid="row-rerun"]').click()
    page.wait_for_url(re.compile(r"/runs/[0-9a-f-]{36}$"))
    new_id = page.url.rsplit("/", 1)[1]
    assert new_id not in (good, bad)
    body = final(api, new_id)
    assert body["flow_path"] == "f/e2e/bad" and body["args"] == {"n": 2}

    # cancel a running run from the list
    slow = save_and_run(api, "f/e2e/slow", two_steps("Slow flow", SLOW), {"n": 3})
    wait_for(lambda: any(s["key"] == "b" and s["status"] == "running"
                         for s in api.get(f"/api/runs/{slow}").json()["steps"]), timeout=30, message="b to run")
    page.goto("/runs/")
    page.locator(f'[data-run-id="{slow}"] [data-testid="row-cancel"]').click()
    page.get_by_test_id("confirm-row-cancel").click()
    expect(page.locator(f'[data-run-id="{slow}"] [data-status]')).to_have_attribute("data-status", "canceled", timeout=20_000)
    assert final(api, slow)["status"] == "canceled"


def test_restart_from_a_step_picked_on_the_failed_runs_graph(page, live, api, user):
    bad = save_and_run(api, "f/e2e/restart", two_steps("Restartable", BOOM), {"n": 4})
    assert final(api, bad)["status"] == "failure"
    log_in(page, "alice", ALICE_PASSWORD)
    page.goto(f"/runs/{bad}")
    expect(page.get_by_test_id("failure-banner")).to_contain_text("boom 5")
    screenshot(page, "run-failed-real")
    page.get_by_test_id("restart-from").click()
    expect(page.get_by_test_id("pick-banner")).to_be_visible()
    page.locator('[data-testid="node-b"]').click()
    expect(page.get_by_test_id("restart-modal")).to_contain_text("Finish")
    page.get_by_test_id("confirm-restart").click()
    page.wait_for_url(lambda url: bad not in url and "/runs/" in url)
    new_id = page.url.rsplit("/", 1)[1]
    body = final(api, new_id)
    assert body["restarted_from"] == bad
    a = next(s for s in body["steps"] if s["key"] == "a")
    assert a["result"] == 5
    expect(page.get_by_text(f"#{bad[:8]}")).to_be_visible()
