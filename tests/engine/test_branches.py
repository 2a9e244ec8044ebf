"""Spec §4.3 branchone, §4.4 branchall, §2.3 branch args."""

from __future__ import annotations

from .flows import branchall, branchone, flow, ident, script
from .harness import Harness, run_flow

# -- branchone ----------------------------------------------------------------------------------


def test_branchone_takes_first_truthy_branch():
    doc = flow(branchone("b", [("flow_input.n > 5", [script("big", "'big'")]),
                               ("flow_input.n > 0", [script("pos", "'pos'")])],
                         default=[script("other", "'other'")]))
    assert run_flow(doc, {"n": 10}).view["result"] == "big"
    assert run_flow(doc, {"n": 3}).view["result"] == "pos"
    assert run_flow(doc, {"n": -1}).view["result"] == "other"


def test_branchone_predicates_use_js_truthiness():
    doc = flow(branchone("b", [("flow_input.v", [script("t", "'truthy'")])], default=[script("d", "'falsy'")]))
    assert run_flow(doc, {"v": []}).view["result"] == "truthy"
    assert run_flow(doc, {"v": {}}).view["result"] == "truthy"
    assert run_flow(doc, {"v": 0}).view["result"] == "falsy"
    assert run_flow(doc, {"v": ""}).view["result"] == "falsy"


def test_branchone_stops_evaluating_after_the_first_match(recorder):
    doc = flow(branchone("b", [("true", [ident("x")]), ("flow_input.boom.boom", [ident("y")])]))
    h = Harness(doc, recorder)
    h.start({})
    assert h.view["status"] == "success"
    assert recorder.scopes_for("flow_input.boom.boom") == []


def test_branchone_result_is_last_step_of_chosen_branch():
    doc = flow(branchone("b", [("true", [script("x", "1"), script("y", "2")])]))
    assert run_flow(doc).view["result"] == 2


def test_branchone_empty_chosen_branch_passes_previous_result():
    doc = flow(script("a", "'before'"), branchone("b", [("false", [script("x", "1")])], default=[]))
    h = run_flow(doc)
    assert h.view["result"] == "before"
    assert h.step("b")["result"] == "before"


def test_branchone_records_chosen_branch():
    doc = flow(branchone("b", [("false", [ident("x")]), ("true", [ident("y")])]))
    assert run_flow(doc).step("b")["branch_chosen"] == {"type": "branch", "branch": 1}
    doc = flow(branchone("b", [("false", [ident("x")])], default=[ident("d")]))
    assert run_flow(doc).step("b")["branch_chosen"] == {"type": "default"}


def test_branch_steps_are_keyed_by_branch_index_or_default():
    doc = flow(branchone("b", [("flow_input.x", [script("x", "1")])], default=[script("d", "2")]))
    assert [s["key"] for s in run_flow(doc, {"x": True}).view["steps"]] == ["b", "b/0/x"]
    assert [s["key"] for s in run_flow(doc, {"x": False}).view["steps"]] == ["b", "b/default/d"]


def test_branch_first_step_sees_enclosing_flow_input_as_previous_result():
    doc = flow(script("a", "'prev'"), branchone("b", [("true", [script("x", "p", {"p": "previous_result"})])]))
    assert run_flow(doc, {"k": 1}).view["result"] == {"k": 1}


def test_branch_body_sees_unchanged_flow_input():
    doc = flow(branchone("b", [("true", [script("x", "p", {"p": "flow_input"})])]))
    assert run_flow(doc, {"k": 1}).view["result"] == {"k": 1}


def test_branchone_predicate_error_fails_the_step_in_place_and_handler_runs():
    doc = flow(branchone("b", [("flow_input.a.b", [ident("x")])]),
               failure=script("failure", "n", {"n": "error.name"}))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == "ExecutionErr"
    assert h.step("b")["status"] == "failure"


def test_branchone_predicate_error_can_continue_on_error():
    doc = flow(branchone("b", [("flow_input.a.b", [ident("x")])], continue_on_error=True), ident("after"))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"
    assert h.view["result"]["error"]["message"].startswith("Error during isolated evaluation of expression `flow_input.a.b`:\n")


