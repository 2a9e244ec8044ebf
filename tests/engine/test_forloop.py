"""Spec §0.3-0.8, §4.1: for-loops."""

from __future__ import annotations

from .flows import flow, forloop, ident, js, script, static
from .harness import Harness, run_flow

BODY = [script("s", "v * 10", {"v": "flow_input.iter.value"})]


def _value_body(content="v", **extra):
    return [script("s", content, {"v": "flow_input.iter.value", "i": "flow_input.iter.index"}, **extra)]


def test_forloop_result_is_list_of_iteration_results_in_order():
    assert run_flow(flow(forloop("l", "[1, 2, 3]", BODY))).view["result"] == [10, 20, 30]


def test_forloop_iter_index_and_value_are_visible():
    doc = flow(forloop("l", "['a', 'b']", [script("s", "[i, v]", {"v": "flow_input.iter.value",
                                                                     "i": "flow_input.iter.index"})]))
    assert run_flow(doc).view["result"] == [[0, "a"], [1, "b"]]


def test_forloop_empty_iterator_succeeds_with_empty_list_immediately():
    h = Harness(flow(forloop("l", "[]", BODY), script("after", "x", {"x": "previous_result"})))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["after"]
    h.drive()
    assert h.view["result"] == []


def test_sequential_forloop_starts_next_iteration_after_previous_completes():
    h = Harness(flow(forloop("l", "[1, 2]", BODY)))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/0/s"]
    actions = h.finish(h.job("l/0/s"), True, 10)
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/1/s"]


def test_parallel_forloop_starts_all_iterations_at_once():
    h = Harness(flow(forloop("l", "[1, 2, 3]", BODY, parallel=True)))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/0/s", "l/1/s", "l/2/s"]


def test_forloop_result_keeps_iterator_order_when_parallel():
    h = Harness(flow(forloop("l", "[1, 2, 3]", BODY, parallel=True)))
    h.start({})
    for key, value in (("l/2/s", 30), ("l/0/s", 10), ("l/1/s", 20)):
        h.finish(h.job(key), True, value)
    assert h.view["result"] == [10, 20, 30]


def test_parallelism_limits_concurrency_and_releases_one_per_completion():
    h = Harness(flow(forloop("l", "[1, 2, 3, 4, 5]", BODY, parallel=True, parallelism=2)))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/0/s", "l/1/s"]
    actions = h.finish(h.job("l/1/s"), True, 20)
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/2/s"]
    actions = h.finish(h.job("l/0/s"), True, 10)
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/3/s"]
    h.drive()
    assert h.view["result"] == [10, 20, 30, 40, 50]


def test_parallelism_as_javascript_transform():
    h = Harness(flow(forloop("l", "[1, 2, 3]", BODY, parallel=True, parallelism=js("flow_input.p"))))
    actions = h.start({"p": 1})
    assert len([a for a in actions if a["type"] == "RunScript"]) == 1


def test_parallelism_as_static_transform_and_bare_number():
    for spec in (static(2), 2):
        h = Harness(flow(forloop("l", "[1, 2, 3]", BODY, parallel=True, parallelism=spec)))
        assert len([a for a in h.start({}) if a["type"] == "RunScript"]) == 2


def test_parallelism_zero_means_no_limit():
    h = Harness(flow(forloop("l", "[1, 2, 3]", BODY, parallel=True, parallelism=0)))
    assert len([a for a in h.start({}) if a["type"] == "RunScript"]) == 3


def test_parallelism_ignored_for_sequential_loops():
    h = Harness(flow(forloop("l", "[1, 2, 3]", BODY, parallel=False, parallelism=3)))
    assert len([a for a in h.start({}) if a["type"] == "RunScript"]) == 1


def test_failed_iteration_contributes_its_error_object():
    doc = flow(forloop("l", "[1, 0, 2]", [script("s", "fail('zero') if v == 0 else v", {"v": "flow_input.iter.value"})],
                       skip_failures=True))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == [1, {"error": {"name": "ScriptError", "message": "zero", "step_id": "s"}}, 2]


def test_skip_failures_absent_means_false():
    loop = forloop("l", "[0, 1]", [script("s", "fail('x') if v == 0 else v", {"v": "flow_input.iter.value"})])
    del loop["value"]["skip_failures"]
    h = run_flow(flow(loop))
    assert h.view["status"] == "failure"


def test_sequential_loop_stops_at_first_failing_iteration_with_partial_list():
    doc = flow(forloop("l", "[1, 0, 2]", [script("s", "fail('zero') if v == 0 else v", {"v": "flow_input.iter.value"})]),
               script("after", "1"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"][0] == 1
    assert h.view["result"][1]["error"]["message"] == "zero"
    assert len(h.view["result"]) == 2
    assert "l/2/s" not in h.scripts_run() and "after" not in h.scripts_run()
    assert h.step("l")["status"] == "failure"


def test_parallel_loop_runs_every_iteration_then_fails_with_full_list():
    doc = flow(forloop("l", "[0, 1, 2]", [script("s", "fail('zero') if v == 0 else v", {"v": "flow_input.iter.value"})],
                       parallel=True))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"][1:] == [1, 2]
    assert h.view["result"][0]["error"]["message"] == "zero"


def test_skip_failures_makes_parallel_loop_succeed():
    doc = flow(forloop("l", "[0, 1]", [script("s", "fail('zero') if v == 0 else v", {"v": "flow_input.iter.value"})],
                       parallel=True, skip_failures=True))
    assert run_flow(doc).view["status"] == "success"


def test_iterator_not_array_fails_the_flow_without_running_handler():
    doc = flow(forloop("l", "flow_input.x", BODY), failure=script("failure", "'handled'"))
    h = run_flow(doc, {"x": "abc"})
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "ExecutionErr",
                                          "message": 'Expected an array value in the iterator expression, found: "abc"'}}
    assert "failure" not in h.scripts_run()


