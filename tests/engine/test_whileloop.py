"""Spec §4.2: while loops."""

from __future__ import annotations

from .flows import flow, script, whileloop
from .harness import Harness, run_flow


def test_while_iteration_gets_index_and_value_equal_to_n():
    body = [script("s", "[i, v]", {"i": "flow_input.iter.index", "v": "flow_input.iter.value"},
                   stop_after_if={"expr": "result[0] == 2", "skip_if_stopped": False})]
    assert run_flow(flow(whileloop("w", body))).view["result"] == [[0, 0], [1, 1], [2, 2]]


def test_while_loop_ends_with_module_stop_after_if():
    doc = flow(whileloop("w", [script("s", "i", {"i": "flow_input.iter.index"})],
                         stop_after_if={"expr": "result >= 3", "skip_if_stopped": False}),
               script("after", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    assert h.view["result"] == [0, 1, 2, 3]
    assert h.scripts_run()[-1] == "after"


def test_while_loop_reads_own_id_for_previous_iteration_result():
    body = [script("s", "(prev or 0) + 1", {"prev": "results.w"},
                   stop_after_if={"expr": "result == 4", "skip_if_stopped": False})]
    assert run_flow(flow(whileloop("w", body))).view["result"] == [1, 2, 3, 4]


def test_while_loop_is_sequential():
    h = Harness(flow(whileloop("w", [script("s", "1", stop_after_if={"expr": "true", "skip_if_stopped": False})])))
    actions = h.start({})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["w/0/s"]


def test_while_loop_parallel_flag_is_ignored():
    loop = whileloop("w", [script("s", "i", {"i": "flow_input.iter.index"})],
                     stop_after_if={"expr": "result == 1", "skip_if_stopped": False})
    loop["value"]["parallel"] = True
    h = Harness(flow(loop))
    actions = h.start({})
    assert len([a for a in actions if a["type"] == "RunScript"]) == 1
    h.drive()
    assert h.view["result"] == [0, 1]


def test_failing_while_iteration_fails_the_loop_by_default():
    h = run_flow(flow(whileloop("w", [script("s", "fail('no')")])))
    assert h.view["status"] == "failure"
    assert h.view["result"][0]["error"]["message"] == "no"


def test_while_loop_skip_failures_keeps_going():
    body = [script("s", "fail('odd') if i % 2 else i", {"i": "flow_input.iter.index"})]
    doc = flow(whileloop("w", body, skip_failures=True, stop_after_if={"expr": "result == 2", "skip_if_stopped": False}))
    h = run_flow(doc)
    assert h.view["status"] == "success"
    assert h.view["result"][0] == 0 and h.view["result"][2] == 2
    assert h.view["result"][1]["error"]["message"] == "odd"


def test_while_loop_iterations_have_their_own_step_keys():
    body = [script("s", "i", {"i": "flow_input.iter.index"}, stop_after_if={"expr": "result == 1", "skip_if_stopped": False})]
    h = run_flow(flow(whileloop("w", body)))
    assert [s["key"] for s in h.view["steps"]] == ["w", "w/0/s", "w/1/s"]


def test_skip_failures_absent_means_false():
    loop = whileloop("w", [script("s", "fail('no')")], stop_after_if={"expr": "true", "skip_if_stopped": False})
    del loop["value"]["skip_failures"]
    h = run_flow(flow(loop, script("after", "1")))
    assert h.view["status"] == "failure"
    assert h.view["result"][0]["error"]["message"] == "no"
    assert h.step("w")["status"] == "failure"
    assert "after" not in h.scripts_run()