def test_failing_branch_fails_branchone():
    doc = flow(branchone("b", [("true", [script("x", "fail('bad')")])]), script("after", "1"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["message"] == "bad"
    assert "after" not in h.scripts_run()


# -- branchall ----------------------------------------------------------------------------------


def test_branchall_result_is_list_in_branch_order():
    doc = flow(branchall("b", [[script("x", "'x'")], [script("y", "'y'")], [script("z", "'z'")]]))
    assert run_flow(doc).view["result"] == ["x", "y", "z"]


def test_branchall_is_parallel_by_default():
    h = Harness(flow(branchall("b", [[script("x", "1")], [script("y", "2")]])))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["b/0/x", "b/1/y"]


def test_branchall_parallel_keeps_branch_order_whatever_completion_order():
    h = Harness(flow(branchall("b", [[script("x", "1")], [script("y", "2")]])))
    h.start({})
    h.finish(h.job("b/1/y"), True, "Y")
    h.finish(h.job("b/0/x"), True, "X")
    assert h.view["result"] == ["X", "Y"]


def test_branchall_sequential_runs_one_branch_after_another():
    h = Harness(flow(branchall("b", [[script("x", "1")], [script("y", "2")]], parallel=False)))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["b/0/x"]
    actions = h.finish(h.job("b/0/x"), True, 1)
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["b/1/y"]


def test_branchall_zero_branches_is_empty_list():
    assert run_flow(flow(branchall("b", []))).view["result"] == []


def test_branchall_identity_branch_returns_branch_args():
    assert run_flow(flow(branchall("b", [[ident("i")]])), {"k": 1}).view["result"] == [{"k": 1}]


def test_branchall_empty_branch_returns_branch_args():
    assert run_flow(flow(branchall("b", [[]])), {"k": 1}).view["result"] == [{"k": 1}]


def test_branchall_parallel_failure_runs_every_branch_then_fails_with_full_list():
    doc = flow(branchall("b", [[script("x", "fail('x')")], [script("y", "'y'")]]))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"][0]["error"]["message"] == "x"
    assert h.view["result"][1] == "y"


def test_branchall_skip_failure_per_branch():
    doc = flow(branchall("b", [{"modules": [script("x", "fail('x')")], "skip_failure": True},
                               {"modules": [script("y", "'y'")]}]))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"][0]["error"]["message"] == "x"


def test_branchall_skip_failure_absent_means_false():
    doc = flow(branchall("b", [{"modules": [script("x", "fail('x')")]}, {"modules": [script("y", "'y'")]}]))
    assert run_flow(doc).view["status"] == "failure"


def test_branchall_skip_failure_on_other_branch_does_not_excuse_a_failure():
    doc = flow(branchall("b", [{"modules": [script("x", "fail('x')")]},
                               {"modules": [script("y", "'y'")], "skip_failure": True}]))
    assert run_flow(doc).view["status"] == "failure"


def test_branchall_sequential_stops_at_first_failing_branch():
    doc = flow(branchall("b", [[script("x", "'x'")], [script("y", "fail('y')")], [script("z", "'z'")]],
                         parallel=False))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"][0] == "x" and h.view["result"][1]["error"]["message"] == "y"
    assert len(h.view["result"]) == 2
    assert "b/2/z" not in h.scripts_run()


def test_branchall_sequential_skip_failure_continues():
    doc = flow(branchall("b", [{"modules": [script("x", "fail('x')")], "skip_failure": True},
                               {"modules": [script("y", "'y'")]}], parallel=False))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"][1] == "y"


def test_branch_handler_runs_inside_child_and_not_again_in_parent():
    doc = flow(branchall("b", [[script("x", "fail('x')")], [script("y", "'y'")]]),
               failure=script("failure", "{'handled': m}", {"m": "error.message"}))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"] == [{"handled": "x"}, "y"]
    assert h.scripts_run().count("b/0/failure") == 1
    assert "failure" not in h.scripts_run()
