"""Spec §0.1-0.2, §1.3 leaf kinds, §2.1 driver order, §2.2 previous_result."""

from __future__ import annotations

from runs.engine import advance

from .flows import flow, ident, js, saved, script, static
from .harness import Harness, run_flow
from .jseval import evaluate


def test_modules_run_strictly_in_order():
    h = run_flow(flow(script("a", "1"), script("b", "2"), script("c", "3")))
    assert h.scripts_run() == ["a", "b", "c"]


def test_only_one_step_runs_at_a_time():
    h = Harness(flow(script("a", "1"), script("b", "2")))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["a"]


def test_first_step_previous_result_is_the_flow_input():
    h = run_flow(flow(script("a", "x", {"x": "previous_result"})), {"k": 1})
    assert h.view["result"] == {"k": 1}


def test_previous_result_is_the_previous_step_result():
    h = run_flow(flow(script("a", "5"), script("b", "x * 2", {"x": "previous_result"})))
    assert h.view["result"] == 10


def test_flow_result_is_last_step_result():
    h = run_flow(flow(script("a", "1"), script("b", "'last'")))
    assert h.view["status"] == "success"
    assert h.view["result"] == "last"


def test_flow_with_no_modules_returns_its_input():
    h = run_flow(flow(), {"a": [1, 2]})
    assert h.view["status"] == "success"
    assert h.view["result"] == {"a": [1, 2]}


def test_identity_returns_previous_result():
    h = run_flow(flow(script("a", "[1, 2]"), ident("b")))
    assert h.view["result"] == [1, 2]
    assert h.step("b")["result"] == [1, 2]


def test_identity_chain_of_40_completes_inside_one_advance():
    doc = flow(*[ident(f"s{i}") for i in range(40)])
    state, actions = advance(doc, None, {"type": "RunStarted", "args": {"x": 1}, "now": 1.0}, evaluate=evaluate)
    assert actions == [{"type": "RunFinished", "status": "success", "result": {"x": 1}, "skipped": False}]
    assert state["status"] == "success"


def test_identity_chain_of_300_does_not_hit_recursion_limits():
    doc = flow(*[ident(f"s{i}") for i in range(300)])
    state, actions = advance(doc, None, {"type": "RunStarted", "args": {}, "now": 1.0}, evaluate=evaluate)
    assert state["status"] == "success"


def test_rawscript_python_action_carries_language_content_and_args():
    h = Harness(flow(script("a", "print(1)", {"x": static(3), "y": "flow_input.y"}, language="python3")))
    (action,) = h.start({"y": "why"})
    assert action["type"] == "RunScript"
    assert action["language"] == "python3"
    assert action["content"] == "print(1)"
    assert action["args"] == {"x": 3, "y": "why"}
    assert action["step_key"] == "a" and action["module_id"] == "a"
    assert action["attempt"] == 1 and action["frame"] == "" and action["timeout"] is None


def test_rawscript_deno_and_bash_keep_their_language():
    h = Harness(flow(script("d", "export function main(){}", language="deno"), script("b", "echo hi", language="bash")))
    (first,) = h.start({})
    assert first["language"] == "deno"
    (second,) = [a for a in h.finish(first, True, 1) if a["type"] == "RunScript"]
    assert second["language"] == "bash" and second["content"] == "echo hi"


def test_script_step_is_looked_up_in_resolved_scripts():
    doc = flow(saved("a", "f/lib/add", {"x": "flow_input.x"}),
               resolved={"scripts": {"f/lib/add": {"language": "python3", "content": "x + 1"}}, "flows": {}})
    h = Harness(doc)
    (action,) = h.start({"x": 4})
    assert action["language"] == "python3" and action["content"] == "x + 1" and action["path"] == "f/lib/add"
    h.drive()
    assert h.view["result"] == 5


def test_script_step_with_unknown_path_fails_that_step():
    h = run_flow(flow(saved("a", "f/missing")))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "NotFound"
    assert "f/missing" in h.view["result"]["error"]["message"]


def test_unsupported_module_type_fails_the_step_with_an_error_object():
    h = run_flow(flow({"id": "ai", "value": {"type": "aiagent"}}))
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"


def test_input_transform_ai_type_passes_no_value():
    h = Harness(flow(script("a", "1", {"x": {"type": "ai"}, "y": static(2)})))
    (action,) = h.start({})
    assert action["args"] == {"y": 2}


def test_static_values_are_passed_verbatim():
    h = Harness(flow(script("a", "1", {"r": static("$res:u/alice/db"), "o": static({"a": [1, None]})})))
    (action,) = h.start({})
    assert action["args"] == {"r": "$res:u/alice/db", "o": {"a": [1, None]}}


def test_null_transform_result_is_passed_as_null():
    h = Harness(flow(script("a", "1", {"x": "flow_input.missing"})))
    (action,) = h.start({})
    assert action["args"] == {"x": None}


def test_flow_args_are_not_validated_against_schema():
    doc = flow(script("a", "x", {"x": "flow_input.n"}))
    doc["schema"] = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
    h = run_flow(doc, {"n": "not a number"})
    assert h.view["result"] == "not a number"


def test_failed_script_result_is_the_error_object():
    h = run_flow(flow(script("a", "fail('bad')")))
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"error": {"name": "ScriptError", "message": "bad", "step_id": "a"}}


def test_failed_job_result_without_error_shape_is_wrapped():
    h = Harness(flow(script("a", "1")))
    (action,) = h.start({})
    h.finish(action, False, "plain text")
    assert h.view["status"] == "failure"
    assert "error" in h.view["result"]


def test_javascript_transform_sees_flow_input():
    h = Harness(flow(script("a", "1", {"x": js("flow_input.a.b")})))
    (action,) = h.start({"a": {"b": [1]}})
    assert action["args"] == {"x": [1]}


def test_run_started_without_args_uses_empty_object():
    doc = flow(ident("a"))
    state, actions = advance(doc, None, {"type": "RunStarted", "now": 1.0}, evaluate=evaluate)
    assert actions[-1]["result"] == {}


def test_events_before_run_started_are_ignored():
    state, actions = advance(flow(ident("a")), None, {"type": "TimerFired", "timer": "t1", "now": 1}, evaluate=evaluate)
    assert state is None and actions == []


def test_unknown_event_type_is_ignored():
    h = Harness(flow(script("a", "1")))
    h.start({})
    before = h.state
    state, actions = advance(h.flow, before, {"type": "Bogus", "now": 2}, evaluate=evaluate)
    assert state == before and actions == []


def test_started_and_finished_at_come_from_event_now():
    h = Harness(flow(script("a", "1")))
    h.now = 50.0
    (action,) = h.start({})
    h.now = 60.5
    h.finish(action, True, 1)
    view = h.view
    assert view["started_at"] == 50.0 and view["finished_at"] == 60.5
    assert h.step("a")["started_at"] == 50.0 and h.step("a")["finished_at"] == 60.5


def test_preprocessor_module_is_not_run_for_api_started_runs():
    doc = flow(script("a", "x", {"x": "flow_input"}),
               preprocessor_module={"id": "preprocessor", "value": {"type": "rawscript", "language": "python3",
                                                                    "content": "{'replaced': True}",
                                                                    "input_transforms": {}}})
    h = run_flow(doc, {"orig": 1})
    assert h.scripts_run() == ["a"]
    assert h.view["result"] == {"orig": 1}
