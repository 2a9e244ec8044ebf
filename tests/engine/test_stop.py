"""Spec §0.16, §6.1-6.3, §3.4 (stop errors), §1.1 skip_expr."""

from __future__ import annotations

from .flows import branchall, branchone, flow, forloop, ident, script, stop_if, whileloop
from .harness import run_flow

HANDLER = script("failure", "{'handled': e}", {"e": "error"})


def test_plain_stop_succeeds_with_this_step_result_and_skips_the_rest():
    h = run_flow(flow(script("a", "'A'", **stop_if("result == 'A'")), script("b", "'B'")))
    assert h.view["status"] == "success"
    assert h.view["result"] == "A"
    assert h.view["skipped"] is False
    assert h.scripts_run() == ["a"]
    assert h.step("b")["status"] == "waiting"


def test_false_stop_condition_continues():
    h = run_flow(flow(script("a", "'A'", **stop_if("result == 'Z'")), script("b", "'B'")))
    assert h.view["result"] == "B"


def test_skip_if_stopped_labels_the_run_skipped():
    h = run_flow(flow(script("a", "'A'", **stop_if("true", skip_if_stopped=True)), script("b", "'B'")))
    assert h.view["status"] == "success"
    assert h.view["skipped"] is True
    assert h.view["result"] == "A"


def test_error_message_fails_with_early_stop_error():
    h = run_flow(flow(script("a", "'A'", **stop_if("true", error_message="too big")), script("b", "1")))
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "EarlyStopError", "message": "too big"}}
    assert h.step("a")["status"] == "success"


def test_empty_error_message_uses_stop_after_if_expression():
    h = run_flow(flow(script("a", "5", **stop_if("result > 3", error_message=""))))
    assert h.view["result"] == {"error": {"name": "EarlyStopError", "message": "stop after if: result > 3"}}


def test_error_include_result_adds_the_step_result():
    h = run_flow(flow(script("a", "[1]", **stop_if("true", error_message="m", error_include_result=True))))
    assert h.view["result"] == {"error": {"name": "EarlyStopError", "message": "m", "result": [1]}}


def test_early_stop_error_runs_the_error_handler():
    h = run_flow(flow(script("a", "1", **stop_if("true", error_message="m")), failure=HANDLER))
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"handled": {"name": "EarlyStopError", "message": "m"}}


def test_early_stop_error_is_not_retried():
    doc = flow(script("a", "1", retry={"constant": {"attempts": 3, "seconds": 0}}, **stop_if("true", error_message="m")))
    h = run_flow(doc)
    assert h.scripts_run() == ["a"]


def test_stop_after_if_not_evaluated_on_failed_step(recorder):
    from .harness import Harness

    h = Harness(flow(script("a", "fail('x')", continue_on_error=True, **stop_if("true")), script("b", "'B'")), recorder)
    h.start({})
    h.drive()
    assert h.view["result"] == "B"
    assert recorder.scopes_for("true") == []


def test_stop_after_if_error_marks_step_failed_with_string_error_and_runs_handler():
    doc = flow(script("a", "1", **stop_if("result.x.y")), failure=HANDLER)
    h = run_flow(doc)
    assert h.step("a")["status"] == "failure"
    assert h.view["status"] == "failure"
    handled = h.view["result"]["handled"]
    assert isinstance(handled, str) and "result.x.y" in handled


def test_stop_after_if_error_is_not_retried_nor_continued():
    doc = flow(script("a", "1", retry={"constant": {"attempts": 2, "seconds": 0}}, continue_on_error=True,
                      **stop_if("result.x.y")), script("b", "2"))
    h = run_flow(doc)
    assert h.scripts_run() == ["a"]
    assert h.view["status"] == "failure"
    assert isinstance(h.view["result"]["error"], str)


