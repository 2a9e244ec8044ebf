"""Spec §0.17 skip_if, §8 sleep, §1.2 timeout and mock."""

from __future__ import annotations

import pytest

from .flows import flow, forloop, ident, js, script, static, stop_if
from .harness import Harness, run_flow

# -- skip_if ------------------------------------------------------------------------------------


def test_skip_if_true_does_not_run_and_returns_previous_result():
    h = run_flow(flow(script("a", "'A'"), script("b", "'B'", skip_if={"expr": "true"})))
    assert h.scripts_run() == ["a"]
    assert h.view["result"] == "A"
    assert h.step("b")["status"] == "skipped"
    assert h.step("b")["result"] == "A"


def test_skip_if_false_runs_the_step():
    h = run_flow(flow(script("b", "'B'", skip_if={"expr": "flow_input.skip"})), {"skip": False})
    assert h.view["result"] == "B"


def test_skipped_step_ignores_stop_after_if():
    doc = flow(script("a", "1", skip_if={"expr": "true"}, **stop_if("true")), script("b", "'B'"))
    assert run_flow(doc).view["result"] == "B"


def test_skipped_step_does_not_suspend():
    doc = flow(script("a", "1", skip_if={"expr": "true"}, suspend={"required_events": 1}), script("b", "'B'"))
    h = run_flow(doc)
    assert h.view["status"] == "success" and h.view["result"] == "B"


def test_skipped_step_is_seen_as_previous_value_by_next_step():
    doc = flow(script("a", "'A'"), script("b", "'B'", skip_if={"expr": "true"}), script("c", "p", {"p": "previous_result"}))
    assert run_flow(doc).view["result"] == "A"


def test_skip_if_error_fails_the_flow_without_handler():
    doc = flow(script("a", "1", skip_if={"expr": "flow_input.a.b"}), failure=script("failure", "'h'"))
    h = run_flow(doc)
    assert h.view["status"] == "failure"
    assert h.view["result"]["error"]["name"] == "ExecutionErr"
    assert h.scripts_run() == []


def test_skip_if_on_container_skips_it():
    doc = flow(script("a", "'A'"), forloop("l", "[1]", [script("s", "1")], skip_if={"expr": "true"}))
    h = run_flow(doc)
    assert h.view["result"] == "A"
    assert h.step("l")["status"] == "skipped"


def test_skipped_first_step_returns_flow_input():
    h = run_flow(flow(script("a", "1", skip_if={"expr": "true"})), {"k": 1})
    assert h.view["result"] == {"k": 1}


def test_skip_if_is_evaluated_before_input_transforms():
    doc = flow(script("a", "'A'"), script("b", "x", {"x": "flow_input.a.b"}, skip_if={"expr": "true"}),
               failure=script("failure", "'handled'"))
    h = run_flow(doc, {})
    assert h.view["status"] == "success"
    assert h.view["result"] == "A"
    assert h.step("b")["status"] == "skipped"
    assert h.step("b")["error"] is None
    assert h.scripts_run() == ["a"]


def test_skip_if_is_evaluated_before_mock():
    doc = flow(script("a", "'A'"), script("b", "'B'", skip_if={"expr": "true"},
                                          mock={"enabled": True, "return_value": 9}),
               script("c", "p", {"p": "previous_result"}))
    h = run_flow(doc)
    assert h.step("b")["status"] == "skipped"
    assert h.step("b")["result"] == "A"
    assert h.view["result"] == "A"


# -- mock ---------------------------------------------------------------------------------------


def test_mock_enabled_returns_return_value_without_running():
    doc = flow(script("a", "fail('never')", mock={"enabled": True, "return_value": {"m": 1}}), ident("b"))
    h = run_flow(doc)
    assert h.scripts_run() == []
    assert h.view["result"] == {"m": 1}


def test_mock_without_return_value_returns_null():
    assert run_flow(flow(script("a", "1", mock={"enabled": True}))).view["result"] is None


def test_mock_disabled_runs_the_step():
    assert run_flow(flow(script("a", "7", mock={"enabled": False, "return_value": 1}))).view["result"] == 7


def test_mock_on_container_skips_children():
    doc = flow(forloop("l", "[1, 2]", [script("s", "1")], mock={"enabled": True, "return_value": "m"}))
    h = run_flow(doc)
    assert h.view["result"] == "m"
    assert h.scripts_run() == []


def test_mocked_step_still_honours_stop_after_if():
    doc = flow(script("a", "1", mock={"enabled": True, "return_value": 5}, **stop_if("result == 5")), script("b", "2"))
    assert run_flow(doc).view["result"] == 5


def test_mock_completes_inline_in_one_advance():
    h = Harness(flow(script("a", "1", mock={"enabled": True, "return_value": 3})))
    actions = h.start({})
    assert actions == [{"type": "RunFinished", "status": "success", "result": 3, "skipped": False}]


# -- sleep --------------------------------------------------------------------------------------


