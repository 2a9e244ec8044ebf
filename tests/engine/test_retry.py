"""Spec §0.12-0.13, §7: retries."""

from __future__ import annotations

import pytest

from runs.engine import MAX_RETRY_DELAY, retry_delay

from .flows import branchall, flow, forloop, script
from .harness import Harness, run_flow


def test_constant_then_exponential_delays():
    retry = {"constant": {"attempts": 2, "seconds": 5}, "exponential": {"attempts": 2, "multiplier": 3, "seconds": 2}}
    assert retry_delay(retry, 0, 0.5) == 5
    assert retry_delay(retry, 1, 0.5) == 5
    assert retry_delay(retry, 2, 0.5) == 3 * 2 ** 3
    assert retry_delay(retry, 3, 0.5) == 3 * 2 ** 4
    assert retry_delay(retry, 4, 0.5) is None


def test_exponential_only_counts_from_first_failure():
    retry = {"exponential": {"attempts": 3, "multiplier": 1, "seconds": 2}}
    assert [retry_delay(retry, n, 0.5) for n in range(4)] == [2, 4, 8, None]


def test_exponential_multiplier_defaults_to_one():
    assert retry_delay({"exponential": {"attempts": 1, "seconds": 3}}, 0, 0.5) == 3


def test_no_retry_config_means_no_retry():
    assert retry_delay(None, 0, 0.5) is None
    assert retry_delay({}, 0, 0.5) is None


@pytest.mark.parametrize("rand, expected", [(0.0, 80.0), (0.5, 100.0), (0.75, 110.0)])
def test_random_factor_jitter_uses_event_rand(rand, expected):
    retry = {"exponential": {"attempts": 1, "multiplier": 10, "seconds": 10, "random_factor": 20}}
    assert retry_delay(retry, 0, rand) == pytest.approx(expected)


def test_delay_is_capped_at_six_hours():
    retry = {"exponential": {"attempts": 50, "multiplier": 1, "seconds": 10}}
    assert retry_delay(retry, 20, 0.5) == MAX_RETRY_DELAY == 21600
    assert retry_delay({"constant": {"attempts": 1, "seconds": 10**9}}, 0, 0.5) == MAX_RETRY_DELAY


def test_huge_exponent_does_not_overflow():
    assert retry_delay({"exponential": {"attempts": 5000, "seconds": 10}}, 4000, 0.5) == MAX_RETRY_DELAY


def test_step_runs_at_most_one_plus_attempts_times():
    doc = flow(script("a", "fail('x')", retry={"constant": {"attempts": 3, "seconds": 0}}))
    h = run_flow(doc)
    assert h.scripts_run() == ["a"] * 4
    assert h.step("a")["attempts"] == 4
    assert h.view["status"] == "failure"


def test_retry_succeeds_on_a_later_attempt():
    doc = flow(script("a", "fail('x') if attempt < 3 else 'ok'", retry={"constant": {"attempts": 5, "seconds": 0}}))
    h = run_flow(doc)
    assert h.view["status"] == "success" and h.view["result"] == "ok"
    assert h.step("a")["attempts"] == 3


def test_retry_with_delay_starts_a_retry_timer():
    h = Harness(flow(script("a", "1", retry={"constant": {"attempts": 1, "seconds": 7}})))
    (action,) = h.start({})
    actions = h.finish(action, False, {"error": {"name": "E", "message": "m"}})
    assert actions == [{"type": "StartTimer", "timer": actions[0]["timer"], "delay": 7.0, "reason": "retry"}]
    assert h.step("a")["status"] == "running"
    actions = h.fire(actions[0])
    assert actions[0]["type"] == "RunScript" and actions[0]["attempt"] == 2


def test_retry_timer_delay_follows_exponential_with_jitter():
    retry = {"exponential": {"attempts": 1, "multiplier": 2, "seconds": 3, "random_factor": 50}}
    h = Harness(flow(script("a", "1", retry=retry)))
    (action,) = h.start({})
    (timer,) = h.finish(action, False, {"error": {"message": "m"}}, rand=1.0)
    assert timer["delay"] == pytest.approx(6 * 1.5)


def test_retried_job_reuses_failed_attempt_args():
    doc = flow(script("a", "fail('x')", {"n": "flow_input.n"}, retry={"constant": {"attempts": 1, "seconds": 0}}))
    h = Harness(doc)
    (first,) = h.start({"n": 1})
    (second,) = h.finish(first, False, {"error": {"message": "m"}})
    assert second["args"] == first["args"] == {"n": 1}
    assert second["job"] != first["job"]


def test_retried_job_args_are_not_reevaluated(recorder):
    doc = flow(script("a", "fail('x')", {"n": "flow_input.n"}, retry={"constant": {"attempts": 2, "seconds": 0}}))
    h = Harness(doc, recorder)
    h.start({"n": 1})
    h.drive()
    assert len(recorder.scopes_for("flow_input.n")) == 1


def test_retry_if_false_prevents_retry():
    retry = {"constant": {"attempts": 3, "seconds": 0}, "retry_if": {"expr": "result.error.message == 'transient'"}}
    h = run_flow(flow(script("a", "fail('fatal')", retry=retry)))
    assert h.scripts_run() == ["a"]


