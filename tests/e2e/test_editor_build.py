"""The editor end to end: build a flow from an empty canvas by dragging, wire an input with the prop picker,
save, reload and compare the saved OpenFlow."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.e2e


def drag_palette(page, kind: str, target) -> None:
    page.click(".react-flow__controls-fitview")  # the whole graph in view, so every drop target is on screen
    page.locator(f"[data-testid=palette-{kind}]").drag_to(target)


def plus(page, key: str):
    """The drop target of an insertion point: "+" on an edge or an empty body ("root@1", "b:body@0")."""
    return page.locator(f'[data-drop-key="{key}"]')


def test_build_a_flow_by_dragging_then_save_and_reload(page, e2e_user):
    log_in(page, "erin")
    page.goto("/flows/new")
    page.wait_for_selector("[data-testid=flow-graph] .edge-plus")

    # a python step on the only edge (input -> result)
    drag_palette(page, "python", plus(page, "root@0"))
    page.wait_for_selector("[data-testid=node-a]")
    page.keyboard.press("Escape")
    # a for loop after it, and a TypeScript step inside its empty body
    drag_palette(page, "forloop", plus(page, "root@1"))
    page.wait_for_selector("[data-testid=node-b]")
    page.keyboard.press("Escape")
    drag_palette(page, "deno", plus(page, "b:body@0"))
    page.wait_for_selector("[data-testid=node-c]")
    page.keyboard.press("Escape")
    # a branch-to-all (two branches) after the loop, and an approval step last
    drag_palette(page, "branchall", plus(page, "root@2"))
    page.wait_for_selector("[data-testid=node-d]")
    page.keyboard.press("Escape")
    drag_palette(page, "approval", plus(page, "root@3"))
    page.wait_for_selector("[data-testid=node-e]")
    page.keyboard.press("Escape")

    # the loop iterates over words of a's message (the code editor mounts lazily: under a loaded
    # machine the first click can land while the approval's panel is still closing, so select again)
    cm = page.locator("[data-testid=iterator-editor] .cm-content")
    for _ in range(3):
        page.click("[data-testid=node-b] .container-header")
        try:
            cm.wait_for(timeout=10_000)
            break
        except Exception:
            page.keyboard.press("Escape")
    cm.click()
    page.keyboard.press("Control+a")
    page.keyboard.type('results.a.message.split(" ")')
    page.keyboard.press("Escape")  # closes the completion popup if any
    page.click("[data-testid=flow-graph] .react-flow__pane", position={"x": 20, "y": 20})  # deselect

    # "Test flow" once: a's test result feeds the prop picker (the run then waits at the approval)
    page.click("[data-testid=test-flow]")
    page.click("[data-testid=test-run]")
    expect(page.locator("[data-testid=run-step-a]")).to_have_class(re.compile(r"\bsuccess\b"))
    expect(page.locator("[data-testid=node-a]")).to_have_class(re.compile(r"st-success"))

    # wire c's input "name" with the prop picker: focus the input, click the field "message" of a's test result
    page.click("[data-testid=node-c]")
    page.fill("[data-testid=static-name]", "")  # empty static input: the picked path replaces it
    page.click("[data-testid=static-name]")
    picker_a = page.locator("[data-testid=pp-step-a]")
    expect(picker_a.locator(".pp-badge")).to_have_text("last run")
    screenshot(page, "editor-prop-picker-test-result")
    picker_a.locator('.vt-key.pick[data-path="message"]').click()
    expect(page.locator("[data-testid=expr-name]")).to_contain_text("results.a.message")

    page.fill("[data-testid=flow-summary]", "Built by dragging")
    page.fill("[data-testid=flow-path]", "u/erin/dragged")
    page.click("[data-testid=save]")
    page.wait_for_url("**/flows/u/erin/dragged/edit")
    screenshot(page, "editor-built-by-dragging")

    page.reload()
    page.wait_for_selector("[data-testid=node-e]")
    saved = page.evaluate("() => fetch('/api/flows/u/erin/dragged').then(r => r.json())")
    saved.pop("path", None)
    got = {k: saved.get(k) for k in ("summary", "value")}
    assert got == EXPECTED, json.dumps(saved, indent=1)

    # run it from the editor: it waits at the approval (shown on the graph), approve, it succeeds
    page.click("[data-testid=test-flow]")
    page.click("[data-testid=test-run]")
    expect(page.locator("[data-testid=node-e]")).to_have_class(re.compile(r"st-suspended"))
    expect(page.locator("[data-testid=node-c]")).to_have_class(re.compile(r"st-success"))
    page.locator("[data-testid=test-approval] [data-testid=approve]").click()
    expect(page.locator("[data-testid=run-status]")).to_have_text("success")
    for node in ("a", "b", "c", "d", "e", "__result"):
        expect(page.locator(f"[data-testid=node-{node}]")).to_have_class(re.compile(r"st-success"))
    expect(page.locator("[data-testid=run-result]")).to_be_visible()
    screenshot(page, "editor-test-run-succeeded")


PY_DEFAULT = 'def main(name: str = "world"):\n    return {"message": f"Hello {name}"}\n'
TS_DEFAULT = 'export async function main(name: string = "world") {\n  return { message: `Hello ${name}` };\n}\n'
EXPECTED = {
    "summary": "Built by dragging",
    "value": {
        "modules": [
            {"id": "a", "summary": "", "value": {
                "type": "rawscript", "language": "python3", "content": PY_DEFAULT,
                "input_transforms": {"name": {"type": "static", "value": "world"}}}},
            {"id": "b", "summary": "", "value": {
                "type": "forloopflow", "iterator": {"type": "javascript", "expr": 'results.a.message.split(" ")'},
                "skip_failures": False, "parallel": False,
                "modules": [{"id": "c", "summary": "", "value": {
                    "type": "rawscript", "language": "deno", "content": TS_DEFAULT,
                    "input_transforms": {"name": {"type": "javascript", "expr": "results.a.message"}}}}]}},
            {"id": "d", "summary": "", "value": {
                "type": "branchall", "parallel": True, "branches": [
                    {"summary": "", "skip_failure": False, "modules": []},
                    {"summary": "", "skip_failure": False, "modules": []}]}},
            {"id": "e", "summary": "Approval", "value": {"type": "identity"},
             "suspend": {"required_events": 1, "timeout": 1800}},
        ],
    },
}