def test_static_sleep_starts_a_timer_after_the_step():
    h = Harness(flow(script("a", "1", sleep=static(5)), script("b", "2")))
    (action,) = h.start({})
    actions = h.finish(action, True, 1)
    assert actions == [{"type": "StartTimer", "timer": actions[0]["timer"], "delay": 5.0, "reason": "sleep"}]
    actions = h.fire(actions[0])
    assert actions[0]["type"] == "RunScript" and actions[0]["step_key"] == "b"


def test_sleep_javascript_uses_step_result():
    h = Harness(flow(script("a", "2.5", sleep=js("result * 2")), script("b", "2")))
    h.start({})
    actions = h.finish(h.job("a"), True, 2.5)
    assert actions[0]["delay"] == 5.0


def test_sleep_float_has_millisecond_precision():
    h = Harness(flow(script("a", "1", sleep=static(0.12345)), ident("b")))
    h.start({})
    (timer,) = h.finish(h.job("a"), True, 1)
    assert timer["delay"] == 0.123


def test_sleep_on_last_step_keeps_the_step_result():
    h = Harness(flow(script("a", "'mine'", sleep=static(3))))
    h.start({})
    (timer,) = h.finish(h.job("a"), True, "mine")
    assert h.state["status"] == "running"
    (finished,) = h.fire(timer)
    assert finished == {"type": "RunFinished", "status": "success", "result": "mine", "skipped": False}


def test_sleep_zero_or_negative_means_no_wait():
    for value in (0, -3):
        h = Harness(flow(script("a", "1", sleep=static(value)), script("b", "2")))
        h.start({})
        actions = h.finish(h.job("a"), True, 1)
        assert actions[0]["type"] == "RunScript"


def test_sleep_non_number_fails_the_flow():
    h = run_flow(flow(script("a", "1", sleep=static("soon")), script("b", "2")))
    assert h.view["status"] == "failure"
    assert "sleep" in h.view["result"]["error"]["message"]


def test_sleep_expression_error_fails_the_flow_without_handler():
    h = run_flow(flow(script("a", "1", sleep=js("result.a.b")), failure=script("failure", "'h'")))
    assert h.view["status"] == "failure"
    assert "failure" not in h.scripts_run()


def test_sleep_bare_number_is_accepted():
    h = Harness(flow(script("a", "1", sleep=4), ident("b")))
    h.start({})
    (timer,) = h.finish(h.job("a"), True, 1)
    assert timer["delay"] == 4.0


def test_sleep_applies_after_skipped_step():
    h = Harness(flow(script("a", "1", skip_if={"expr": "true"}, sleep=static(2)), ident("b")))
    actions = h.start({})
    assert actions[0]["type"] == "StartTimer"


def test_sleep_inside_loop_body_delays_next_step_of_the_iteration():
    h = Harness(flow(forloop("l", "[1]", [script("s", "1", sleep=static(1)), script("t", "2")])))
    h.start({})
    actions = h.finish(h.job("l/0/s"), True, 1)
    assert actions[0]["type"] == "StartTimer"
    h.drive()
    assert h.view["result"] == [2]


def test_stale_sleep_timer_is_ignored():
    h = Harness(flow(script("a", "1", sleep=static(5)), script("b", "2")))
    h.start({})
    (timer,) = h.finish(h.job("a"), True, 1)
    h.fire(timer)
    state = h.state
    assert h.send({"type": "TimerFired", "timer": timer["timer"]}) == []
    assert h.state == state


# -- timeout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("spec, expected", [(static(30), 30), (30, 30), (js("flow_input.t"), 12),
                                            (static(0), None), (static(-5), None), (static(None), None),
                                            (static(2.9), 2)])
def test_timeout_is_passed_to_the_run_script_action(spec, expected):
    h = Harness(flow(script("a", "1", timeout=spec)))
    (action,) = h.start({"t": 12})
    assert action["timeout"] == expected


def test_timeout_expression_error_fails_the_flow_without_handler():
    h = run_flow(flow(script("a", "1", timeout=js("flow_input.a.b")), failure=script("failure", "'h'")))
    assert h.view["status"] == "failure"
    assert h.scripts_run() == []


def test_timeout_non_number_fails_the_flow():
    h = run_flow(flow(script("a", "1", timeout=static("long"))))
    assert h.view["status"] == "failure"


# -- cache_ttl (spec §1.2: "cache the step result keyed by its args"; the cache itself is the task layer's) --


@pytest.mark.parametrize(("ttl", "carried"), [(60, 60), (1, 1), (2.9, 2), (0, None), (-5, None), (None, None),
                                              ("60", None), (True, None)])
def test_run_script_action_carries_a_positive_cache_ttl_only(ttl, carried):
    h = Harness(flow(script("a", "1", cache_ttl=ttl)))
    action = next(a for a in h.start({}) if a["type"] == "RunScript")
    assert action.get("cache_ttl") == carried
