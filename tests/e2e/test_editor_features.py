"""Editor features in a real browser: undo/redo, copy/paste/duplicate/delete, the shortcut sheet, moving a
node by dragging, the JSON/YAML source view, validation markers, version history with restore, the
unsaved-changes warning, "Test this step" / "Test up to here", and the flow list (import, duplicate, delete)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import log_in, screenshot

pytestmark = pytest.mark.e2e

FLOWS = Path(__file__).resolve().parent.parent / "flows"


def steps(page):
    return page.locator("[data-testid=flow-graph] .react-flow__node-step")


def new_flow(page):
    log_in(page, "erin")
    page.goto("/flows/new")
    page.wait_for_selector("[data-testid=flow-graph] .edge-plus")


def api(page, method: str, url: str, body=None):
    return page.evaluate(
        """async ([method, url, body]) => {
            const csrf = document.cookie.match(/csrftoken=([^;]+)/)?.[1] ?? '';
            const r = await fetch(url, {method, headers: {'Content-Type': 'application/json', 'X-CSRFToken': csrf},
                                        body: body === null ? undefined : JSON.stringify(body)});
            return {status: r.status, body: r.status === 204 ? null : await r.json()};
        }""",
        [method, url, body],
    )


def test_undo_redo_copy_paste_duplicate_delete_and_shortcut_sheet(page, e2e_user):
    new_flow(page)
    page.click("[data-testid=palette-python]")  # click appends
    page.click("[data-testid=palette-identity]")
    expect(steps(page)).to_have_count(2)
    page.click("[data-testid=flow-graph] .react-flow__pane", position={"x": 10, "y": 10})

    page.keyboard.press("Control+z")
    expect(page.locator("[data-testid=node-b]")).to_have_count(0)
    page.keyboard.press("Control+Shift+z")
    expect(page.locator("[data-testid=node-b]")).to_be_visible()
    page.click("[data-testid=undo]")
    expect(page.locator("[data-testid=node-b]")).to_have_count(0)
    page.click("[data-testid=redo]")
    expect(page.locator("[data-testid=node-b]")).to_be_visible()

    # copy a, paste after it (fresh id), duplicate, delete
    page.click("[data-testid=node-a]")
    page.locator("[data-testid=module-panel]").wait_for()
    page.click("[data-testid=flow-graph] .react-flow__pane", position={"x": 10, "y": 10})
    page.click("[data-testid=node-a]")
    page.keyboard.press("Control+c")
    expect(page.get_by_text("Copied step a")).to_be_visible()
    page.keyboard.press("Control+v")
    expect(steps(page)).to_have_count(3)
    expect(page.locator("[data-testid=id-input]")).to_have_value("c")  # the pasted copy is selected
    page.click("[data-testid=node-c]")
    page.keyboard.press("Control+d")
    expect(steps(page)).to_have_count(4)
    page.click("[data-testid=node-b]")
    page.keyboard.press("Delete")
    expect(page.locator("[data-testid=node-b]")).to_have_count(0)
    expect(steps(page)).to_have_count(3)
    page.keyboard.press("Control+z")
    expect(page.locator("[data-testid=node-b]")).to_be_visible()

    page.click("[data-testid=flow-graph] .react-flow__pane", position={"x": 10, "y": 10})
    page.keyboard.press("?")
    expect(page.locator("[data-testid=shortcut-sheet]")).to_contain_text("Duplicate step")
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=shortcut-sheet]")).to_have_count(0)


def test_move_a_node_by_dragging_it_onto_an_edge(page, e2e_user):
    new_flow(page)
    for _ in range(3):
        page.click("[data-testid=palette-identity]")
    expect(steps(page)).to_have_count(3)
    page.keyboard.press("Escape")
    page.click(".react-flow__controls-fitview")
    src = page.locator("[data-testid=node-c]").bounding_box()
    dst = page.locator('[data-drop-key="root@0"]').bounding_box()
    page.mouse.move(src["x"] + 40, src["y"] + src["height"] / 2)
    page.mouse.down()
    page.mouse.move(dst["x"] + dst["width"] / 2, dst["y"] + dst["height"] / 2, steps=25)
    expect(page.locator('[data-drop-key="root@0"]')).to_have_class(re.compile(r"drop-target|over|active"))
    page.mouse.up()
    ys = {i: page.locator(f"[data-testid=node-{i}]").bounding_box()["y"] for i in "abc"}
    assert ys["c"] < ys["a"] < ys["b"], ys


def test_source_view_edit_round_trip(page, e2e_user):
    new_flow(page)
    page.click("[data-testid=palette-identity]")
    page.keyboard.press("Escape")
    page.click("[data-testid=open-source]")
    editor = page.locator("[data-testid=source-editor] .cm-content")
    expect(editor).to_contain_text('"id": "a"')
    page.get_by_role("button", name="YAML").click()
    expect(editor).to_contain_text("type: identity")
    yaml_text = "summary: From YAML\nvalue:\n  modules:\n    - id: a\n      value:\n        type: identity\n    - id: hello\n      summary: Say hi\n      value:\n        type: identity\n"
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    page.keyboard.insert_text(yaml_text)
    page.click("[data-testid=source-apply]")
    expect(page.locator("[data-testid=node-hello]")).to_contain_text("Say hi")
    expect(page.locator("[data-testid=flow-summary]")).to_have_value("From YAML")
    # graph edits show in the source view
    page.click("[data-testid=palette-python]")
    page.keyboard.press("Escape")
    page.click("[data-testid=open-source]")
    expect(editor).to_contain_text('"language": "python3"')
    page.keyboard.press("Escape")
    # applying the source is one undoable edit
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    expect(page.locator("[data-testid=node-hello]")).to_have_count(0)
    expect(page.locator("[data-testid=node-a]")).to_be_visible()


def test_validation_errors_are_shown_on_the_node_and_field(page, e2e_user):
    new_flow(page)
    page.click("[data-testid=palette-forloop]")
    page.locator("[data-testid=iterator-editor] .cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.press("Delete")
    expect(page.locator("[data-testid=node-a] .container-header")).to_have_class(re.compile(r"has-error"))
    expect(page.locator("[data-testid=error-count]")).to_contain_text("1")
    expect(page.locator("[data-testid=module-panel] .panel-errors")).to_contain_text("iterator")
    screenshot(page, "editor-validation-error")
    page.keyboard.type("[1, 2]")
    expect(page.locator("[data-testid=error-count]")).to_have_count(0)
    expect(page.locator("[data-testid=node-a] .container-header")).not_to_have_class(re.compile(r"has-error"))


def test_version_history_diff_and_restore(page, e2e_user):
    log_in(page, "erin")
    page.goto("/flows/")
    flow = {"path": "u/erin/versioned", "summary": "First summary", "value": {"modules": [{"id": "a", "value": {"type": "identity"}}]}}
    assert api(page, "POST", "/api/flows/", flow)["status"] == 201
    page.goto("/flows/u/erin/versioned/edit")
    page.wait_for_selector("[data-testid=node-a]")
    page.fill("[data-testid=flow-summary]", "Second summary")
    expect(page.locator("[data-testid=dirty]")).to_be_visible()
    page.keyboard.press("Control+s")
    expect(page.locator("[data-testid=dirty]")).to_have_count(0)

    page.click("[data-testid=open-history]")
    modal = page.locator("[data-testid=versions-modal]")
    modal.locator(".version-item", has_text="v1").click()
    expect(modal.locator(".diff-del")).to_contain_text("First summary")
    expect(modal.locator(".diff-add")).to_contain_text("Second summary")
    screenshot(page, "editor-history-diff")
    modal.locator("[data-testid=restore-version]").click()
    expect(page.locator("[data-testid=flow-summary]")).to_have_value("First summary")
    versions = api(page, "GET", "/api/flows/u/erin/versioned/versions")["body"]
    assert len(versions["results"]) == 3


def test_unsaved_changes_warning_on_leave(page, e2e_user):
    new_flow(page)
    page.click("[data-testid=palette-identity]")
    messages = []
    page.once("dialog", lambda d: (messages.append(d.message), d.dismiss()))
    page.click("[data-testid=back]")
    assert messages and "without saving" in messages[0]
    assert "/flows/new" in page.url


def test_test_this_step_and_test_up_to_here(page, e2e_user):
    new_flow(page)
    page.click("[data-testid=palette-python]")
    page.click("[data-testid=palette-bash]")
    page.click("[data-testid=node-a]")
    page.click("[data-testid=test-step]")
    expect(page.locator("[data-testid=run-status]")).to_have_text("success")
    expect(page.locator("[data-testid=run-step-a]")).to_be_visible()
    expect(page.locator("[data-testid=run-step-b]")).to_have_count(0)
    expect(page.locator("[data-testid=run-result]")).to_contain_text("Hello world")
    page.click("[data-testid=tab-result]")
    expect(page.locator("[data-testid=module-panel]")).to_contain_text("Hello world")
    # b's picker now sees a's result
    page.click("[data-testid=node-b]")
    expect(page.locator("[data-testid=pp-step-a] .pp-badge")).to_have_text("last run")
    page.click("[data-testid=test-up-to]")
    expect(page.locator("[data-testid=run-status]")).to_have_text("success")
    expect(page.locator("[data-testid=run-step-b]")).to_be_visible()
    expect(page.locator("[data-testid=node-b]")).to_have_class(re.compile(r"st-success"))


def test_flow_list_import_duplicate_delete(page, e2e_user, tmp_path):
    log_in(page, "erin")
    page.goto("/flows/")
    src = json.loads((FLOWS / "export_weekly_report.json").read_text())
    f = tmp_path / "weekly.json"
    f.write_text(json.dumps(src))
    page.set_input_files("[data-testid=import-file]", str(f))
    page.fill(".modal input.mono", "u/erin/weekly")
    page.click("[data-testid=confirm-import]")
    expect(page.locator('[data-testid="flow-row-u/erin/weekly"]')).to_contain_text("Weekly sales report")

    page.click('[data-testid="duplicate-u/erin/weekly"]')
    page.click("[data-testid=confirm-duplicate]")
    page.wait_for_url("**/flows/u/erin/weekly_copy/edit")  # the copy opens in the editor
    expect(page.locator("[data-testid=flow-summary]")).to_have_value("Weekly sales report (copy)")
    page.goto("/flows/")
    copy = api(page, "GET", "/api/flows/u/erin/weekly_copy")["body"]
    assert [m["id"] for m in copy["value"]["modules"]] == ["load", "totals", "format"]

    page.click('[data-testid="delete-u/erin/weekly"]')
    page.click("[data-testid=confirm-delete]")
    expect(page.locator('[data-testid="flow-row-u/erin/weekly"]')).to_have_count(0)
    expect(page.locator('[data-testid="flow-row-u/erin/weekly_copy"]')).to_be_visible()
    assert api(page, "GET", "/api/flows/u/erin/weekly")["status"] == 404


def test_cache_result_setting_writes_cache_ttl_for_script_steps_only(page, e2e_user):
    new_flow(page)
    page.click("[data-testid=palette-python]")
    page.click("[data-testid=tab-advanced]")
    cache = page.locator("[data-testid=adv-cache]")
    cache.locator("input[type=checkbox]").check()
    seconds = cache.locator("input[type=number]")
    expect(seconds).to_have_value("300")
    seconds.fill("60")
    screenshot(page, "editor-cache-setting")
    page.keyboard.press("Escape")
    page.click("[data-testid=open-source]")
    expect(page.locator("[data-testid=source-editor] .cm-content")).to_contain_text('"cache_ttl": 60')
    page.keyboard.press("Escape")
    page.click("[data-testid=palette-identity]")
    page.click("[data-testid=tab-advanced]")
    expect(page.locator("[data-testid=adv-cache]")).to_have_count(0)