def test_iterator_object_value_is_reported_compactly():
    h = run_flow(flow(forloop("l", "flow_input", BODY)), {"a": 1})
    assert h.view["result"]["error"]["message"].endswith('found: {"a":1}')


def test_iterator_null_is_not_an_array():
    h = run_flow(flow(forloop("l", "flow_input.nothing", BODY)))
    assert h.view["result"]["error"]["message"].endswith("found: null")


def test_iterator_that_throws_fails_the_flow_without_handler():
    doc = flow(forloop("l", "flow_input.a.b", BODY), failure=script("failure", "'handled'"))
    h = run_flow(doc, {})
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"
    assert h.scripts_run() == []


def test_nested_loops_see_iter_and_iter_parent():
    inner = forloop("inner", "['x', 'y']", [script("s", "[o, i]", {"o": "flow_input.iter_parent.value",
                                                                   "i": "flow_input.iter.value"})])
    doc = flow(forloop("outer", "[1, 2]", [inner]))
    assert run_flow(doc).view["result"] == [[[1, "x"], [1, "y"]], [[2, "x"], [2, "y"]]]


def test_three_nested_loops_see_iter_parent_parent():
    innermost = forloop("c", "[3]", [script("s", "[a, b, c]", {"a": "flow_input.iter_parent_parent.value",
                                                              "b": "flow_input.iter_parent.value",
                                                              "c": "flow_input.iter.value"})])
    doc = flow(forloop("a", "[1]", [forloop("b", "[2]", [innermost])]))
    assert run_flow(doc).view["result"] == [[[[1, 2, 3]]]]


def test_loop_body_steps_are_keyed_by_iteration():
    h = run_flow(flow(forloop("l", "[1, 2]", BODY)))
    keys = [s["key"] for s in h.view["steps"]]
    assert keys == ["l", "l/0/s", "l/1/s"]


def test_step_after_loop_sees_the_list_as_previous_result():
    doc = flow(forloop("l", "[1, 2]", BODY), script("after", "len(p)", {"p": "previous_result"}))
    assert run_flow(doc).view["result"] == 2


def test_loop_body_result_is_last_step_of_the_iteration():
    body = [script("a", "v + 1", {"v": "flow_input.iter.value"}), script("b", "p * 2", {"p": "previous_result"})]
    assert run_flow(flow(forloop("l", "[1, 2]", body))).view["result"] == [4, 6]


def test_empty_loop_body_returns_iteration_args():
    h = run_flow(flow(forloop("l", "[5]", [])), {"k": 1})
    assert h.view["result"] == [{"k": 1, "iter": {"index": 0, "value": 5}}]


def test_identity_body_completes_whole_loop_inline():
    h = Harness(flow(forloop("l", "[1, 2, 3]", [ident("i")], parallel=True)))
    actions = h.start({})
    assert actions[-1]["type"] == "RunFinished"
    assert [r["iter"]["value"] for r in actions[-1]["result"]] == [1, 2, 3]


def test_sequential_identity_loop_of_1000_iterations_finishes_in_one_event():
    h = Harness(flow(forloop("l", "flow_input.items", [ident("i")])))
    actions = h.start({"items": list(range(1000))})
    assert actions[-1]["type"] == "RunFinished"
    assert len(actions[-1]["result"]) == 1000


def test_iteration_handler_output_is_the_iteration_result():
    doc = flow(forloop("l", "[1, 0]", [script("s", "fail('z') if v == 0 else v", {"v": "flow_input.iter.value"})],
                       skip_failures=True),
               failure=script("failure", "{'handled': m}", {"m": "error.message"}))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"] == [1, {"handled": "z"}]


def test_loop_module_stop_after_if_sees_all_iters():
    doc = flow(forloop("l", "[1, 2, 3, 4]", BODY,
                       stop_after_if={"expr": "len(all_iters) == 2", "skip_if_stopped": False}),
               script("after", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    assert h.view["result"] == [10, 20]
    assert "after" in h.scripts_run()


def test_parallel_absent_means_sequential():
    loop = forloop("l", "[1, 2]", BODY)
    del loop["value"]["parallel"]
    h = Harness(flow(loop))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["l/0/s"]
    h.drive()
    assert h.view["result"] == [10, 20]


def test_parallelism_expression_error_fails_the_flow_without_running_handler():
    doc = flow(forloop("l", "[1, 2]", BODY, parallel=True, parallelism=js("flow_input.a.b")),
               failure=script("failure", "'handled'"))
    h = run_flow(doc, {})
    assert h.view["status"] == "failure"
    err = h.view["result"]["error"]
    assert err["name"] == "ExecutionErr"
    assert err["message"].startswith("Error during isolated evaluation of expression `flow_input.a.b`:\n")
    assert h.scripts_run() == []
    assert h.step("l")["status"] == "failure"


def test_parallelism_non_number_fails_the_flow_without_running_handler():
    doc = flow(forloop("l", "[1, 2]", BODY, parallel=True, parallelism=static("x")),
               failure=script("failure", "'handled'"))
    h = run_flow(doc, {})
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "ExecutionErr",
                                          "message": 'Expected a number value for parallelism, found: "x"'}}
    assert h.scripts_run() == []


def test_iterator_expression_is_evaluated_once(recorder):
    iterator = "flow_input.items"
    h = Harness(flow(forloop("l", iterator, BODY)), recorder)
    h.start({"items": [1, 2, 3]})
    h.drive()
    assert h.view["result"] == [10, 20, 30]
    assert len(recorder.scopes_for(iterator)) == 1
    assert len(recorder.scopes_for("flow_input.iter.value")) == 3
