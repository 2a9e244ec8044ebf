"""Losing the WebSocket mid-run: the page reconnects, re-syncs from the snapshot without a reload,
and ends on exactly the final state the API reports."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.conftest import wait_for
from tests.e2e.conftest import log_in, screenshot
from tests.e2e.test_run_live import ALICE_PASSWORD, loop_flow, start_run

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

FIELDS = ("key", "status", "attempts", "result", "error", "logs", "started_at", "finished_at")


def comparable(run: dict) -> dict:
    return {"status": run["status"], "result": run["result"], "finished_at": run["finished_at"],
            "steps": [{k: s.get(k) for k in FIELDS} for s in run["steps"]]}


def test_killed_websocket_recovers_the_exact_final_state(page, live, api, user):
    sockets = {"blocked": False, "open": []}

    def route(ws):
        if sockets["blocked"]:
            ws.close(code=1011, reason="network down")
            return
        ws.connect_to_server()
        sockets["open"].append(ws)

    page.route_web_socket(re.compile(r".*/ws/runs/.*"), route)
    # ~9 s of work: long enough that a slow CI box still reaches the cut while the loop runs
    run_id = start_run(api, loop_flow(), {"n": 6, "delay": 1.5})
    log_in(page, "alice", ALICE_PASSWORD)
    page.goto(f"/runs/{run_id}")
    page.evaluate("() => { window.__sameDocument = true; }")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-connection", "live", timeout=15_000)
    expect(page.locator('[data-testid="node-work"]')).to_have_class(re.compile(r"\bst-running\b"), timeout=15_000)
    assert api.get(f"/api/runs/{run_id}").json()["status"] == "running", "the run ended before the cut"

    # the network drops mid-run: the socket is killed and new ones are refused, the API is unreachable
    sockets["blocked"] = True
    page.context.set_offline(True)
    for ws in sockets["open"]:
        ws.close(code=1006, reason="killed by the test")
    expect(page.get_by_test_id("connection")).to_have_attribute("data-connection", "reconnecting")

    # meanwhile the run finishes: the page cannot know yet
    wait_for(lambda: api.get(f"/api/runs/{run_id}").json()["status"] == "success", timeout=30,
             message="the run to finish")
    page.wait_for_timeout(1500)
    assert page.get_by_test_id("run-status").get_attribute("data-status") == "running"
    screenshot(page, "run-reconnecting")

    # the network comes back: reconnect, snapshot, final state
    sockets["blocked"] = False
    page.context.set_offline(False)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "success", timeout=20_000)
    assert page.evaluate("() => window.__sameDocument") is True

    expected = api.get(f"/api/runs/{run_id}").json()
    shown = page.evaluate("() => window.__ofsLive.state.run")
    assert comparable(shown) == comparable(expected)
    for module_id in ("start", "each", "work", "gate", "after"):
        expect(page.locator(f'[data-testid="node-{module_id}"]')).to_have_class(re.compile(r"\bst-success\b"))
    expect(page.locator('[data-testid="node-each"]')).to_contain_text("6/6")
    started = [s for s in expected["steps"] if s["started_at"]]
    expect(page.locator('[data-testid^="tl-"]')).to_have_count(len(started))
    page.locator('[data-testid="node-work"]').click()
    expect(page.get_by_test_id("step-logs")).to_have_text(
        next(s["logs"] for s in expected["steps"] if s["key"] == "each/5/work"))
    screenshot(page, "run-recovered")
