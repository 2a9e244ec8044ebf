"""The run page, live: nodes change colour as a real worker runs a loop, the suspended step is
approved with the button on the graph, and the next step receives the form payload."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.worker]

ALICE_PASSWORD = "alice-password-1"

FORM = {"type": "object", "order": ["approved_amount", "comment"], "required": ["approved_amount"],
        "properties": {"approved_amount": {"type": "number", "description": "Amount approved"},
                       "comment": {"type": "string", "description": "Why"}}}


def py(id_, summary, content, transforms):
    return {"id": id_, "summary": summary, "value": {"type": "rawscript", "language": "python3", "content": content,
                                                     "input_transforms": transforms}}


def loop_flow(suspend: dict | None = None) -> dict:
    """start -> for each item: work (sleeps, prints) -> gate (optionally suspends) -> after (sees resume)."""
    gate = py("gate", "Manager sign-off", "def main(doubled: list):\n    return {'total': sum(doubled)}\n",
              {"doubled": {"type": "javascript", "expr": "results.each"}})
    if suspend:
        gate["suspend"] = suspend
    return {
        "summary": "Process items then wait for approval",
        "value": {"modules": [
            py("start", "List items", "def main(n: int):\n    print(f'making {n} items')\n    return list(range(n))\n",
               {"n": {"type": "javascript", "expr": "flow_input.n"}}),
            {"id": "each", "summary": "For each item", "value": {
                "type": "forloopflow", "iterator": {"type": "javascript", "expr": "results.start"},
                "skip_failures": False, "parallel": False,
                "modules": [py("work", "Work on item",
                               "import time\n\ndef main(x: int, delay: float):\n"
                               "    print(f'working on {x}', flush=True)\n    time.sleep(delay)\n"
                               "    print(f'done {x}', flush=True)\n    return x * 2\n",
                               {"x": {"type": "javascript", "expr": "flow_input.iter.value"},
                                "delay": {"type": "javascript", "expr": "flow_input.delay"}})]}},
            gate,
            py("after", "Use the decision", "def main(payload, approvers: list):\n"
               "    return {'payload': payload, 'approvers': approvers}\n",
               {"payload": {"type": "javascript", "expr": "resume"},
                "approvers": {"type": "javascript", "expr": "approvers"}}),
        ]},
        "schema": {"type": "object", "properties": {"n": {"type": "integer"}, "delay": {"type": "number"}}},
    }


def start_run(api, flow: dict, args: dict) -> str:
    response = api.post("/api/runs/", {"flow": flow, "args": args}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["id"]


def node(page, module_id: str):
    return page.locator(f'[data-testid="node-{module_id}"]')


def test_nodes_change_colour_live_and_the_graph_button_approves_with_the_form(page, live, api, user):
    run_id = start_run(api, loop_flow({"required_events": 1, "timeout": 600, "resume_form": {"schema": FORM}}),
                       {"n": 3, "delay": 1.0})
    log_in(page, "alice", ALICE_PASSWORD)
    page.goto(f"/runs/{run_id}")
    page.evaluate("() => { window.__sameDocument = true; }")

    # live: the loop body runs (blue) then succeeds (green), without any reload
    expect(node(page, "work")).to_have_class(re.compile(r"\bst-running\b"), timeout=15_000)
    expect(page.get_by_test_id("connection")).to_have_attribute("data-connection", "live")
    node(page, "work").click()
    expect(page.get_by_test_id("step-logs")).to_contain_text("working on", timeout=15_000)
    screenshot(page, "run-running")

    expect(node(page, "gate")).to_have_class(re.compile(r"\bst-suspended\b"), timeout=20_000)
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "suspended")
    expect(node(page, "work")).to_have_class(re.compile(r"\bst-success\b"))
    expect(node(page, "each")).to_contain_text("3/3")
    expect(page.get_by_test_id("suspended-banner")).to_contain_text("0 of 1 approval")
    assert page.evaluate("() => window.__sameDocument") is True
    screenshot(page, "run-suspended")

    # the Approve button on the node opens the form (it has a required field) ...
    page.get_by_test_id("node-approve").click()
    panel = page.get_by_test_id("panel-approval")
    expect(panel).to_be_visible()
    # ... which is validated before anything is sent
    panel.get_by_test_id("approve").click()
    expect(panel.get_by_test_id("error-approved_amount")).to_have_text("Required")
    panel.locator("#sf-approved_amount").fill("42.5")
    panel.locator("#sf-comment").fill("looks right")
    panel.get_by_test_id("approve").click()

    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "success", timeout=20_000)
    expect(node(page, "gate")).to_have_class(re.compile(r"\bst-success\b"))
    expect(node(page, "after")).to_have_class(re.compile(r"\bst-success\b"))
    assert page.evaluate("() => window.__sameDocument") is True

    # the next step received the payload and the approver
    node(page, "after").click()
    args = page.get_by_test_id("step-args")
    expect(args).to_contain_text("approved_amount")
    expect(args).to_contain_text("42.5")
    expect(args).to_contain_text('"looks right"')
    expect(args).to_contain_text('"alice"')
    # the iteration picker maps the loop body to another iteration's step
    page.get_by_test_id("iter-select-each").select_option("0")
    node(page, "work").click()
    expect(page.get_by_test_id("step-panel")).to_have_attribute("data-step-key", "each/0/work")
    expect(page.get_by_test_id("step-args")).to_contain_text("x: 0")
    expect(page.get_by_test_id("step-logs")).to_have_text("working on 0\ndone 0\n")
    body = api.get(f"/api/runs/{run_id}").json()
    assert body["result"] == {"payload": {"approved_amount": 42.5, "comment": "looks right"}, "approvers": ["alice"]}
    screenshot(page, "run-success")


def test_cancel_on_the_node_rejects_and_the_run_fails(page, live, api, user):
    run_id = start_run(api, loop_flow({"required_events": 1, "timeout": 600}), {"n": 1, "delay": 0.1})
    log_in(page, "alice", ALICE_PASSWORD)
    page.goto(f"/runs/{run_id}")
    expect(page.get_by_test_id("node-cancel")).to_be_visible(timeout=20_000)
    page.get_by_test_id("node-cancel").click()
    page.get_by_test_id("node-confirm-cancel").click()
    expect(page.get_by_test_id("run-status")).to_have_attribute("data-status", "failure", timeout=20_000)
    expect(page.get_by_test_id("failure-banner")).to_contain_text("Disapproved")
    expect(node(page, "after")).to_have_class(re.compile(r"\bst-skipped\b"))
    screenshot(page, "run-failed")
