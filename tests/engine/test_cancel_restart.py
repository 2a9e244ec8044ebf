"""Spec §5.1 / §9.4 whole-run cancel; RunStarted.restart (engine contract)."""

from __future__ import annotations

from .flows import flow, forloop, script, static
from .harness import Harness, run_flow

CANCELED = {"error": {"name": "Canceled", "message": "Job canceled: manual by alice", "reason": "manual",
                      "canceler": "alice"}}


def test_cancel_kills_running_jobs_and_finishes_canceled():
    h = Harness(flow(forloop("l", "[1, 2]", [script("s", "1")], parallel=True)))
    h.start({})
    actions = h.cancel("manual", "alice")
    assert actions[0] == {"type": "CancelJobs", "jobs": ["j1", "j2"]}
    assert actions[-1] == {"type": "RunFinished", "status": "canceled", "result": CANCELED, "skipped": False}
    assert h.view["status"] == "canceled"
    assert h.step("l/0/s")["status"] == "canceled"


def test_cancel_does_not_run_error_handler():
    h = Harness(flow(script("a", "1"), failure=script("failure", "'h'")))
    h.start({})
    h.cancel()
    assert [a["type"] for a in h.history] == ["RunScript", "CancelJobs", "RunFinished"]


def test_late_step_finished_after_cancel_is_ignored():
    h = Harness(flow(script("a", "1")))
    (action,) = h.start({})
    h.cancel()
    state = h.state
    assert h.finish(action, True, 1) == []
    assert h.state == state


def test_cancel_while_suspended():
    h = Harness(flow(script("a", "1", suspend={"required_events": 1}), script("b", "2")))
    h.start({})
    h.drive()
    actions = h.cancel("stop please", "bob")
    assert actions == [{"type": "RunFinished", "status": "canceled", "skipped": False,
                        "result": {"error": {"name": "Canceled", "message": "Job canceled: stop please by bob",
                                             "reason": "stop please", "canceler": "bob"}}}]
    assert h.step("a")["status"] == "canceled"
    assert h.resume("a", 0, "late") == []


def test_cancel_while_sleeping():
    h = Harness(flow(script("a", "1", sleep=static(10)), script("b", "2")))
    h.start({})
    (timer,) = h.finish(h.job("a"), True, 1)
    h.cancel()
    assert h.view["status"] == "canceled"
    assert h.fire(timer) == []


def test_second_cancel_is_ignored():
    h = Harness(flow(script("a", "1")))
    h.start({})
    h.cancel()
    assert h.cancel() == []


def test_cancel_after_success_is_ignored():
    h = run_flow(flow(script("a", "1")))
    assert h.cancel() == []
    assert h.view["status"] == "success"


def test_restart_reuses_results_of_earlier_steps():
    doc = flow(script("a", "'A'"), script("b", "p + '!'", {"p": "previous_result"}), script("c", "x", {"x": "results.a"}))
    h = Harness(doc)
    actions = h.start({}, restart={"from": "b", "results": {"a": "old A"}})
    assert [a["step_key"] for a in actions if a["type"] == "RunScript"] == ["b"]
    assert actions[0]["args"] == {"p": "old A"}
    h.drive()
    assert h.view["result"] == "old A"
    assert h.scripts_run() == ["b", "c"]
    assert h.step("a")["status"] == "success" and h.step("a")["result"] == "old A"


def test_restart_from_first_step_runs_everything():
    h = Harness(flow(script("a", "1"), script("b", "2")))
    h.start({}, restart={"from": "a", "results": {}})
    h.drive()
    assert h.scripts_run() == ["a", "b"]


def test_restart_from_unknown_step_fails_the_run():
    h = Harness(flow(script("a", "1")))
    h.start({}, restart={"from": "zzz", "results": {}})
    assert h.view["status"] == "failure"
    assert "zzz" in h.view["result"]["error"]["message"]


def test_duplicate_run_started_is_ignored():
    h = Harness(flow(script("a", "1")))
    h.start({})
    state = h.state
    assert h.start({}) == []
    assert h.state == state