def test_retry_if_true_allows_retry():
    retry = {"constant": {"attempts": 2, "seconds": 0}, "retry_if": {"expr": "result.error.message == 'transient'"}}
    h = run_flow(flow(script("a", "fail('transient')", retry=retry)))
    assert h.scripts_run() == ["a"] * 3


def test_failed_jobs_are_recorded():
    h = run_flow(flow(script("a", "fail('x') if attempt < 3 else 1", retry={"constant": {"attempts": 3, "seconds": 0}})))
    assert len(h.step("a")["failed_jobs"]) == 2


def test_retry_on_forloop_reruns_the_whole_loop():
    calls = []

    def runner(action):
        calls.append(action["step_key"])
        if action["step_key"] == "l/1/s" and calls.count("l/1/s") == 1:
            return False, {"error": {"name": "E", "message": "once"}}
        return True, action["args"]["v"]

    body = [script("s", "v", {"v": "flow_input.iter.value"})]
    h = Harness(flow(forloop("l", "[0, 1]", body, retry={"constant": {"attempts": 1, "seconds": 0}})))
    h.run({}, runner)
    assert h.view["status"] == "success"
    assert h.view["result"] == [0, 1]
    assert calls == ["l/0/s", "l/1/s", "l/0/s", "l/1/s"]
    assert h.step("l")["attempts"] == 2


def test_retry_on_branchall_reruns_every_branch():
    calls = []

    def runner(action):
        calls.append(action["step_key"])
        if action["step_key"] == "b/1/y" and calls.count("b/1/y") == 1:
            return False, {"error": {"name": "E", "message": "once"}}
        return True, action["step_key"]

    doc = flow(branchall("b", [[script("x")], [script("y")]], retry={"constant": {"attempts": 1, "seconds": 0}}))
    h = Harness(doc)
    h.run({}, runner)
    assert h.view["status"] == "success"
    assert calls == ["b/0/x", "b/1/y", "b/0/x", "b/1/y"]


def test_retry_predicates_see_preceding_step_result(recorder):
    doc = flow(script("a", "'before'"),
               script("b", "fail('x')", skip_if={"expr": "previous_result == 'nope'"},
                      retry={"constant": {"attempts": 1, "seconds": 0}}))
    h = Harness(doc, recorder)
    h.start({})
    h.drive()
    scopes = recorder.scopes_for("previous_result == 'nope'")
    assert [s["previous_result"] for s in scopes] == ["before", "before"]


def test_retry_error_then_handler():
    doc = flow(script("a", "fail('x')", retry={"constant": {"attempts": 1, "seconds": 0}}),
               failure=script("failure", "'h'"))
    h = run_flow(doc)
    assert h.scripts_run() == ["a", "a", "failure"]


def test_stale_retry_timer_is_ignored_after_run_canceled():
    h = Harness(flow(script("a", "1", retry={"constant": {"attempts": 1, "seconds": 10}})))
    (action,) = h.start({})
    (timer,) = h.finish(action, False, {"error": {"message": "m"}})
    h.cancel()
    state = h.state
    assert h.fire(timer) == []
    assert h.state == state


# -- failures the step did not produce (spec §5.2(3), §7) ------------------------------------------

LOST = {"error": {"name": "WorkerLost", "message": "the worker stopped 3 times"}}


def test_unrecoverable_failure_skips_retry_and_continue_on_error_only_the_handler_runs():
    doc = flow(script("a", "1", retry={"constant": {"attempts": 3, "seconds": 0}}, continue_on_error=True),
               script("b", "2"), failure=script("failure", "{'handled': e}", {"e": "error"}))
    h = Harness(doc)
    (action,) = h.start({})
    h.finish(action, False, LOST, unrecoverable=True)
    h.drive()
    assert h.scripts_run() == ["a", "failure"]
    assert h.step("a")["status"] == "failure"
    assert h.step("a")["attempts"] == 1
    assert h.view["status"] == "failure"
    assert h.view["result"] == {"handled": LOST["error"]}


def test_unrecoverable_failure_without_handler_fails_the_flow_with_the_error():
    h = Harness(flow(script("a", "1", retry={"constant": {"attempts": 3, "seconds": 0}}), script("b", "2")))
    (action,) = h.start({})
    actions = h.finish(action, False, LOST, unrecoverable=True)
    assert [a["type"] for a in actions] == ["RunFinished"]
    assert h.view["status"] == "failure" and h.view["result"] == LOST


def test_unrecoverable_flag_is_ignored_on_success():
    h = Harness(flow(script("a", "1"), script("b", "2")))
    (action,) = h.start({})
    h.finish(action, True, 1, unrecoverable=True)
    h.drive()
    assert h.view["status"] == "success" and h.view["result"] == 2


def test_unrecoverable_failure_inside_a_loop_is_an_ordinary_failed_iteration_for_the_loop():
    # Only the crashed step itself loses retry / continue_on_error; the loop still skips the failure.
    body = [script("s", "v", {"v": "flow_input.iter.value"}, retry={"constant": {"attempts": 3, "seconds": 0}})]
    h = Harness(flow(forloop("l", "[0, 1]", body, skip_failures=True), script("after", "p", {"p": "previous_result"})))
    h.start({})
    h.finish(h.job("l/0/s"), False, LOST, unrecoverable=True)
    h.drive()
    assert h.scripts_run() == ["l/0/s", "l/1/s", "after"]
    assert h.view["status"] == "success"
    assert h.view["result"] == [LOST, 1]
