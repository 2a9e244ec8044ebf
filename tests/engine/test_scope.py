"""Spec §0.9, §3.1-3.3: which globals each kind of expression sees, `results` resolution, `error`."""

from __future__ import annotations

import pytest

from runs.engine import js_truthy, referenced_ids
from runs.engine.scope import error_magic, with_iter

from .flows import branchone, flow, forloop, ident, js, script, static
from .harness import Harness, run_flow
from .jseval import Recorder


def _scope(recorder: Recorder, expr: str) -> dict:
    scopes = recorder.scopes_for(expr)
    assert scopes, f"{expr!r} was never evaluated"
    return scopes[0]


# -- js truthiness ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [None, False, 0, 0.0, "", float("nan")])
def test_js_truthy_falsy_values(value):
    assert js_truthy(value) is False


@pytest.mark.parametrize("value", [True, 1, -1, 0.5, "0", "false", [], {}, [0], {"a": None}])
def test_js_truthy_truthy_values(value):
    assert js_truthy(value) is True


# -- referenced ids -----------------------------------------------------------------------------

@pytest.mark.parametrize("expr, ids", [
    ("results.a", ["a"]),
    ("results?.a.b", ["a"]),
    ('results["my-step"]', ["my-step"]),
    ("results.a + results.b + results.a", ["a", "b"]),
    ("flow_input.results.x", []),
    ("myresults.x", []),
    ("previous_result", []),
])
def test_referenced_ids_finds_the_forms_windmill_rewrites(expr, ids):
    assert referenced_ids(expr) == (ids, False)


@pytest.mark.parametrize("expr", ["results[name]", "results['a']", "results[`a`]"])
def test_computed_results_access_needs_every_visible_id(expr):
    assert referenced_ids(expr)[1] is True


# -- input transforms ---------------------------------------------------------------------------

def test_input_transform_scope_has_the_documented_globals_and_no_result(recorder):
    doc = flow(script("a", "1"), script("b", "1", {"x": "previous_result"}), flow_env={"region": "eu"})
    h = Harness(doc, recorder)
    h.start({"k": 1})
    h.drive()
    scope = _scope(recorder, "previous_result")
    assert "result" not in scope
    assert scope["flow_input"] == {"k": 1}
    assert scope["previous_result"] == 1
    assert scope["params"] == {}
    assert scope["flow_env"] == {"region": "eu"}
    assert scope["resume"] is None and scope["resumes"] == [] and scope["approvers"] == []
    assert scope["results"] == {}


def test_result_is_undefined_in_input_transforms_so_reading_it_fails():
    h = run_flow(flow(script("a", "1"), script("b", "x", {"x": "result"})))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"


