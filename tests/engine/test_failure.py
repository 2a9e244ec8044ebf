"""Spec §0.11, §0.14-0.15, §3.4, §5: error objects, continue_on_error, the error handler."""

from __future__ import annotations

from .flows import branchone, flow, forloop, script, static
from .harness import Harness, run_flow

HANDLER = script("failure", "{'prev': p, 'err': e}", {"p": "previous_result", "e": "error"})


def test_input_transform_error_fails_the_step_with_execution_err_message():
    h = run_flow(flow(script("a", "1", {"x": "flow_input.a.b"})))
    assert h.view["status"] == "failure"
    err = h.view["result"]["error"]
    assert err["name"] == "ExecutionErr"
    assert err["message"].startswith("Error during isolated evaluation of expression `flow_input.a.b`:\n")
    assert h.scripts_run() == []


def test_input_transform_error_runs_the_error_handler():
    h = run_flow(flow(script("a", "1", {"x": "flow_input.a.b"}), failure=HANDLER))
    assert h.view["result"]["err"]["name"] == "ExecutionErr"


def test_input_transform_error_is_retried():
    doc = flow(script("a", "1", {"x": "flow_input.a.b"}, retry={"constant": {"attempts": 2, "seconds": 0}}))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.step("a")["attempts"] == 3


