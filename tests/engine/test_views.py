"""run_view / suspended view (engine contract, DESIGN.md run object)."""

from __future__ import annotations

from runs.engine import run_view

from .flows import branchone, flow, forloop, ident, script
from .harness import Harness, run_flow

STEP_FIELDS = {"key", "module_id", "type", "status", "attempts", "args", "result", "error", "started_at", "finished_at"}


def test_view_before_start_is_queued_with_every_top_level_step_waiting():
    doc = flow(script("a", "1"), forloop("l", "[1]", [ident("i")]))
    view = run_view(doc, None)
    assert view["status"] == "queued"
    assert [(s["key"], s["status"], s["type"]) for s in view["steps"]] == [("a", "waiting", "rawscript"),
                                                                           ("l", "waiting", "forloopflow")]


def test_view_lists_waiting_top_level_steps_while_running():
    h = Harness(flow(script("a", "1"), script("b", "2")))
    h.start({})
    view = h.view
    assert view["status"] == "running"
    assert [(s["key"], s["status"]) for s in view["steps"]] == [("a", "running"), ("b", "waiting")]


def test_view_steps_have_the_contract_fields():
    h = run_flow(flow(script("a", "1", {"x": "2"})))
    step = h.view["steps"][0]
    assert STEP_FIELDS <= set(step)
    assert step["args"] == {"x": 2} and step["attempts"] == 1


def test_view_places_children_after_their_container_in_order():
    inner = [script("x", "1"), script("y", "2")]
    doc = flow(forloop("l", "[1, 2]", inner, parallel=True), branchone("b", [("true", [ident("z")])]), ident("end"))
    h = Harness(doc)
    h.start({})
    h.finish(h.job("l/1/x"), True, 1)
    h.drive()
    assert [s["key"] for s in h.view["steps"]] == ["l", "l/0/x", "l/0/y", "l/1/x", "l/1/y", "b", "b/0/z", "end"]


def test_view_loop_iterations_extra():
    doc = flow(forloop("l", "[0, 1, 2]", [script("s", "fail('z') if v == 1 else v", {"v": "flow_input.iter.value"})],
                       parallel=True, skip_failures=True))
    h = run_flow(doc)
    assert h.step("l")["iterations"] == {"total": 3, "done": 3, "failed": [1]}


def test_view_branch_chosen_extra():
    h = run_flow(flow(branchone("b", [("false", [ident("x")])], default=[ident("d")])))
    assert h.step("b")["branch_chosen"] == {"type": "default"}


def test_view_skipped_step_status():
    h = run_flow(flow(script("a", "1", skip_if={"expr": "true"})))
    assert h.step("a")["status"] == "skipped"


def test_view_run_status_suspended_and_suspended_object():
    h = Harness(flow(script("a", "1", suspend={"required_events": 1}), ident("b")))
    h.start({})
    h.drive()
    view = h.view
    assert view["status"] == "suspended"
    assert view["suspended"]["step"] == "a"
    assert view["suspended"]["required_events"] == 1 and view["suspended"]["received_events"] == 0


def test_view_of_finished_run_has_no_suspended():
    assert run_flow(flow(script("a", "1"))).view["suspended"] is None


def test_view_failure_step_shows_error_and_handler_step():
    h = run_flow(flow(script("a", "fail('x')"), failure=script("failure", "'h'")))
    assert h.step("a")["error"]["message"] == "x"
    assert h.view["steps"][-1]["key"] == "failure" and h.view["steps"][-1].get("handler") is True


def test_view_successful_step_has_no_error_even_if_result_contains_error_key():
    h = run_flow(flow(script("a", "{'error': 'not really'}")))
    assert h.step("a")["error"] is None


def test_view_timestamps_are_event_epoch_floats():
    h = Harness(flow(script("a", "1")))
    h.now = 1700000000.25
    h.start({})
    assert h.view["started_at"] == 1700000000.25
    assert h.view["finished_at"] is None


def test_view_canceled_status():
    h = Harness(flow(script("a", "1")))
    h.start({})
    h.cancel()
    assert h.view["status"] == "canceled"
    assert h.step("a")["status"] == "canceled"


def test_view_retrying_step_is_running_with_retry_at():
    h = Harness(flow(script("a", "1", retry={"constant": {"attempts": 1, "seconds": 30}})))
    (action,) = h.start({})
    h.finish(action, False, {"error": {"message": "m"}})
    step = h.step("a")
    assert step["status"] == "running" and step["retry_at"] == h.now + 30
