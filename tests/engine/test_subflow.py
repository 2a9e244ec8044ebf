"""Spec §1.3 `flow` steps: sub-flows by path, run as a child frame of the same run."""

from __future__ import annotations

from .flows import flow, ident, script, stop_if, subflow
from .harness import run_flow


def _child(*modules, **value):
    return {"summary": "child", "value": {"modules": list(modules), **value}}


def _doc(*modules, child=None, **value):
    return flow(*modules, resolved={"scripts": {}, "flows": {"f/lib/child": child}}, **value)


def test_subflow_result_is_its_last_step_result():
    child = _child(script("c1", "x * 2", {"x": "flow_input.n"}))
    h = run_flow(_doc(subflow("sub", "f/lib/child", {"n": "flow_input.v"}), child=child), {"v": 21})
    assert h.view["status"] == "success"
    assert h.view["result"] == 42


def test_subflow_flow_input_is_the_evaluated_input_transforms():
    child = _child(script("c1", "p", {"p": "flow_input"}))
    h = run_flow(_doc(subflow("sub", "f/lib/child", {"a": "flow_input.x", "b": "1 + 1"}), child=child), {"x": "X"})
    assert h.view["result"] == {"a": "X", "b": 2}
    assert h.step("sub")["args"] == {"a": "X", "b": 2}


def test_subflow_first_step_sees_child_args_as_previous_result():
    child = _child(script("c1", "p", {"p": "previous_result"}))
    h = run_flow(_doc(script("a", "'parent prev'"), subflow("sub", "f/lib/child", {"q": "1"}), child=child))
    assert h.view["result"] == {"q": 1}


def test_subflow_steps_are_keyed_under_the_flow_step():
    child = _child(script("c1", "1"), script("c2", "2"))
    h = run_flow(_doc(subflow("sub", "f/lib/child"), child=child))
    assert [s["key"] for s in h.view["steps"]] == ["sub", "sub/0/c1", "sub/0/c2"]


def test_stop_inside_subflow_does_not_propagate():
    child = _child(script("c1", "'stopped'", **stop_if("true")), script("c2", "'never'"))
    h = run_flow(_doc(subflow("sub", "f/lib/child"), script("after", "'parent went on'"), child=child))
    assert h.view["status"] == "success"
    assert h.view["result"] == "parent went on"
    assert h.step("sub")["result"] == "stopped"
    assert "sub/0/c2" not in h.scripts_run()


def test_skip_if_stopped_inside_subflow_does_not_mark_the_run_skipped():
    child = _child(script("c1", "1", **stop_if("true", skip_if_stopped=True)))
    h = run_flow(_doc(subflow("sub", "f/lib/child"), child=child))
    assert h.view["skipped"] is False


def test_failing_subflow_fails_the_step():
    child = _child(script("c1", "fail('child broke')"))
    h = run_flow(_doc(subflow("sub", "f/lib/child"), script("after", "1"), child=child))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["message"] == "child broke"


def test_missing_subflow_path_fails_the_step():
    h = run_flow(_doc(subflow("sub", "f/lib/nope"), child=_child(ident("x"))))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "NotFound"


def test_subflow_uses_its_own_error_handler():
    child = _child(script("c1", "fail('x')"), failure_module=script("failure", "{'recover': True, 'from': 'child'}"))
    h = run_flow(_doc(subflow("sub", "f/lib/child"), script("after", "p", {"p": "previous_result"}), child=child))
    assert h.view["status"] == "success"
    assert h.view["result"] == {"recover": True, "from": "child"}


def test_subflow_skip_expr_returns_stopped_early():
    child = _child(script("c1", "1"), skip_expr="flow_input.skip")
    h = run_flow(_doc(subflow("sub", "f/lib/child", {"skip": "true"}), child=child))
    assert h.view["result"] == "stopped early"
    assert h.scripts_run() == []


def test_subflow_inherits_and_extends_flow_env():
    child = _child(script("c1", "[a, b]", {"a": "flow_env.a", "b": "flow_env.b"}), flow_env={"b": "child"})
    h = run_flow(_doc(subflow("sub", "f/lib/child"), child=child, flow_env={"a": "parent", "b": "parent"}))
    assert h.view["result"] == ["parent", "child"]


def test_subflow_empty_returns_its_args():
    h = run_flow(_doc(subflow("sub", "f/lib/child", {"z": "3"}), child=_child()))
    assert h.view["result"] == {"z": 3}


def test_subflow_input_transform_error_fails_the_step():
    h = run_flow(_doc(subflow("sub", "f/lib/child", {"z": "flow_input.a.b"}), child=_child(ident("x"))))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"