def test_results_contains_only_referenced_ids(recorder):
    doc = flow(script("a", "1"), script("b", "2"), script("c", "x", {"x": "results.a"}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    assert _scope(recorder, "results.a")["results"] == {"a": 1}
    assert h.view["result"] == 1


def test_computed_results_access_gets_every_completed_step(recorder):
    doc = flow(script("a", "1"), script("b", "2"), script("c", "x", {"x": 'results["a"] if False else results[k]'}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scope = recorder.calls[-1][1]
    assert scope["results"] == {"a": 1, "b": 2}


def test_unknown_result_id_is_null():
    h = run_flow(flow(script("a", "x", {"x": "results.nope"})))
    assert h.view["status"] == "success"
    assert h.view["result"] is None


def test_not_yet_run_step_is_null():
    h = run_flow(flow(script("a", "x", {"x": "results.b"}), script("b", "2")))
    assert h.step("a")["result"] is None


def test_results_of_enclosing_flow_are_visible_inside_a_loop_body():
    doc = flow(script("a", "10"),
               forloop("l", "[1, 2]", [script("s", "x + v", {"x": "results.a", "v": "flow_input.iter.value"})]))
    h = run_flow(doc)
    assert h.view["result"] == [11, 12]


def test_results_two_levels_up_are_visible_in_nested_loops():
    inner = forloop("inner", "[1]", [script("s", "x", {"x": "results.top"})])
    doc = flow(script("top", "'T'"), forloop("outer", "[0]", [inner]))
    assert run_flow(doc).view["result"] == [[["T"]]][0]


def test_container_id_resolves_to_its_aggregated_list():
    doc = flow(forloop("l", "[1, 2, 3]", [script("s", "v * 10", {"v": "flow_input.iter.value"})]),
               script("after", "x", {"x": "results.l"}))
    assert run_flow(doc).view["result"] == [10, 20, 30]


def test_step_inside_a_branch_is_visible_after_the_branch():
    doc = flow(branchone("b", [("true", [script("inner", "'deep'")])]), script("after", "x", {"x": "results.inner"}))
    assert run_flow(doc).view["result"] == "deep"


def test_results_of_previous_step_equal_previous_result():
    doc = flow(script("a", "{'v': 3}"), script("b", "x == y", {"x": "results.a", "y": "previous_result"}))
    assert run_flow(doc).view["result"] is True


def test_failed_step_result_is_visible_after_continue_on_error():
    doc = flow(script("a", "fail('x')", continue_on_error=True), script("b", "m", {"m": "results.a.error.message"}))
    assert run_flow(doc).view["result"] == "x"


def test_flow_env_is_visible_in_expressions():
    doc = flow(script("a", "x", {"x": "flow_env.region"}), flow_env={"region": "eu-west"})
    assert run_flow(doc).view["result"] == "eu-west"


def test_flow_env_is_inherited_by_loop_bodies():
    doc = flow(forloop("l", "[1]", [script("s", "x", {"x": "flow_env.k"})]), flow_env={"k": "v"})
    assert run_flow(doc).view["result"] == ["v"]


def test_params_is_always_an_empty_object():
    doc = flow(script("a", "x", {"x": "params"}))
    assert run_flow(doc).view["result"] == {}


# -- error magic --------------------------------------------------------------------------------

def test_error_is_previous_result_error_when_present():
    assert error_magic({"error": {"name": "E", "message": "m"}}) == {"name": "E", "message": "m"}


def test_error_from_array_with_single_error_element():
    prev = [1, {"error": {"name": "E", "message": "one"}}, 3]
    assert error_magic(prev) == {"name": "E", "message": "one"}


def test_error_from_array_with_several_errors_is_multiple_errors():
    prev = [{"error": {"message": "a"}}, {"error": {"message": "b"}}]
    out = error_magic(prev)
    assert out["name"] == "MultipleErrors"
    assert out["errors"] == [{"message": "a"}, {"message": "b"}]


def test_error_without_any_error_is_unknown_error():
    assert error_magic({"ok": 1})["name"] == "UnknownError"


def test_error_variable_only_exists_when_expression_mentions_it(recorder):
    doc = flow(script("a", "fail('z')", continue_on_error=True),
               script("b", "1", {"x": "previous_result", "y": "error.message"}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    assert "error" not in _scope(recorder, "previous_result")
    assert _scope(recorder, "error.message")["error"]["message"] == "z"


def test_error_handler_sees_error_of_failed_step():
    doc = flow(script("a", "fail('kaput')"), failure=script("failure", "m", {"m": "error.message"}))
    h = run_flow(doc)
    assert h.view["result"] == "kaput"


# -- other contexts -----------------------------------------------------------------------------

def test_iterator_scope_has_result_equal_previous_result(recorder):
    doc = flow(script("a", "[1]"), forloop("l", "result", [ident("x")]))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scope = _scope(recorder, "result")
    assert scope["result"] == [1] and scope["previous_result"] == [1]
    assert "results" in scope and "flow_env" in scope and "resume" in scope


def test_branchone_predicate_scope_has_result_and_previous_result(recorder):
    doc = flow(script("a", "7"), branchone("b", [("result == 7 and previous_result == 7", [script("y", "'yes'")])]))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    assert h.view["result"] == "yes"


def test_skip_if_scope_has_result_equal_previous_result(recorder):
    doc = flow(script("a", "3"), script("b", "1", skip_if={"expr": "result == 3"}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    assert _scope(recorder, "result == 3")["previous_result"] == 3
    assert h.step("b")["status"] == "skipped"


def test_stop_after_if_scope_result_is_this_step_result_without_resume(recorder):
    doc = flow(script("a", "1"), script("b", "2", stop_after_if={"expr": "result == 2", "skip_if_stopped": False}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scope = _scope(recorder, "result == 2")
    assert scope["result"] == 2 and scope["previous_result"] == 2
    assert "resume" not in scope and "params" not in scope


def test_sleep_scope_has_no_results(recorder):
    doc = flow(script("a", "2", sleep=js("result")))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scope = _scope(recorder, "result")
    assert "results" not in scope
    assert scope["result"] == 2 and scope["previous_result"] == 2


def test_timeout_scope_has_results_and_value_before_the_step(recorder):
    doc = flow(script("a", "30"), script("b", "1", timeout=js("previous_result")))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scope = _scope(recorder, "previous_result")
    assert scope["result"] == 30 and "results" in scope
    assert [a for a in h.history if a.get("step_key") == "b"][0]["timeout"] == 30


def test_retry_if_scope_has_failed_result_and_no_results(recorder):
    doc = flow(script("a", "fail('x')", retry={"constant": {"attempts": 1, "seconds": 0},
                                                "retry_if": {"expr": "result.error.message == 'x'"}}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scope = _scope(recorder, "result.error.message == 'x'")
    assert "results" not in scope
    assert scope["result"]["error"]["message"] == "x"


def test_skip_expr_scope(recorder):
    doc = flow(ident("a"), skip_expr="flow_input.skip")
    h = Harness(doc, recorder)
    h.start({"skip": False})
    scope = _scope(recorder, "flow_input.skip")
    assert scope["flow_input"] == {"skip": False}
    assert scope["previous_result"] == {} and scope["result"] == {}
    assert "results" not in scope


# -- iter naming --------------------------------------------------------------------------------

def test_with_iter_moves_outer_iters_one_level_out():
    base = {"x": 1, "iter": "i0", "iter_parent": "i1"}
    out = with_iter(base, "new")
    assert out == {"x": 1, "iter": "new", "iter_parent": "i0", "iter_parent_parent": "i1"}
    assert base == {"x": 1, "iter": "i0", "iter_parent": "i1"}


def test_first_step_of_a_loop_body_sees_flow_input_plus_iter():
    doc = flow(forloop("l", "['a']", [script("s", "p", {"p": "previous_result"})]))
    h = run_flow(doc, {"k": 1})
    assert h.view["result"] == [{"k": 1, "iter": {"index": 0, "value": "a"}}]


def test_static_iterator():
    doc = flow(forloop("l", static([3, 4]), [script("s", "v", {"v": "flow_input.iter.value"})]))
    assert run_flow(doc).view["result"] == [3, 4]