def test_stop_inside_loop_body_breaks_only_the_loop():
    body = [script("s", "v", {"v": "flow_input.iter.value"}, **stop_if("result == 2"))]
    doc = flow(forloop("l", "[1, 2, 3, 4]", body), script("after", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == [1, 2]
    assert "l/2/s" not in h.scripts_run()
    assert h.scripts_run()[-1] == "after"


def test_stop_inside_loop_body_with_skip_if_stopped_does_not_mark_run_skipped():
    body = [script("s", "1", **stop_if("true", skip_if_stopped=True))]
    h = run_flow(flow(forloop("l", "[1, 2]", body), ident("after")))
    assert h.view["skipped"] is False
    assert h.view["result"] == [1]


def test_stop_on_later_step_of_loop_body_skips_rest_of_iteration():
    body = [script("a", "1", **stop_if("true")), script("b", "'never'")]
    h = run_flow(flow(forloop("l", "[1, 2]", body)))
    assert h.view["result"] == [1]
    assert "l/0/b" not in h.scripts_run()


def test_stop_inside_branchone_stops_the_whole_flow():
    doc = flow(branchone("b", [("true", [script("x", "'X'", **stop_if("true"))])]), script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == "X"
    assert "after" not in h.scripts_run()


def test_skip_if_stopped_in_branch_labels_run_skipped():
    doc = flow(branchone("b", [("true", [script("x", "'X'", **stop_if("true", skip_if_stopped=True))])]), ident("after"))
    assert run_flow(doc).view["skipped"] is True


def test_stop_inside_sequential_branchall_stops_the_whole_flow_with_list():
    doc = flow(branchall("b", [[script("x", "'X'", **stop_if("true"))], [script("y", "'Y'")]], parallel=False),
               script("after", "1"))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == ["X"]
    assert h.scripts_run() == ["b/0/x"]


def test_stop_inside_parallel_branchall_is_ignored():
    doc = flow(branchall("b", [[script("x", "'X'", **stop_if("true")), script("x2", "'X2'")], [script("y", "'Y'")]]),
               script("after", "'after'"))
    h = run_flow(doc)
    assert h.view["result"] == "after"
    assert h.step("b")["result"] == ["X", "Y"]


def test_stop_in_branch_inside_loop_breaks_the_loop():
    body = [branchone("b", [("true", [script("x", "v", {"v": "flow_input.iter.value"}, **stop_if("result == 1"))])])]
    doc = flow(forloop("l", "[0, 1, 2]", body), script("after", "'after'"))
    h = run_flow(doc)
    assert h.view["result"] == "after"
    assert h.step("l")["result"] == [0, 1]


def test_stop_after_if_on_branchall_module_is_ignored():
    doc = flow(branchall("b", [[script("x", "'X'")]], **stop_if("true")), script("after", "'A'"))
    assert run_flow(doc).view["result"] == "A"


def test_stop_after_if_on_branchone_module_stops_the_flow():
    doc = flow(branchone("b", [("true", [script("x", "'X'")])], **stop_if("result == 'X'")), script("after", "'A'"))
    assert run_flow(doc).view["result"] == "X"


def test_stop_after_if_on_parallel_loop_module_is_not_evaluated(recorder):
    from .harness import Harness

    doc = flow(forloop("l", "[1, 2]", [ident("i")], parallel=True, **stop_if("true")), script("after", "'A'"))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    assert h.view["result"] == "A"
    assert recorder.scopes_for("true") == []


def test_stop_after_if_on_loop_module_with_error_message_fails_flow():
    doc = flow(forloop("l", "[1, 2, 3]", [script("s", "v", {"v": "flow_input.iter.value"})],
                       **stop_if("result == 2", error_message="enough")), script("after", "1"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "EarlyStopError", "message": "enough"}}
    assert h.step("l")["result"] == [1, 2]


def test_stop_after_all_iters_if_stops_the_flow_with_the_list():
    doc = flow(forloop("l", "[1, 2]", [script("s", "v", {"v": "flow_input.iter.value"})],
                       stop_after_all_iters_if={"expr": "len(result) == 2", "skip_if_stopped": False}),
               script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == [1, 2]
    assert "after" not in h.scripts_run()


def test_stop_after_all_iters_if_false_continues():
    doc = flow(forloop("l", "[1]", [ident("i")], stop_after_all_iters_if={"expr": "false", "skip_if_stopped": False}),
               script("after", "'A'"))
    assert run_flow(doc).view["result"] == "A"


def test_stop_after_all_iters_if_skip_and_error_variants():
    doc = flow(forloop("l", "[1]", [ident("i")],
                       stop_after_all_iters_if={"expr": "true", "skip_if_stopped": True}), ident("after"))
    assert run_flow(doc).view["skipped"] is True
    doc = flow(forloop("l", "[1]", [ident("i")],
                       stop_after_all_iters_if={"expr": "true", "skip_if_stopped": False, "error_message": "no"}))
    assert run_flow(doc).view["result"] == {"error": {"name": "EarlyStopError", "message": "no"}}


def test_stop_after_all_iters_if_on_branchall():
    doc = flow(branchall("b", [[script("x", "1")], [script("y", "2")]],
                         stop_after_all_iters_if={"expr": "result == [1, 2]", "skip_if_stopped": False}),
               script("after", "'A'"))
    assert run_flow(doc).view["result"] == [1, 2]


def test_stop_after_all_iters_if_error_is_early_stop_error():
    doc = flow(forloop("l", "[1]", [ident("i")],
                       stop_after_all_iters_if={"expr": "result.a.b", "skip_if_stopped": False}))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    err = h.view["result"]["error"]
    assert err["name"] == "EarlyStopError"
    assert err["message"].startswith("Error evaluating stop_after_all_iters_if expression")


def test_stop_after_all_iters_if_inside_loop_body_breaks_outer_loop():
    inner = forloop("inner", "[1]", [ident("i")], stop_after_all_iters_if={"expr": "true", "skip_if_stopped": False})
    doc = flow(forloop("outer", "[1, 2, 3]", [inner]), script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["result"] == "A"
    assert len(h.step("outer")["result"]) == 1


def test_while_loop_body_stop_breaks_loop_and_parent_continues():
    doc = flow(whileloop("w", [script("s", "i", {"i": "flow_input.iter.index"}, **stop_if("result == 1"))]),
               script("after", "p", {"p": "previous_result"}))
    assert run_flow(doc).view["result"] == [0, 1]


# -- skip_expr ----------------------------------------------------------------------------------

def test_skip_expr_true_skips_whole_flow_with_stopped_early():
    h = run_flow(flow(script("a", "1"), skip_expr="flow_input.skip"), {"skip": True})
    assert h.view["status"] == "success"
    assert h.view["skipped"] is True
    assert h.view["result"] == "stopped early"
    assert h.scripts_run() == []


def test_skip_expr_false_runs_normally():
    h = run_flow(flow(script("a", "1"), skip_expr="flow_input.skip"), {"skip": False})
    assert h.view["result"] == 1 and h.view["skipped"] is False


def test_skip_expr_error_fails_the_run():
    h = run_flow(flow(script("a", "1"), skip_expr="flow_input.a.b"), {})
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"


# -- a stop with an error inside containers (spec §5.2(1), §6.1, §6.2) ---------------------------

EARLY_M = {"error": {"name": "EarlyStopError", "message": "m"}}


def _stopper(mid: str = "x", **extra):
    return script(mid, "'X'", **stop_if("true", error_message="m"), **extra)


def test_error_stop_in_branchone_ignores_continue_on_error_on_the_branchone():
    doc = flow(branchone("b", [("true", [_stopper()])], continue_on_error=True), script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == EARLY_M
    assert h.scripts_run() == ["b/0/x"]
    assert h.step("b")["status"] == "failure"


def test_error_stop_in_branchone_is_not_retried():
    doc = flow(branchone("b", [("true", [_stopper()])], retry={"constant": {"attempts": 2, "seconds": 0}}),
               script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == EARLY_M
    assert h.scripts_run() == ["b/0/x"]


def test_error_stop_in_branchone_runs_the_handler_once_inside_the_branch():
    doc = flow(branchone("b", [("true", [_stopper()])], continue_on_error=True), script("after", "'A'"),
               failure=HANDLER)
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"handled": EARLY_M["error"]}
    assert h.scripts_run() == ["b/0/x", "b/0/failure"]


def test_error_stop_in_sequential_branchall_ignores_skip_failure_and_stops_the_flow():
    branches = [{"modules": [_stopper()], "skip_failure": True}, {"modules": [script("y", "'Y'")]}]
    doc = flow(branchall("b", branches, parallel=False, continue_on_error=True), script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    # the enclosing flow stops with the container's result: the list so far (spec §6.2)
    assert h.view["result"] == [EARLY_M]
    assert h.scripts_run() == ["b/0/x"]


def test_continue_on_error_on_the_stopping_step_does_not_continue():
    h = run_flow(flow(_stopper("a", continue_on_error=True), script("after", "'A'")))
    assert h.view["status"] == "failure"
    assert h.view["result"] == EARLY_M
    assert h.scripts_run() == ["a"]
    doc = flow(branchone("b", [("true", [_stopper(continue_on_error=True), script("y", "'Y'")])]), script("after", "1"))
    h = run_flow(doc)
    assert h.view["result"] == EARLY_M
    assert h.scripts_run() == ["b/0/x"]


def test_error_stop_in_sequential_loop_body_is_not_retried_nor_continued():
    # the loop breaks and fails (no skip_failures); the loop's retry / continue_on_error don't apply
    body = [script("s", "v", {"v": "flow_input.iter.value"}, **stop_if("result == 1", error_message="m"))]
    doc = flow(forloop("l", "[0, 1, 2]", body, retry={"constant": {"attempts": 2, "seconds": 0}},
                       continue_on_error=True), script("after", "'A'"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == [0, EARLY_M]
    assert h.scripts_run() == ["l/0/s", "l/1/s"]


def test_error_stop_in_loop_body_with_skip_failures_breaks_the_loop():
    body = [script("s", "v", {"v": "flow_input.iter.value"}, **stop_if("result == 1", error_message="m"))]
    doc = flow(forloop("l", "[0, 1, 2]", body, skip_failures=True), script("after", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == [0, EARLY_M]
    assert "l/2/s" not in h.scripts_run()


def test_plain_stop_in_parallel_loop_body_ends_only_that_iteration():
    body = [script("s", "v", {"v": "flow_input.iter.value"}, **stop_if("result == 1")), script("t", "'T'")]
    doc = flow(forloop("l", "[1, 2, 3]", body, parallel=True), script("after", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    ran = h.scripts_run()
    assert "l/0/t" not in ran
    assert "l/1/t" in ran and "l/2/t" in ran
    assert h.step("l")["status"] == "success"
    assert h.step("l")["result"] == [1, "T", "T"]
    assert h.view["status"] == "success"
    assert h.view["result"] == [1, "T", "T"]
    assert ran[-1] == "after"