def test_continue_on_error_passes_error_object_to_next_step():
    doc = flow(script("a", "fail('oops')", continue_on_error=True), script("b", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == {"error": {"name": "ScriptError", "message": "oops", "step_id": "a"}}
    assert h.step("a")["status"] == "failure"


def test_continue_on_error_on_last_step_succeeds_with_error_object():
    h = run_flow(flow(script("a", "fail('oops')", continue_on_error=True)))
    assert h.view["status"] == "success"
    assert h.view["result"]["error"]["message"] == "oops"


def test_continue_on_error_uses_retries_first():
    doc = flow(script("a", "fail('x') if attempt < 3 else 'third time'", continue_on_error=True,
                      retry={"constant": {"attempts": 5, "seconds": 0}}))
    h = run_flow(doc)
    assert h.view["result"] == "third time"
    assert h.step("a")["attempts"] == 3


def test_continue_on_error_does_not_run_error_handler():
    h = run_flow(flow(script("a", "fail('x')", continue_on_error=True), failure=HANDLER))
    assert "failure" not in h.scripts_run()


def test_handler_gets_failed_result_as_previous_result_and_error():
    h = run_flow(flow(script("a", "fail('bad')"), script("b", "1"), failure=HANDLER))
    assert h.view["status"] == "failure"
    assert h.view["result"]["prev"] == {"error": {"name": "ScriptError", "message": "bad", "step_id": "a"}}
    assert h.view["result"]["err"] == {"name": "ScriptError", "message": "bad", "step_id": "a"}
    assert "b" not in h.scripts_run()


def test_handler_recover_true_makes_the_flow_succeed():
    h = run_flow(flow(script("a", "fail('bad')"), failure=script("failure", "{'recover': True, 'x': 1}")))
    assert h.view["status"] == "success"
    assert h.view["result"] == {"recover": True, "x": 1}


def test_handler_recover_must_be_exactly_true():
    h = run_flow(flow(script("a", "fail('bad')"), failure=script("failure", "{'recover': 1}")))
    assert h.view["status"] == "failure"


def test_handler_that_fails_fails_the_flow_with_its_error():
    h = run_flow(flow(script("a", "fail('bad')"), failure=script("failure", "fail('handler broke')")))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["message"] == "handler broke"


def test_handler_has_its_own_retry():
    handler = script("failure", "fail('h') if attempt < 2 else 'ok'", retry={"constant": {"attempts": 1, "seconds": 0}})
    h = run_flow(flow(script("a", "fail('bad')"), failure=handler))
    assert h.view["result"] == "ok"
    assert h.step("failure")["attempts"] == 2


def test_handler_runs_once():
    h = run_flow(flow(script("a", "fail('bad')"), failure=script("failure", "fail('again')")))
    assert h.scripts_run().count("failure") == 1


def test_handler_sees_results_of_failed_step_started_at_and_flow_job_id(recorder):
    doc = flow(script("a", "fail('bad')"),
               failure=script("failure", "1", {"r": "results.a", "s": "started_at", "j": "flow_job_id"}))
    h = Harness(doc, recorder)
    h.start({}, run_id="run-42")
    h.drive()
    scope = recorder.scopes_for("flow_job_id")[0]
    assert scope["flow_job_id"] == "run-42"
    assert scope["started_at"] == 1000.0
    results = recorder.scopes_for("results.a")[0]["results"]
    assert results == {"a": {"error": {"name": "ScriptError", "message": "bad", "step_id": "a"}}}


def test_handler_step_is_keyed_failure():
    h = run_flow(flow(script("a", "fail('bad')"), failure=script("on_error", "1")))
    assert h.view["steps"][-1]["key"] == "failure"
    assert h.view["steps"][-1]["module_id"] == "on_error"


def test_handler_runs_inside_loop_iteration_and_parent_fails_without_rerunning_it():
    doc = flow(forloop("l", "[1, 0]", [script("s", "fail('z') if v == 0 else v", {"v": "flow_input.iter.value"})]),
               failure=script("failure", "{'handled': e}", {"e": "error.message"}))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == [1, {"handled": "z"}]
    assert h.scripts_run().count("l/1/failure") == 1
    assert "failure" not in h.scripts_run()


def test_handler_recovering_inside_iteration_makes_iteration_succeed():
    doc = flow(forloop("l", "[0]", [script("s", "fail('z')")]), failure=script("failure", "{'recover': True}"))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == [{"recover": True}]


def test_handler_inside_nested_loops_runs_only_in_innermost_child():
    inner = forloop("inner", "[0]", [script("s", "fail('deep')")])
    doc = flow(forloop("outer", "[0]", [inner]), failure=script("failure", "'h'"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert [k for k in h.scripts_run() if k.endswith("failure")] == ["outer/0/inner/0/failure"]
    assert h.view["result"] == [["h"]]


def test_handler_runs_inside_branch_child():
    doc = flow(branchone("b", [("true", [script("x", "fail('x')")])]), failure=script("failure", "'handled'"))
    h = run_flow(doc)
    assert h.scripts_run() == ["b/0/x", "b/0/failure"]
    assert h.view["result"] == "handled"
    assert h.view["status"] == "failure"


def test_loop_failure_with_skip_failures_does_not_run_parent_handler():
    doc = flow(forloop("l", "[0]", [script("s", "fail('z')")], skip_failures=True), failure=script("failure", "'h'"))
    h = run_flow(doc)
    assert h.view["status"] == "success"


def test_error_object_from_python_exception_has_name_message_step_id():
    h = run_flow(flow(script("a", "1/0")))
    err = h.view["result"]["error"]
    assert err["name"] == "ZeroDivisionError" and err["step_id"] == "a"


def test_failed_step_view_reports_error():
    h = run_flow(flow(script("a", "fail('bad')")))
    assert h.step("a")["error"] == {"name": "ScriptError", "message": "bad", "step_id": "a"}
    assert h.step("a")["status"] == "failure"


def test_error_handler_with_no_failure_is_never_run():
    h = run_flow(flow(script("a", "1"), failure=HANDLER))
    assert h.scripts_run() == ["a"]
    assert all(s["key"] != "failure" for s in h.view["steps"])


def test_flow_level_error_inside_loop_body_ends_only_the_child_then_top_level_handler_runs_once():
    # Iteration 1's skip_if throws: a flow-level error (spec §3.4) that fails that child flow
    # without its copy of the handler; iteration 0 still completes; the loop then fails and the
    # top-level handler runs once, as it has not run in any child (spec §5.2 (6)).
    body = [script("s", "'ran'", skip_if={"expr": "flow_input.iter.value.k.x"})]
    doc = flow(forloop("l", static([{"k": {"x": False}}, {}]), body, parallel=True), failure=HANDLER)
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.scripts_run() == ["l/0/s", "failure"]
    assert h.step("l/1/s")["status"] == "failure"
    assert h.step("l")["status"] == "failure"
    prev = h.view["result"]["prev"]
    assert prev[0] == "ran"
    assert prev[1]["error"]["name"] == "ExecutionErr"
    assert prev[1]["error"]["message"].startswith(
        "Error during isolated evaluation of expression `flow_input.iter.value.k.x`:\n")
    assert h.view["result"]["err"] == prev[1]["error"]
